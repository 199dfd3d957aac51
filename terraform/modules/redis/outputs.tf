output "primary_endpoint" {
  description = "Primary endpoint host (REDIS_URL: rediss://:<token>@<host>:6379/0?ssl_cert_reqs=required)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "replication_group_id" {
  description = "Replication group ID (CloudWatch dimension, auth-token rotation)."
  value       = aws_elasticache_replication_group.this.id
}
