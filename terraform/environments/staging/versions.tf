terraform {
  required_version = "~> 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # Remote state in the bucket made by terraform/bootstrap, locked with an S3 lock file
  # (use_lockfile: no DynamoDB table). The bucket and region come from backend.hcl:
  #   terraform init -backend-config=backend.hcl   (docs/deploy.md)
  backend "s3" {
    key          = "stockroom/staging/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
