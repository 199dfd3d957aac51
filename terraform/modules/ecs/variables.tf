variable "name" {
  description = "Name prefix of services and task-definition families, e.g. stockroom-staging."
  type        = string
}

variable "environment" {
  description = "Environment name (dimension of the Stockroom metrics)."
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster name."
  type        = string
}

variable "image" {
  description = "Image of the first task-definition revisions (CI registers the later ones)."
  type        = string
}

variable "app_port" {
  description = "Port of the web container."
  type        = number
  default     = 8000
}

variable "vpc_id" {
  description = "VPC ID."
  type        = string
}

variable "vpc_cidr_block" {
  description = "VPC range (egress to PostgreSQL and Redis)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "ALB security group (allowed to the web port)."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ALB ARN suffix (request-count scaling)."
  type        = string
}

variable "target_group_arn" {
  description = "Target group of the web service."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "Target group ARN suffix (request-count scaling)."
  type        = string
}

variable "execution_role_arn" {
  description = "Task execution role."
  type        = string
}

variable "task_role_arns" {
  description = "Task role by kind (web, worker, beat, release)."
  type        = map(string)
}

variable "log_group_names" {
  description = "Log group by kind (web, worker, beat, release)."
  type        = map(string)
}

variable "environment_variables" {
  description = "Plain environment variables of every container."
  type        = map(string)
}

variable "kind_environment_variables" {
  description = "Plain environment variables of one kind of container (web, worker, beat, release), on top of environment_variables."
  type        = map(map(string))
  default     = {}
}

variable "secrets" {
  description = "By kind: environment variable name => Secrets Manager secret ARN."
  type        = map(map(string))
}

variable "sizes" {
  description = "Fargate CPU units and memory (MiB) by kind (web, worker, beat, release)."
  type        = map(object({ cpu = number, memory = number }))
}

variable "web_scaling" {
  description = "Web tasks: min, max, target CPU (%), target requests per task per minute."
  type = object({
    min                 = number
    max                 = number
    cpu_target          = number
    requests_per_target = number
  })
}

variable "worker_scaling" {
  description = "Worker tasks: min, max, queue depth that adds tasks and that removes one."
  type = object({
    min                = number
    max                = number
    queue_scale_out_at = number
    queue_scale_in_at  = number
  })
}
