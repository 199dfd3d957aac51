# Log groups of the containers, the alarm topic, the alarms and the dashboard of one environment.
# The Stockroom/* metrics come from the app itself: beat (a thread of its own) prints CloudWatch Embedded Metric
# Format lines every 60 s (namespace Stockroom, dimension Environment) and the awslogs driver turns
# them into metrics.
data "aws_region" "current" {}

locals {
  kinds      = toset(["web", "worker", "beat", "release"])
  region     = data.aws_region.current.name
  app_dims   = { Environment = var.environment }
  alarm_arns = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_log_group" "app" {
  for_each          = local.kinds
  name              = "/stockroom/${var.environment}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# ---------------------------------------------------------------- load balancer
resource "aws_cloudwatch_metric_alarm" "alb_5xx_rate" {
  alarm_name          = "${var.name}-alb-5xx-rate"
  alarm_description   = "More than ${var.alb_5xx_rate_percent}% of requests answered 5xx (target or ALB) in 3 of 5 minutes"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alb_5xx_rate_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_arns
  ok_actions          = local.alarm_arns

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
    label       = "5xx rate (%)"
    return_data = true
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id = "target5xx"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id = "elb5xx"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "p95_latency" {
  alarm_name          = "${var.name}-p95-latency"
  alarm_description   = "p95 target response time above ${var.p95_latency_seconds} s for 5 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  extended_statistic  = "p95"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.p95_latency_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_arns
  ok_actions          = local.alarm_arns
}

# ---------------------------------------------------------------- the app's own metrics
resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  alarm_name          = "${var.name}-queue-depth"
  alarm_description   = "More than ${var.queue_depth_threshold} Celery messages waiting for 10 minutes (workers at their maximum or stuck)"
  namespace           = "Stockroom"
  metric_name         = "QueueDepth"
  dimensions          = local.app_dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 10
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.queue_depth_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_arns
  ok_actions          = local.alarm_arns
}

# Published every minute (0 when nothing waits): missing data means beat stopped publishing.
resource "aws_cloudwatch_metric_alarm" "outbox_lag" {
  alarm_name          = "${var.name}-outbox-lag"
  alarm_description   = "Oldest unrelayed domain event older than ${var.outbox_lag_seconds} s, or beat stopped publishing metrics"
  namespace           = "Stockroom"
  metric_name         = "OutboxLagSeconds"
  dimensions          = local.app_dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.outbox_lag_seconds
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_arns
  ok_actions          = local.alarm_arns
}

resource "aws_cloudwatch_metric_alarm" "webhook_failures" {
  alarm_name          = "${var.name}-webhook-failures"
  alarm_description   = "More than ${var.webhook_failures_per_15m} failed webhook deliveries in 15 minutes"
  namespace           = "Stockroom"
  metric_name         = "WebhookFailures"
  dimensions          = local.app_dims
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.webhook_failures_per_15m
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_arns
  ok_actions          = local.alarm_arns
}

# ---------------------------------------------------------------- database
resource "aws_cloudwatch_metric_alarm" "rds_cpu" {
  alarm_name          = "${var.name}-rds-cpu"
  alarm_description   = "Database CPU above ${var.rds_cpu_percent}% for 15 minutes"
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBInstanceIdentifier = var.rds_instance_identifier }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rds_cpu_percent
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_arns
  ok_actions          = local.alarm_arns
}

resource "aws_cloudwatch_metric_alarm" "rds_free_storage" {
  alarm_name          = "${var.name}-rds-free-storage"
  alarm_description   = "Database free storage below ${var.rds_free_storage_gb} GB"
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = var.rds_instance_identifier }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = var.rds_free_storage_gb * 1024 * 1024 * 1024
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_arns
  ok_actions          = local.alarm_arns
}

# The tenant setting is transaction-local, so nothing the app does should pin a proxy connection
# (docs/deploy.md, "Connection pooling"): a pinned session is a regression to look at.
resource "aws_cloudwatch_metric_alarm" "proxy_pinning" {
  alarm_name          = "${var.name}-rds-proxy-pinned-sessions"
  alarm_description   = "Client sessions pinned to a database connection by RDS Proxy for 15 minutes"
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnectionsCurrentlySessionPinned"
  dimensions          = { ProxyName = var.rds_proxy_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.proxy_pinned_sessions
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_arns
  ok_actions          = local.alarm_arns
}

# ---------------------------------------------------------------- dashboard
resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title = "Requests and 5xx", region = local.region, stat = "Sum", period = 60
          metrics = [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
            [".", "HTTPCode_Target_5XX_Count", ".", "."],
            [".", "HTTPCode_ELB_5XX_Count", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title = "Target response time", region = local.region, period = 60
          metrics = [
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "p50" }],
            ["...", { stat = "p95" }],
            ["...", { stat = "p99" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title = "ECS CPU (%)", region = local.region, stat = "Average", period = 60
          metrics = [
            for kind in ["web", "worker", "beat"] :
            ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", "${var.name}-${kind}"]
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title = "Running tasks", region = local.region, stat = "Average", period = 60
          metrics = [
            for kind in ["web", "worker", "beat"] :
            ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", var.cluster_name, "ServiceName", "${var.name}-${kind}"]
          ]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 8, height = 6
        properties = {
          title   = "Celery queue depth", region = local.region, stat = "Maximum", period = 60
          metrics = [["Stockroom", "QueueDepth", "Environment", var.environment]]
        }
      },
      {
        type = "metric", x = 8, y = 12, width = 8, height = 6
        properties = {
          title   = "Outbox lag (s)", region = local.region, stat = "Maximum", period = 60
          metrics = [["Stockroom", "OutboxLagSeconds", "Environment", var.environment]]
        }
      },
      {
        type = "metric", x = 16, y = 12, width = 8, height = 6
        properties = {
          title   = "Webhook failures", region = local.region, stat = "Sum", period = 300
          metrics = [["Stockroom", "WebhookFailures", "Environment", var.environment]]
        }
      },
      {
        type = "metric", x = 0, y = 18, width = 12, height = 6
        properties = {
          title = "Database", region = local.region, period = 300
          metrics = [
            ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", var.rds_instance_identifier, { stat = "Average" }],
            [".", "DatabaseConnections", ".", ".", { stat = "Maximum" }],
            [".", "FreeStorageSpace", ".", ".", { stat = "Minimum", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 18, width = 12, height = 6
        properties = {
          title = "RDS Proxy connections", region = local.region, stat = "Maximum", period = 60
          metrics = [
            ["AWS/RDS", "ClientConnections", "ProxyName", var.rds_proxy_name],
            [".", "DatabaseConnections", ".", "."],
            [".", "DatabaseConnectionsCurrentlySessionPinned", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 24, width = 12, height = 6
        properties = {
          title = "Redis", region = local.region, stat = "Maximum", period = 60
          metrics = [
            ["AWS/ElastiCache", "EngineCPUUtilization", "ReplicationGroupId", var.redis_replication_group_id, "Role", "Primary"],
            [".", "DatabaseMemoryUsagePercentage", ".", ".", ".", "."],
            [".", "CurrConnections", ".", ".", ".", "."],
          ]
        }
      },
      {
        type = "alarm", x = 12, y = 24, width = 12, height = 6
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_metric_alarm.alb_5xx_rate.arn,
            aws_cloudwatch_metric_alarm.p95_latency.arn,
            aws_cloudwatch_metric_alarm.queue_depth.arn,
            aws_cloudwatch_metric_alarm.outbox_lag.arn,
            aws_cloudwatch_metric_alarm.webhook_failures.arn,
            aws_cloudwatch_metric_alarm.rds_cpu.arn,
            aws_cloudwatch_metric_alarm.rds_free_storage.arn,
            aws_cloudwatch_metric_alarm.proxy_pinning.arn,
          ]
        }
      },
    ]
  })
}
