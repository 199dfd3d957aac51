variable "name" {
  description = "Resource name prefix, e.g. stockroom-staging (bucket names add the account ID)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the files bucket (SSE-KMS)."
  type        = string
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted file version is kept (the undo window)."
  type        = number
}

variable "export_retention_days" {
  description = "Days an export under exports/ is kept."
  type        = number
}

variable "log_retention_days" {
  description = "Days access logs (S3, ALB, CloudFront) are kept."
  type        = number
}

variable "static_aliases" {
  description = "Extra host names for the static-files distribution (need static_certificate_arn)."
  type        = list(string)
  default     = []
}

variable "static_certificate_arn" {
  description = "ACM certificate in us-east-1 for static_aliases; null uses *.cloudfront.net."
  type        = string
  default     = null
}

variable "cors_allowed_origins" {
  description = "Origins whose pages load the static files (the app's URL): CORS for fonts and module scripts."
  type        = list(string)

  validation {
    condition     = length(var.cors_allowed_origins) > 0
    error_message = "Name at least the app's own origin."
  }
}
