# Shared by terraform/environments/staging and terraform/environments/production: their
# main.tf, variables.tf and outputs.tf are symbolic links to this folder's files, so the two
# environments cannot drift apart. What differs lives in each folder: terraform.tfvars (sizes,
# toggles), versions.tf (the state key), backend.hcl and operator.tfvars. The environment is the
# name of the folder Terraform runs in.
locals {
  environment = basename(abspath(path.root))
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "stockroom"
      Environment = local.environment
      ManagedBy   = "terraform"
    }
  }
}

module "stockroom" {
  source = "../../modules/stack"

  environment              = local.environment
  domain_name              = var.domain_name
  certificate_arn          = var.certificate_arn
  github_repository        = var.github_repository
  github_oidc_provider_arn = var.github_oidc_provider_arn
  initial_image            = var.initial_image
  release_creates_db_roles = var.release_creates_db_roles
  sentry_enabled           = var.sentry_enabled
  alarm_emails             = var.alarm_emails
  static_aliases           = var.static_aliases
  static_certificate_arn   = var.static_certificate_arn

  extra_environment_variables = var.app_settings

  deletion_protection         = var.deletion_protection
  log_retention_days          = var.log_retention_days
  access_log_retention_days   = var.access_log_retention_days
  secret_recovery_window_days = var.secret_recovery_window_days

  vpc_cidr_block     = var.vpc_cidr_block
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  waf_rate_limit     = var.waf_rate_limit

  files_noncurrent_version_days = var.files_noncurrent_version_days
  export_retention_days         = var.export_retention_days

  task_sizes        = var.task_sizes
  web_scaling       = var.web_scaling
  worker_scaling    = var.worker_scaling
  queue_depth_alarm = var.queue_depth_alarm

  postgres_engine_version         = var.postgres_engine_version
  postgres_parameter_group_family = var.postgres_parameter_group_family
  rds_instance_class              = var.rds_instance_class
  rds_allocated_storage_gb        = var.rds_allocated_storage_gb
  rds_max_allocated_storage_gb    = var.rds_max_allocated_storage_gb
  rds_free_storage_alarm_gb       = var.rds_free_storage_alarm_gb
  rds_multi_az                    = var.rds_multi_az
  rds_backup_retention_days       = var.rds_backup_retention_days
  rds_replica_enabled             = var.rds_replica_enabled
  rds_replica_instance_class      = var.rds_replica_instance_class

  redis_node_type               = var.redis_node_type
  redis_multi_az                = var.redis_multi_az
  redis_snapshot_retention_days = var.redis_snapshot_retention_days
}
