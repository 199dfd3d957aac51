output "github_environment_variables" {
  description = "Set these as variables of the GitHub environment of the same name (docs/deploy.md)."
  value       = module.stockroom.github_environment_variables
}

output "alb_dns_name" {
  description = "Point the app's host name at this (alias record)."
  value       = module.stockroom.alb_dns_name
}

output "alb_zone_id" {
  description = "Hosted zone of the ALB for the alias record."
  value       = module.stockroom.alb_zone_id
}

output "database" {
  description = "Database endpoints and the RDS-managed master secret."
  value       = module.stockroom.database
}

output "redis_primary_endpoint" {
  description = "Redis primary endpoint."
  value       = module.stockroom.redis_primary_endpoint
}

output "redis_replication_group_id" {
  description = "Redis replication group ID."
  value       = module.stockroom.redis_replication_group_id
}

output "secret_arns" {
  description = "Secrets to fill before the first deploy."
  value       = module.stockroom.secret_arns
}

output "files_bucket_name" {
  description = "Imports, exports and media bucket."
  value       = module.stockroom.files_bucket_name
}

output "static" {
  description = "Static files bucket and CloudFront distribution."
  value       = module.stockroom.static
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.stockroom.alarm_topic_arn
}

output "github_oidc_provider_arn" {
  description = "The account's GitHub OIDC provider."
  value       = module.stockroom.github_oidc_provider_arn
}
