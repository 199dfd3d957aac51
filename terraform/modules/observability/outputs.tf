output "log_group_names" {
  description = "Container log group name by kind (web, worker, beat, release)."
  value       = { for kind, group in aws_cloudwatch_log_group.app : kind => group.name }
}

output "log_group_arns" {
  description = "Container log group ARN by kind."
  value       = { for kind, group in aws_cloudwatch_log_group.app : kind => group.arn }
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
