# Staging: the same stack as production, smaller and cheaper (one NAT gateway, single-AZ
# database and Redis, no read replica, shorter retention). Operator values: operator.tfvars.
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b"]
vpc_cidr_block     = "10.20.0.0/16"
single_nat_gateway = true

deletion_protection         = true
log_retention_days          = 30
access_log_retention_days   = 30
secret_recovery_window_days = 7
waf_rate_limit              = 5000

files_noncurrent_version_days = 7
export_retention_days         = 3

task_sizes = {
  web     = { cpu = 512, memory = 1024 }
  worker  = { cpu = 512, memory = 1024 }
  beat    = { cpu = 256, memory = 512 }
  release = { cpu = 512, memory = 1024 }
}
web_scaling       = { min = 1, max = 3, cpu_target = 60, requests_per_target = 1000 }
worker_scaling    = { min = 1, max = 3, queue_scale_out_at = 100, queue_scale_in_at = 10 }
queue_depth_alarm = 1000

postgres_engine_version         = "17.4"
postgres_parameter_group_family = "postgres17"
rds_instance_class              = "db.t4g.medium"
rds_allocated_storage_gb        = 20
rds_max_allocated_storage_gb    = 100
rds_free_storage_alarm_gb       = 5
rds_multi_az                    = false
rds_backup_retention_days       = 7
rds_replica_enabled             = false
rds_replica_instance_class      = "db.t4g.medium"

redis_node_type               = "cache.t4g.small"
redis_multi_az                = false
redis_snapshot_retention_days = 1
