output "state_bucket" {
  description = "State bucket: put it in environments/<env>/backend.hcl."
  value       = aws_s3_bucket.state.id
}

output "backend_hcl" {
  description = "Contents of environments/<env>/backend.hcl."
  value       = "bucket = \"${aws_s3_bucket.state.id}\"\nregion = \"${var.region}\"\n"
}
