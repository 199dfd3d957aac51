output "files_bucket_name" {
  description = "Private bucket for imports, exports and media (AWS_STORAGE_BUCKET_NAME)."
  value       = aws_s3_bucket.files.id
}

output "files_bucket_arn" {
  description = "ARN of the files bucket."
  value       = aws_s3_bucket.files.arn
}

output "logs_bucket_name" {
  description = "Access-log bucket (ALB logs go under alb/)."
  value       = aws_s3_bucket.logs.id
  # The ALB checks at creation that it may write there.
  depends_on = [aws_s3_bucket_policy.logs]
}

output "static_bucket_name" {
  description = "Bucket the deploy syncs collected static files into."
  value       = aws_s3_bucket.static.id
}

output "static_bucket_arn" {
  description = "ARN of the static bucket."
  value       = aws_s3_bucket.static.arn
}

output "static_distribution_id" {
  description = "CloudFront distribution ID (for invalidations)."
  value       = aws_cloudfront_distribution.static.id
}

output "static_distribution_arn" {
  description = "CloudFront distribution ARN."
  value       = aws_cloudfront_distribution.static.arn
}

output "static_url" {
  description = "Base URL of the static files."
  value       = "https://${aws_cloudfront_distribution.static.domain_name}/"
}
