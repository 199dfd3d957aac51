output "app_secret_arns" {
  description = "Secret ARN by environment-variable name."
  value       = { for key, secret in aws_secretsmanager_secret.app : key => secret.arn }
}

output "proxy_secret_arns" {
  description = "RDS Proxy credential secret ARN by role (runtime, ops, owner)."
  value       = { for key, secret in aws_secretsmanager_secret.proxy : key => secret.arn }
}
