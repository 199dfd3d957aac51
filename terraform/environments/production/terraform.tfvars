# Production: NAT gateway per AZ, multi-AZ database with a read replica for reports and exports,
# Redis with a replica and automatic failover, longer retention, deletion protection.
# Operator values: operator.tfvars.
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b"]
vpc_cidr_block     = "10.30.0.0/16"
single_nat_gateway = false

deletion_protection         = true
log_retention_days          = 90
access_log_retention_days   = 365
secret_recovery_window_days = 30
waf_rate_limit              = 10000

files_noncurrent_version_days = 30
export_retention_days         = 7

task_sizes = {
  web     = { cpu = 1024, memory = 2048 }
  worker  = { cpu = 1024, memory = 2048 }
  beat    = { cpu = 256, memory = 512 }
  release = { cpu = 1024, memory = 2048 }
}
web_scaling       = { min = 2, max = 12, cpu_target = 60, requests_per_target = 1000 }
worker_scaling    = { min = 2, max = 10, queue_scale_out_at = 100, queue_scale_in_at = 10 }
queue_depth_alarm = 2000

postgres_engine_version         = "17.4"
postgres_parameter_group_family = "postgres17"
rds_instance_class              = "db.m7g.large"
rds_allocated_storage_gb        = 100
rds_max_allocated_storage_gb    = 1000
rds_free_storage_alarm_gb       = 20
rds_multi_az                    = true
rds_backup_retention_days       = 30
rds_replica_enabled             = true
rds_replica_instance_class      = "db.m7g.large"

redis_node_type               = "cache.m7g.large"
redis_multi_az                = true
redis_snapshot_retention_days = 7
