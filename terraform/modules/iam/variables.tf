variable "name" {
  description = "Resource name prefix, e.g. stockroom-staging (also the ECS service and family prefix)."
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster name."
  type        = string
}

variable "ecr_repository_arn" {
  description = "The environment's image repository."
  type        = string
}

variable "files_bucket_arn" {
  description = "Bucket of imports, exports and media."
  type        = string
}

variable "static_bucket_arn" {
  description = "Bucket of the static files (the deploy syncs them)."
  type        = string
}

variable "kms_key_arn" {
  description = "The environment's KMS key."
  type        = string
}

variable "secret_arns" {
  description = "Secrets the execution role injects into containers."
  type        = list(string)
}

variable "log_group_arns" {
  description = "Log group ARNs by container kind (web, worker, beat, release)."
  type        = map(string)
}

variable "github_repository" {
  description = "GitHub repository allowed to deploy, owner/name."
  type        = string
}

variable "github_environment" {
  description = "GitHub environment whose jobs may assume the deploy role."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "Existing GitHub OIDC provider of the account (one per account); null creates it."
  type        = string
  default     = null
}
