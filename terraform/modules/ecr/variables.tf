variable "name" {
  description = "Repository name, e.g. stockroom-staging."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for image encryption."
  type        = string
}

variable "keep_images" {
  description = "How many images to keep (the oldest beyond this expire)."
  type        = number
  default     = 50
}

variable "untagged_expiry_days" {
  description = "Days before an untagged image expires."
  type        = number
  default     = 7
}
