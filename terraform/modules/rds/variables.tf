variable "name" {
  description = "Identifier of the instance and the proxy, e.g. stockroom-staging."
  type        = string
}

variable "vpc_id" {
  description = "VPC ID."
  type        = string
}

variable "subnet_ids" {
  description = "Isolated subnets for the instance and the proxy."
  type        = list(string)
}

variable "app_security_group_id" {
  description = "Security group of the ECS tasks (allowed to the proxy and the instance)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights, the master secret and the log groups."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL version (16.x or 17.x)."
  type        = string
}

variable "parameter_group_family" {
  description = "Parameter group family matching engine_version, e.g. postgres17."
  type        = string
}

variable "instance_class" {
  description = "Instance class of the primary."
  type        = string
}

variable "allocated_storage_gb" {
  description = "Initial storage."
  type        = number
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling."
  type        = number
}

variable "database_name" {
  description = "Name of the app's database (created by create_db_roles, not by RDS)."
  type        = string
  default     = "stockroom"
}

variable "master_username" {
  description = "RDS master user (its password lives in the RDS-managed secret)."
  type        = string
  default     = "stockroom_admin"
}

variable "iam_database_authentication" {
  description = "Allow IAM database authentication (the app uses passwords; IAM auth is for people)."
  type        = bool
  default     = true
}

variable "multi_az" {
  description = "Synchronous standby in a second AZ."
  type        = bool
}

variable "backup_retention_days" {
  description = "Automated backups kept (point-in-time recovery window), 1-35."
  type        = number
}

variable "deletion_protection" {
  description = "Refuse to delete the instances."
  type        = bool
  default     = true
}

variable "log_min_duration_ms" {
  description = "Statements slower than this are logged."
  type        = number
  default     = 500
}

variable "log_retention_days" {
  description = "Retention of the exported PostgreSQL logs."
  type        = number
}

variable "replica_enabled" {
  description = "Create a read replica for reports and exports."
  type        = bool
}

variable "replica_instance_class" {
  description = "Instance class of the read replica."
  type        = string
}

variable "proxy_secret_arns" {
  description = "RDS Proxy credential secrets by role (runtime, ops, owner)."
  type        = map(string)
}

variable "proxy_max_connections_percent" {
  description = "Share of the instance's max_connections the proxy may open."
  type        = number
  default     = 80
}

variable "vpc_cidr_block" {
  description = "The VPC's CIDR block: the proxy reaches the Secrets Manager endpoint there."
  type        = string
}
