output "alb_arn_suffix" {
  description = "ARN suffix of the ALB (CloudWatch dimension LoadBalancer)."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the ALB (point the app's host name at it: alias A/AAAA record)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Hosted zone of the ALB (for an alias record)."
  value       = aws_lb.this.zone_id
}

output "security_group_id" {
  description = "The ALB's security group."
  value       = aws_security_group.alb.id
}

output "target_group_arn" {
  description = "Target group of the web service."
  value       = aws_lb_target_group.web.arn
  # ECS refuses a target group that no listener forwards to yet.
  depends_on = [aws_lb_listener.https]
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (CloudWatch dimension TargetGroup)."
  value       = aws_lb_target_group.web.arn_suffix
}

output "https_listener_arn" {
  description = "HTTPS listener (the web service depends on it)."
  value       = aws_lb_listener.https.arn
}
