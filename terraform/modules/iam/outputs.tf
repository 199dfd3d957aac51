output "execution_role_arn" {
  description = "Task execution role."
  value       = aws_iam_role.execution.arn
}

output "task_role_arns" {
  description = "Task role ARN by container kind (web, worker, beat, release)."
  value       = { for kind, role in aws_iam_role.task : kind => role.arn }
}

output "deploy_role_arn" {
  description = "Role GitHub Actions assumes (AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.deploy.arn
}

output "github_oidc_provider_arn" {
  description = "GitHub OIDC provider ARN (pass it to the other environment when it shares the account)."
  value       = local.oidc_provider_arn
}
