output "cluster_name" {
  description = "ECS cluster (ECS_CLUSTER)."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "Service name by kind (web, worker, beat)."
  value = {
    web    = aws_ecs_service.web.name
    worker = aws_ecs_service.worker.name
    beat   = aws_ecs_service.beat.name
  }
}

output "release_task_family" {
  description = "Family of the one-off release task (ECS_RELEASE_TASK_FAMILY)."
  value       = aws_ecs_task_definition.this["release"].family
}

output "tasks_security_group_id" {
  description = "Security group of every task."
  value       = aws_security_group.tasks.id
}
