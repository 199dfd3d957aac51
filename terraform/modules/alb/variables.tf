variable "name" {
  description = "Resource name prefix, e.g. stockroom-staging (at most 26 characters: target group names add -web)."
  type        = string
}

variable "vpc_id" {
  description = "VPC ID."
  type        = string
}

variable "vpc_cidr_block" {
  description = "VPC range (the ALB's egress to the tasks)."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets, one per AZ."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate (same region) for the HTTPS listener."
  type        = string
}

variable "app_port" {
  description = "Port the web containers listen on."
  type        = number
  default     = 8000
}

variable "access_logs_bucket" {
  description = "SSE-S3 bucket for access logs (prefix alb/)."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the ALB."
  type        = bool
  default     = true
}

variable "waf_rate_limit" {
  description = "Requests per client IP per 5 minutes before WAF blocks it."
  type        = number
}

variable "kms_key_arn" {
  description = "KMS key for the WAF log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the WAF logs."
  type        = number
}
