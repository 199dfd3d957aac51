# IAM of one environment:
# - the task execution role (pull the image, write the log streams, read the secrets);
# - one task role per container kind: web and worker read and write the files bucket, beat and
#   release get nothing (their work is in PostgreSQL and Redis only);
# - GitHub Actions' deploy role, assumable only through GitHub's OIDC provider by a workflow of
#   this repository running in this GitHub environment.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition
  ecs_prefix  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"
  kinds       = toset(["web", "worker", "beat", "release"])
  files_kinds = toset(["web", "worker"])
  oidc_provider_arn = (
    var.github_oidc_provider_arn != null
    ? var.github_oidc_provider_arn
    : aws_iam_openid_connect_provider.github[0].arn
  )
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["${local.ecs_prefix}:*"]
    }
  }
}

# ---------------------------------------------------------------- execution role
resource "aws_iam_role" "execution" {
  name               = "${var.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "PullTheImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.ecr_repository_arn]
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for arn in values(var.log_group_arns) : "${arn}:*"]
  }
  statement {
    sid       = "ReadSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.secret_arns
  }
  statement {
    sid       = "DecryptSecretsAndImage"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-log-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# ---------------------------------------------------------------- task roles
resource "aws_iam_role" "task" {
  for_each           = local.kinds
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "files" {
  statement {
    sid       = "ListTheFilesBucket"
    actions   = ["s3:ListBucket"]
    resources = [var.files_bucket_arn]
  }
  statement {
    sid = "ReadWriteFiles"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${var.files_bucket_arn}/*"]
  }
  statement {
    sid       = "FilesAreKmsEncrypted"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "files" {
  for_each = local.files_kinds
  name     = "files-bucket"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.files.json
}

# ---------------------------------------------------------------- GitHub OIDC deploy role
resource "aws_iam_openid_connect_provider" "github" {
  count          = var.github_oidc_provider_arn == null ? 1 : 0
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "deploy_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    # Only jobs of this repository that run in this GitHub environment (its protection rules,
    # e.g. required reviewers on production, apply before the token is issued).
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-github-deploy"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "deploy" {
  #checkov:skip=CKV_AWS_356:ecr:GetAuthorizationToken and ecs:RegisterTaskDefinition/DescribeTaskDefinition accept no resource other than "*" (IAM service authorization reference); every other action is scoped.
  #checkov:skip=CKV_AWS_111:Same: the only "*" resources are actions that cannot be scoped.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "PushToTheRepository"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }
  statement {
    sid       = "TaskDefinitions"
    actions   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"]
    resources = ["*"]
  }
  statement {
    sid     = "UpdateTheServices"
    actions = ["ecs:UpdateService", "ecs:DescribeServices"]
    resources = [
      for kind in ["web", "worker", "beat"] :
      "${local.ecs_prefix}:service/${var.cluster_name}/${var.name}-${kind}"
    ]
  }
  statement {
    sid       = "RunTheReleaseTask"
    actions   = ["ecs:RunTask"]
    resources = ["${local.ecs_prefix}:task-definition/${var.name}-release:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = ["${local.ecs_prefix}:cluster/${var.cluster_name}"]
    }
  }
  statement {
    sid       = "WatchTheReleaseTask"
    actions   = ["ecs:DescribeTasks"]
    resources = ["${local.ecs_prefix}:task/${var.cluster_name}/*"]
  }
  statement {
    sid       = "ReadTheReleaseTaskLog"
    actions   = ["logs:GetLogEvents", "logs:FilterLogEvents"]
    resources = ["${var.log_group_arns["release"]}:*"]
  }
  statement {
    sid     = "PassOnlyTheTaskRoles"
    actions = ["iam:PassRole"]
    resources = concat(
      [aws_iam_role.execution.arn],
      [for kind in local.kinds : aws_iam_role.task[kind].arn],
    )
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "SyncStaticFiles"
    actions   = ["s3:ListBucket"]
    resources = [var.static_bucket_arn]
  }
  statement {
    sid       = "WriteStaticFiles"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.static_bucket_arn}/*"]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
