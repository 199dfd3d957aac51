# Values every operator sets (operator.tfvars, docs/deploy.md): no defaults.
variable "domain_name" {
  description = "Host name of this environment, e.g. staging.stockroom.example."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name in var.region."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository allowed to deploy, owner/name."
  type        = string
}

# Values with the environment's defaults in terraform.tfvars.
variable "region" {
  description = "AWS region."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "Existing GitHub OIDC provider of the account (the other environment's output), or null to create it."
  type        = string
  default     = null
}

variable "initial_image" {
  description = "Image of the first task definitions (null: the environment's repository, tag bootstrap)."
  type        = string
  default     = null
}

variable "sentry_enabled" {
  description = "Send errors to Sentry: the secret SENTRY_DSN must hold the DSN. false: no SENTRY_DSN in the containers."
  type        = bool
  default     = true
}

variable "release_creates_db_roles" {
  description = "Release task runs create_db_roles (needs a fresh DATABASE_ADMIN_URL): on for the first deploy and role password changes, then off."
  type        = bool
  default     = false
}

variable "alarm_emails" {
  description = "Addresses that get the alarms."
  type        = list(string)
  default     = []
}

variable "static_aliases" {
  description = "Custom host names of the static-files distribution."
  type        = list(string)
  default     = []
}

variable "static_certificate_arn" {
  description = "ACM certificate in us-east-1 for static_aliases."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Deletion protection on the ALB and the databases."
  type        = bool
}

variable "log_retention_days" {
  description = "CloudWatch log retention."
  type        = number
}

variable "access_log_retention_days" {
  description = "Access log retention in S3."
  type        = number
}

variable "secret_recovery_window_days" {
  description = "Recovery window of deleted secrets."
  type        = number
}

variable "vpc_cidr_block" {
  description = "VPC range (/16)."
  type        = string
}

variable "availability_zones" {
  description = "Two availability zones of var.region."
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs."
  type        = bool
}

variable "waf_rate_limit" {
  description = "Requests per IP per 5 minutes."
  type        = number
}

variable "files_noncurrent_version_days" {
  description = "Days old file versions are kept."
  type        = number
}

variable "export_retention_days" {
  description = "Days exports are kept."
  type        = number
}

variable "task_sizes" {
  description = "Fargate CPU units and memory (MiB) by kind."
  type        = map(object({ cpu = number, memory = number }))
}

variable "web_scaling" {
  description = "Web autoscaling."
  type = object({
    min                 = number
    max                 = number
    cpu_target          = number
    requests_per_target = number
  })
}

variable "worker_scaling" {
  description = "Worker autoscaling on queue depth."
  type = object({
    min                = number
    max                = number
    queue_scale_out_at = number
    queue_scale_in_at  = number
  })
}

variable "queue_depth_alarm" {
  description = "Queue depth that raises the alarm."
  type        = number
}

variable "postgres_engine_version" {
  description = "PostgreSQL version."
  type        = string
}

variable "postgres_parameter_group_family" {
  description = "Parameter group family."
  type        = string
}

variable "rds_instance_class" {
  description = "Primary instance class."
  type        = string
}

variable "rds_allocated_storage_gb" {
  description = "Initial storage."
  type        = number
}

variable "rds_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling."
  type        = number
}

variable "rds_free_storage_alarm_gb" {
  description = "Free storage alarm threshold."
  type        = number
}

variable "rds_multi_az" {
  description = "Multi-AZ standby."
  type        = bool
}

variable "rds_backup_retention_days" {
  description = "Backup retention (PITR window)."
  type        = number
}

variable "rds_replica_enabled" {
  description = "Read replica on."
  type        = bool
}

variable "rds_replica_instance_class" {
  description = "Read replica instance class."
  type        = string
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "redis_multi_az" {
  description = "Redis replica with automatic failover."
  type        = bool
}

variable "redis_snapshot_retention_days" {
  description = "Redis snapshots kept."
  type        = number
}

variable "app_settings" {
  description = "More plain settings for every container (no secrets): DEFAULT_FROM_EMAIL, STRIPE_PRICE_STARTER, STRIPE_PRICE_PRO, STRIPE_PRICE_ENTERPRISE, BILLING_METER_EVENT_NAME, ... (README's variables)."
  type        = map(string)
  default     = {}
}
