output "github_environment_variables" {
  description = "Variables of the GitHub environment of the same name (vars.* in the deploy workflow)."
  value = {
    AWS_REGION              = local.region
    AWS_DEPLOY_ROLE_ARN     = module.iam.deploy_role_arn
    ECR_REPOSITORY_URL      = module.ecr.repository_url
    ECS_CLUSTER             = module.ecs.cluster_name
    ECS_WEB_SERVICE         = module.ecs.service_names["web"]
    ECS_WORKER_SERVICE      = module.ecs.service_names["worker"]
    ECS_BEAT_SERVICE        = module.ecs.service_names["beat"]
    ECS_RELEASE_TASK_FAMILY = module.ecs.release_task_family
    APP_URL                 = local.app_url
    STATIC_BUCKET           = module.s3.static_bucket_name
  }
}

output "alb_dns_name" {
  description = "Point domain_name at this (alias record)."
  value       = module.alb.alb_dns_name
}

output "alb_zone_id" {
  description = "Hosted zone of the ALB, for the alias record."
  value       = module.alb.alb_zone_id
}

output "database" {
  description = "Where the database URLs point (docs/deploy.md builds the secrets from these)."
  value = {
    name                   = module.rds.database_name
    instance_address       = module.rds.instance_address
    proxy_endpoint         = module.rds.proxy_endpoint
    replica_address        = module.rds.replica_address
    master_user_secret_arn = module.rds.master_user_secret_arn
    instance_identifier    = module.rds.instance_identifier
  }
}

output "redis_primary_endpoint" {
  description = "Redis primary endpoint (REDIS_URL)."
  value       = module.redis.primary_endpoint
}

output "redis_replication_group_id" {
  description = "Redis replication group (auth-token rotation)."
  value       = module.redis.replication_group_id
}

output "secret_arns" {
  description = "Secret ARN by name: the app's, and the RDS Proxy credentials (rds-proxy/<role>)."
  value = merge(
    module.secrets.app_secret_arns,
    { for role, arn in module.secrets.proxy_secret_arns : "rds-proxy/${role}" => arn },
  )
}

output "files_bucket_name" {
  description = "Imports, exports and media bucket."
  value       = module.s3.files_bucket_name
}

output "static" {
  description = "Static files: bucket to sync into, distribution and its URL."
  value = {
    bucket          = module.s3.static_bucket_name
    distribution_id = module.s3.static_distribution_id
    url             = module.s3.static_url
  }
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.observability.alarm_topic_arn
}

output "github_oidc_provider_arn" {
  description = "GitHub OIDC provider (give it to the other environment if it shares the account)."
  value       = module.iam.github_oidc_provider_arn
}
