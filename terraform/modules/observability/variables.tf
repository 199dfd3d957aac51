variable "name" {
  description = "Resource name prefix, e.g. stockroom-staging."
  type        = string
}

variable "environment" {
  description = "Environment name: the Environment dimension of the Stockroom metrics."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the log groups and the topic."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the container logs."
  type        = number
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each confirms by email)."
  type        = list(string)
  default     = []
}

variable "cluster_name" {
  description = "ECS cluster name."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ALB ARN suffix."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "Web target group ARN suffix."
  type        = string
}

variable "rds_instance_identifier" {
  description = "Primary database instance."
  type        = string
}

variable "rds_proxy_name" {
  description = "RDS Proxy name."
  type        = string
}

variable "redis_replication_group_id" {
  description = "ElastiCache replication group."
  type        = string
}

variable "alb_5xx_rate_percent" {
  description = "Alarm: share of 5xx answers (%)."
  type        = number
  default     = 2
}

variable "p95_latency_seconds" {
  description = "Alarm: p95 target response time (s)."
  type        = number
  default     = 1
}

variable "queue_depth_threshold" {
  description = "Alarm: Celery messages waiting."
  type        = number
  default     = 1000
}

variable "outbox_lag_seconds" {
  description = "Alarm: age of the oldest unrelayed domain event (s)."
  type        = number
  default     = 300
}

variable "webhook_failures_per_15m" {
  description = "Alarm: failed webhook deliveries in 15 minutes."
  type        = number
  default     = 50
}

variable "rds_cpu_percent" {
  description = "Alarm: database CPU (%)."
  type        = number
  default     = 80
}

variable "rds_free_storage_gb" {
  description = "Alarm: database free storage (GB)."
  type        = number
}

variable "proxy_pinned_sessions" {
  description = "Alarm: sessions pinned by RDS Proxy."
  type        = number
  default     = 5
}
