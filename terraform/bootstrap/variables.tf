variable "region" {
  description = "Region of the state bucket (use the environments' region)."
  type        = string
  default     = "eu-west-1"
}
