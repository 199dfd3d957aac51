# Secrets Manager containers for every secret the app reads. Terraform never writes their values
# (they would land in the state): the operator puts them with `aws secretsmanager put-secret-value`
# (docs/deploy.md). ECS injects each one as the environment variable of the same name.
locals {
  app_secrets = {
    SECRET_KEY            = "Django SECRET_KEY (at least 50 random characters)"
    JWT_SIGNING_KEY       = "Signing key of the API's JWTs"
    STRIPE_SECRET_KEY     = "Stripe API secret key"
    STRIPE_WEBHOOK_SECRET = "Stripe webhook signing secret"
    SENTRY_DSN            = "Sentry DSN (may be left empty: Sentry is then off)"
    METRICS_TOKEN         = "Bearer token of /metrics"
    EMAIL_URL             = "smtp+tls://<SES SMTP user>:<password>@email-smtp.<region>.amazonaws.com:587"
    DATABASE_URL          = "postgres:// URL of the runtime role, through RDS Proxy"
    DATABASE_OPS_URL      = "postgres:// URL of the ops role, through RDS Proxy (beat, worker)"
    DATABASE_OWNER_URL    = "postgres:// URL of the owner role (release task: migrations)"
    DATABASE_REPLICA_URL  = "postgres:// URL of the runtime role on the read replica (worker: exports; only with the replica on)"
    DATABASE_ADMIN_URL    = "postgres:// URL of the RDS master user (release task: create_db_roles)"
    REDIS_URL             = "rediss://:<auth token>@<primary endpoint>:6379/0?ssl_cert_reqs=required"
  }
  # RDS Proxy authenticates each role with a {"username": ..., "password": ...} secret; the same
  # credentials as in the role's URL above.
  proxy_roles = toset(["runtime", "ops", "owner"])
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:Values are the operator's (Stripe, Sentry) or tied to database roles and a Redis token that are rotated by the documented procedure (docs/deploy.md), not by a rotation Lambda.
  for_each                = local.app_secrets
  name                    = "${var.prefix}/${each.key}"
  description             = each.value
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
}

resource "aws_secretsmanager_secret" "proxy" {
  #checkov:skip=CKV2_AWS_57:Rotated together with the role's URL secret by the documented procedure (docs/deploy.md).
  for_each                = local.proxy_roles
  name                    = "${var.prefix}/rds-proxy/${each.key}"
  description             = "RDS Proxy credentials of the ${each.key} role: {\"username\": ..., \"password\": ...}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
}
