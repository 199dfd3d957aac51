# ECS on Fargate: the cluster (Container Insights), the web, worker and beat services and the
# one-off release task definition (`release`: create_db_roles when DATABASE_ADMIN_URL is set, then
# migrate as the owner). Every container runs the same image with the entrypoint argument naming
# its kind. Terraform registers the first revision with var.image; from then on CI registers new
# revisions and updates the services, so the services ignore task-definition changes.
data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name
  kinds  = toset(["web", "worker", "beat", "release"])

  # Every container's variables, plus its own kind's (which win).
  environment = {
    for kind in local.kinds : kind => [
      for key, value in merge(var.environment_variables, lookup(var.kind_environment_variables, kind, {})) :
      { name = key, value = value }
    ]
  }

  containers = {
    for kind in local.kinds : kind => merge(
      {
        name        = kind
        image       = var.image
        essential   = true
        command     = [kind]
        environment = local.environment[kind]
        secrets = [
          for key in sort(keys(var.secrets[kind])) : { name = key, valueFrom = var.secrets[kind][key] }
        ]
        # The image writes only to /tmp (a task-local volume): everything else is read-only.
        readonlyRootFilesystem = true
        mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
        stopTimeout            = kind == "worker" ? 120 : 30
        logConfiguration = {
          logDriver = "awslogs"
          options = {
            awslogs-group         = var.log_group_names[kind]
            awslogs-region        = local.region
            awslogs-stream-prefix = kind
          }
        }
      },
      # The web container alone publishes the port and has a health check.
      [for web in [kind] : {
        portMappings = [{ containerPort = var.app_port, protocol = "tcp" }]
        healthCheck = {
          # The image's own HEALTHCHECK script (GET /healthz on 127.0.0.1), which ECS does not run by itself.
          command     = ["CMD", "python", "scripts/container-healthcheck.py"]
          interval    = 15
          timeout     = 5
          retries     = 3
          startPeriod = 30
        }
      } if web == "web"]...
    )
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.cluster_name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "ECS tasks: HTTP from the ALB; out to HTTPS/HTTP, PostgreSQL and Redis"
  vpc_id      = var.vpc_id
  tags        = { Name = "${var.name}-tasks" }
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "HTTP from the ALB"
  referenced_security_group_id = var.alb_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
}

# Out: HTTPS anywhere (Stripe, Sentry, customers' webhook URLs, AWS endpoints), HTTP for webhook
# URLs that use it, and the data stores inside the VPC.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS out"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "http" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTP out (webhook URLs)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "postgres" {
  security_group_id = aws_security_group.tasks.id
  description       = "PostgreSQL (RDS Proxy, the instance, the replica)"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}

resource "aws_vpc_security_group_egress_rule" "redis" {
  security_group_id = aws_security_group.tasks.id
  description       = "Redis"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = 6379
  to_port           = 6379
}

resource "aws_ecs_task_definition" "this" {
  for_each                 = local.kinds
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.sizes[each.key].cpu
  memory                   = var.sizes[each.key].memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arns[each.key]
  container_definitions    = jsonencode([local.containers[each.key]])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "tmp"
  }

  # CI registers the revisions that follow; a destroy or replace must not deregister them.
  skip_destroy = true
}

resource "aws_ecs_service" "web" {
  name                               = "${var.name}-web"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this["web"].arn
  desired_count                      = var.web_scaling.min
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  health_check_grace_period_seconds  = 60
  propagate_tags                     = "SERVICE"
  enable_ecs_managed_tags            = true
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "web"
    container_port   = var.app_port
  }

  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

resource "aws_ecs_service" "worker" {
  name                               = "${var.name}-worker"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this["worker"].arn
  desired_count                      = var.worker_scaling.min
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  propagate_tags                     = "SERVICE"
  enable_ecs_managed_tags            = true
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

# Exactly one beat: a deployment stops the old task before starting the new one (minimum 0 %,
# maximum 100 %), so two schedulers never run at once.
resource "aws_ecs_service" "beat" {
  name                               = "${var.name}-beat"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this["beat"].arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  propagate_tags                     = "SERVICE"
  enable_ecs_managed_tags            = true
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [task_definition]
  }
}

# ---------------------------------------------------------------- autoscaling: web
resource "aws_appautoscaling_target" "web" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.web.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.web_scaling.min
  max_capacity       = var.web_scaling.max
}

resource "aws_appautoscaling_policy" "web_cpu" {
  name               = "${var.name}-web-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.web_scaling.cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "web_requests" {
  name               = "${var.name}-web-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.web_scaling.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}

# ---------------------------------------------------------------- autoscaling: worker on queue depth
# Step scaling on Stockroom/QueueDepth (messages waiting in all Celery queues, published by beat
# every 60 s): out by 1-3 tasks as the backlog grows, in by 1 after a quiet quarter of an hour.
resource "aws_appautoscaling_target" "worker" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.worker.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.worker_scaling.min
  max_capacity       = var.worker_scaling.max
}

resource "aws_appautoscaling_policy" "worker_out" {
  name               = "${var.name}-worker-queue-out"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  resource_id        = aws_appautoscaling_target.worker.resource_id
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = 120
    metric_aggregation_type = "Maximum"

    # Bounds are relative to the alarm threshold (queue_scale_out_at).
    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = var.worker_scaling.queue_scale_out_at * 4
      scaling_adjustment          = 1
    }
    step_adjustment {
      metric_interval_lower_bound = var.worker_scaling.queue_scale_out_at * 4
      metric_interval_upper_bound = var.worker_scaling.queue_scale_out_at * 19
      scaling_adjustment          = 2
    }
    step_adjustment {
      metric_interval_lower_bound = var.worker_scaling.queue_scale_out_at * 19
      scaling_adjustment          = 3
    }
  }
}

resource "aws_appautoscaling_policy" "worker_in" {
  name               = "${var.name}-worker-queue-in"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  resource_id        = aws_appautoscaling_target.worker.resource_id
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = 300
    metric_aggregation_type = "Maximum"

    step_adjustment {
      metric_interval_upper_bound = 0
      scaling_adjustment          = -1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "worker_queue_high" {
  alarm_name          = "${var.name}-worker-queue-high"
  alarm_description   = "Scale workers out: more than ${var.worker_scaling.queue_scale_out_at} Celery messages waiting for 2 minutes"
  namespace           = "Stockroom"
  metric_name         = "QueueDepth"
  dimensions          = { Environment = var.environment }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.worker_scaling.queue_scale_out_at
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.worker_out.arn]
}

resource "aws_cloudwatch_metric_alarm" "worker_queue_low" {
  alarm_name          = "${var.name}-worker-queue-low"
  alarm_description   = "Scale workers in: at most ${var.worker_scaling.queue_scale_in_at} Celery messages waiting for 15 minutes"
  namespace           = "Stockroom"
  metric_name         = "QueueDepth"
  dimensions          = { Environment = var.environment }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 15
  comparison_operator = "LessThanOrEqualToThreshold"
  threshold           = var.worker_scaling.queue_scale_in_at
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.worker_in.arn]
}
