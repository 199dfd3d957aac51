output "instance_identifier" {
  description = "Identifier of the primary (CloudWatch dimension DBInstanceIdentifier)."
  value       = aws_db_instance.primary.identifier
}

output "instance_address" {
  description = "Host name of the primary (release task: DATABASE_ADMIN_URL, DATABASE_OWNER_URL)."
  value       = aws_db_instance.primary.address
}

output "instance_arn" {
  description = "ARN of the primary."
  value       = aws_db_instance.primary.arn
}

output "database_name" {
  description = "Database name."
  value       = var.database_name
}

output "master_user_secret_arn" {
  description = "Secret (managed by RDS) holding the master user's username and password."
  value       = aws_db_instance.primary.master_user_secret[0].secret_arn
}

output "proxy_endpoint" {
  description = "RDS Proxy endpoint (DATABASE_URL, DATABASE_OPS_URL)."
  value       = aws_db_proxy.this.endpoint
}

output "proxy_name" {
  description = "RDS Proxy name (CloudWatch dimension ProxyName)."
  value       = aws_db_proxy.this.name
}

output "replica_address" {
  description = "Host name of the read replica for reports and exports (null when disabled)."
  value       = var.replica_enabled ? aws_db_instance.replica[0].address : null
}
