# One Stockroom environment: every module wired together. terraform/environments/<env> calls this
# with its own sizes, so staging and production differ only in their variables.
data "aws_region" "current" {}

locals {
  name         = "stockroom-${var.environment}"
  cluster_name = "stockroom-${var.environment}"
  region       = data.aws_region.current.name
  app_url      = "https://${var.domain_name}"
  image        = var.initial_image != null ? var.initial_image : "${module.ecr.repository_url}:${var.initial_image_tag}"

  app = module.secrets.app_secret_arns
  # Which secrets each kind of container gets (least privilege inside the task too).
  # SENTRY_DSN only when Sentry is on: Secrets Manager stores no empty value, and ECS starts no
  # task whose secret has none.
  common_secrets = merge(
    {
      SECRET_KEY            = local.app["SECRET_KEY"]
      JWT_SIGNING_KEY       = local.app["JWT_SIGNING_KEY"]
      DATABASE_URL          = local.app["DATABASE_URL"]
      REDIS_URL             = local.app["REDIS_URL"]
      STRIPE_SECRET_KEY     = local.app["STRIPE_SECRET_KEY"]
      STRIPE_WEBHOOK_SECRET = local.app["STRIPE_WEBHOOK_SECRET"]
      EMAIL_URL             = local.app["EMAIL_URL"]
    },
    var.sentry_enabled ? { SENTRY_DSN = local.app["SENTRY_DSN"] } : {},
  )
  secrets = {
    web = merge(local.common_secrets, { METRICS_TOKEN = local.app["METRICS_TOKEN"] })
    worker = merge(
      local.common_secrets,
      { DATABASE_OPS_URL = local.app["DATABASE_OPS_URL"] },
      # Exports read the replica when there is one (core.db.read_alias).
      var.rds_replica_enabled ? { DATABASE_REPLICA_URL = local.app["DATABASE_REPLICA_URL"] } : {},
    )
    beat = merge(local.common_secrets, { DATABASE_OPS_URL = local.app["DATABASE_OPS_URL"] })
    # DATABASE_ADMIN_URL only while release_creates_db_roles is on: RDS rotates the master
    # password (every 7 days by default), so a stored admin URL goes stale, and the release task
    # runs create_db_roles whenever the variable is set (docs/deploy.md, "Database roles").
    release = merge(
      local.common_secrets,
      {
        DATABASE_OPS_URL   = local.app["DATABASE_OPS_URL"]
        DATABASE_OWNER_URL = local.app["DATABASE_OWNER_URL"]
      },
      var.release_creates_db_roles ? { DATABASE_ADMIN_URL = local.app["DATABASE_ADMIN_URL"] } : {},
    )
  }

  environment_variables = merge(
    {
      STOCKROOM_ENVIRONMENT   = var.environment
      DJANGO_SETTINGS_MODULE  = "config.settings.production"
      ALLOWED_HOSTS           = var.domain_name
      CSRF_TRUSTED_ORIGINS    = local.app_url
      FRONTEND_URL            = local.app_url
      AWS_STORAGE_BUCKET_NAME = module.s3.files_bucket_name
      AWS_S3_REGION_NAME      = local.region
      # Files are written SSE-KMS with the environment's key (config/storage.py).
      AWS_S3_KMS_KEY_ID = module.kms.key_arn
      # Pages name their scripts and styles on the CDN; the deploy copies the image's
      # collected files to the static bucket under static/ before the services update.
      STATIC_URL = "${module.s3.static_url}static/"
      # One proxy (the ALB) appends the client's address to X-Forwarded-For: throttles, the
      # login lockout and the audit log read it there instead of the ALB's own address.
      NUM_PROXIES = "1"
    },
    var.extra_environment_variables,
  )
}

module "kms" {
  source = "../kms"
  name   = local.name
}

module "network" {
  source             = "../network"
  name               = local.name
  environment        = var.environment
  cidr_block         = var.vpc_cidr_block
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
}

module "secrets" {
  source                  = "../secrets"
  prefix                  = "stockroom/${var.environment}"
  kms_key_arn             = module.kms.key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

module "s3" {
  source                  = "../s3"
  name                    = local.name
  kms_key_arn             = module.kms.key_arn
  noncurrent_version_days = var.files_noncurrent_version_days
  export_retention_days   = var.export_retention_days
  log_retention_days      = var.access_log_retention_days
  static_aliases          = var.static_aliases
  static_certificate_arn  = var.static_certificate_arn
  cors_allowed_origins    = [local.app_url]
}

module "ecr" {
  source      = "../ecr"
  name        = local.name
  kms_key_arn = module.kms.key_arn
}

module "alb" {
  source              = "../alb"
  name                = local.name
  vpc_id              = module.network.vpc_id
  vpc_cidr_block      = module.network.vpc_cidr_block
  public_subnet_ids   = module.network.public_subnet_ids
  certificate_arn     = var.certificate_arn
  access_logs_bucket  = module.s3.logs_bucket_name
  deletion_protection = var.deletion_protection
  waf_rate_limit      = var.waf_rate_limit
  kms_key_arn         = module.kms.key_arn
  log_retention_days  = var.log_retention_days
}

module "observability" {
  source                     = "../observability"
  name                       = local.name
  environment                = var.environment
  kms_key_arn                = module.kms.key_arn
  log_retention_days         = var.log_retention_days
  alarm_emails               = var.alarm_emails
  cluster_name               = local.cluster_name
  alb_arn_suffix             = module.alb.alb_arn_suffix
  target_group_arn_suffix    = module.alb.target_group_arn_suffix
  rds_instance_identifier    = module.rds.instance_identifier
  rds_proxy_name             = module.rds.proxy_name
  redis_replication_group_id = module.redis.replication_group_id
  rds_free_storage_gb        = var.rds_free_storage_alarm_gb
  queue_depth_threshold      = var.queue_depth_alarm
}

module "iam" {
  source                   = "../iam"
  name                     = local.name
  cluster_name             = local.cluster_name
  ecr_repository_arn       = module.ecr.repository_arn
  files_bucket_arn         = module.s3.files_bucket_arn
  static_bucket_arn        = module.s3.static_bucket_arn
  kms_key_arn              = module.kms.key_arn
  secret_arns              = values(module.secrets.app_secret_arns)
  log_group_arns           = module.observability.log_group_arns
  github_repository        = var.github_repository
  github_environment       = var.environment
  github_oidc_provider_arn = var.github_oidc_provider_arn
}

module "ecs" {
  source                  = "../ecs"
  name                    = local.name
  environment             = var.environment
  cluster_name            = local.cluster_name
  image                   = local.image
  vpc_id                  = module.network.vpc_id
  vpc_cidr_block          = module.network.vpc_cidr_block
  private_subnet_ids      = module.network.private_subnet_ids
  alb_security_group_id   = module.alb.security_group_id
  alb_arn_suffix          = module.alb.alb_arn_suffix
  target_group_arn        = module.alb.target_group_arn
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  execution_role_arn      = module.iam.execution_role_arn
  task_role_arns          = module.iam.task_role_arns
  log_group_names         = module.observability.log_group_names
  environment_variables   = local.environment_variables
  # prometheus_client's multiprocess files (gunicorn workers, Celery prefork children): the
  # entrypoint creates and empties the directory at start (docs/observability.md).
  kind_environment_variables = {
    web    = { PROMETHEUS_MULTIPROC_DIR = "/tmp/prometheus" }
    worker = { PROMETHEUS_MULTIPROC_DIR = "/tmp/prometheus" }
  }
  secrets        = local.secrets
  sizes          = var.task_sizes
  web_scaling    = var.web_scaling
  worker_scaling = var.worker_scaling
}

module "rds" {
  source                   = "../rds"
  name                     = local.name
  vpc_id                   = module.network.vpc_id
  vpc_cidr_block           = module.network.vpc_cidr_block
  subnet_ids               = module.network.isolated_subnet_ids
  app_security_group_id    = module.ecs.tasks_security_group_id
  kms_key_arn              = module.kms.key_arn
  engine_version           = var.postgres_engine_version
  parameter_group_family   = var.postgres_parameter_group_family
  instance_class           = var.rds_instance_class
  allocated_storage_gb     = var.rds_allocated_storage_gb
  max_allocated_storage_gb = var.rds_max_allocated_storage_gb
  multi_az                 = var.rds_multi_az
  backup_retention_days    = var.rds_backup_retention_days
  deletion_protection      = var.deletion_protection
  log_retention_days       = var.log_retention_days
  replica_enabled          = var.rds_replica_enabled
  replica_instance_class   = var.rds_replica_instance_class
  proxy_secret_arns        = module.secrets.proxy_secret_arns
}

module "redis" {
  source                  = "../redis"
  name                    = local.name
  environment             = var.environment
  vpc_id                  = module.network.vpc_id
  subnet_ids              = module.network.isolated_subnet_ids
  app_security_group_id   = module.ecs.tasks_security_group_id
  kms_key_arn             = module.kms.key_arn
  node_type               = var.redis_node_type
  multi_az                = var.redis_multi_az
  snapshot_retention_days = var.redis_snapshot_retention_days
  log_retention_days      = var.log_retention_days
}
