output "vpc_id" {
  description = "VPC ID."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "VPC IPv4 range."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (ALB, NAT)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (ECS tasks)."
  value       = aws_subnet.private[*].id
}

output "isolated_subnet_ids" {
  description = "Isolated subnets (RDS, RDS Proxy, ElastiCache)."
  value       = aws_subnet.isolated[*].id
}

output "nat_public_ips" {
  description = "Egress IPs of the NAT gateways (what webhook receivers and Stripe see)."
  value       = aws_eip.nat[*].public_ip
}
