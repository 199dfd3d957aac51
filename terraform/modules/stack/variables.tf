variable "environment" {
  description = "staging or production."
  type        = string
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment is staging or production."
  }
}

variable "domain_name" {
  description = "Host name the app serves (ALLOWED_HOSTS; the ACM certificate must cover it)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, in the environment's region."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose deploy workflow may assume the deploy role."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "The account's GitHub OIDC provider when another environment already created it; null creates it."
  type        = string
  default     = null
}

variable "initial_image" {
  description = "Image of the first task definitions; null means <repository URL>:<initial_image_tag>. CI owns it afterwards."
  type        = string
  default     = null
}

variable "initial_image_tag" {
  description = "Tag used with the environment's own repository when initial_image is null."
  type        = string
  default     = "bootstrap"
}

variable "sentry_enabled" {
  description = "Inject SENTRY_DSN (its secret must then hold the DSN)."
  type        = bool
  default     = true
}

variable "release_creates_db_roles" {
  description = "Give the release task DATABASE_ADMIN_URL, so that it runs create_db_roles before migrate (first deploy, role password changes)."
  type        = bool
  default     = false
}

variable "extra_environment_variables" {
  description = "More plain environment variables for every container (no secrets here)."
  type        = map(string)
  default     = {}
}

variable "alarm_emails" {
  description = "Addresses that get the alarms."
  type        = list(string)
  default     = []
}

variable "deletion_protection" {
  description = "Deletion protection on the ALB and the databases."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "CloudWatch log retention."
  type        = number
}

variable "access_log_retention_days" {
  description = "Days S3/ALB/CloudFront access logs are kept."
  type        = number
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored."
  type        = number
}

# Network
variable "vpc_cidr_block" {
  description = "VPC range (/16)."
  type        = string
}

variable "availability_zones" {
  description = "Two availability zones."
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per AZ."
  type        = bool
}

variable "waf_rate_limit" {
  description = "Requests per client IP per 5 minutes before WAF blocks it."
  type        = number
}

# Files
variable "files_noncurrent_version_days" {
  description = "Days old versions of files are kept."
  type        = number
}

variable "export_retention_days" {
  description = "Days exports are kept."
  type        = number
}

variable "static_aliases" {
  description = "Custom host names of the static-files distribution."
  type        = list(string)
  default     = []
}

variable "static_certificate_arn" {
  description = "ACM certificate (us-east-1) for static_aliases."
  type        = string
  default     = null
}

# ECS
variable "task_sizes" {
  description = "Fargate CPU units and memory (MiB) by kind (web, worker, beat, release)."
  type        = map(object({ cpu = number, memory = number }))
}

variable "web_scaling" {
  description = "Web autoscaling: min, max, cpu_target (%), requests_per_target (per task per minute)."
  type = object({
    min                 = number
    max                 = number
    cpu_target          = number
    requests_per_target = number
  })
}

variable "worker_scaling" {
  description = "Worker autoscaling: min, max, queue_scale_out_at, queue_scale_in_at (messages waiting)."
  type = object({
    min                = number
    max                = number
    queue_scale_out_at = number
    queue_scale_in_at  = number
  })
}

variable "queue_depth_alarm" {
  description = "Messages waiting that page someone."
  type        = number
}

# Database
variable "postgres_engine_version" {
  description = "PostgreSQL version."
  type        = string
}

variable "postgres_parameter_group_family" {
  description = "Parameter group family of that version, e.g. postgres17."
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
  description = "Free storage that raises an alarm."
  type        = number
}

variable "rds_multi_az" {
  description = "Multi-AZ standby."
  type        = bool
}

variable "rds_backup_retention_days" {
  description = "Automated backups kept (PITR window)."
  type        = number
}

variable "rds_replica_enabled" {
  description = "Create the read replica."
  type        = bool
}

variable "rds_replica_instance_class" {
  description = "Read replica instance class."
  type        = string
}

# Redis
variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "redis_multi_az" {
  description = "Replica in the second AZ with automatic failover."
  type        = bool
}

variable "redis_snapshot_retention_days" {
  description = "Daily Redis snapshots kept."
  type        = number
}
