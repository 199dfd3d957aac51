variable "name" {
  description = "Replication group ID, e.g. stockroom-staging."
  type        = string
}

variable "environment" {
  description = "Environment name (log group path)."
  type        = string
}

variable "vpc_id" {
  description = "VPC ID."
  type        = string
}

variable "subnet_ids" {
  description = "Isolated subnets, one per AZ."
  type        = list(string)
}

variable "app_security_group_id" {
  description = "Security group of the ECS tasks."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for data at rest and the slow-log group."
  type        = string
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

variable "parameter_group_name" {
  description = "Parameter group (the default for the engine version)."
  type        = string
  default     = "default.redis7"
}

variable "node_type" {
  description = "Cache node type."
  type        = string
}

variable "multi_az" {
  description = "A replica in the second AZ with automatic failover."
  type        = bool
}

variable "snapshot_retention_days" {
  description = "Daily snapshots kept."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of the slow log."
  type        = number
}
