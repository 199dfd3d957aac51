variable "name" {
  description = "Resource name prefix, e.g. stockroom-staging."
  type        = string
}

variable "environment" {
  description = "Environment name (staging or production)."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's IPv4 range (a /16: it is cut into /20 subnets)."
  type        = string
}

variable "availability_zones" {
  description = "Exactly two availability zones."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) == 2
    error_message = "Give exactly two availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper, staging) instead of one per AZ."
  type        = bool
}

variable "kms_key_arn" {
  description = "KMS key for the flow-log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the VPC flow logs (rejected traffic)."
  type        = number
}
