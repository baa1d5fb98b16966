provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(
      {
        project     = var.project
        environment = var.environment
        managed_by  = "terraform"
      },
      var.tags,
    )
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id

  ingestion_bucket_name = var.ingestion_bucket_name != "" ? var.ingestion_bucket_name : "${local.name_prefix}-ingestion-${local.account_id}"
  processed_bucket_name = var.processed_bucket_name != "" ? var.processed_bucket_name : "${local.name_prefix}-processed-${local.account_id}"
}

# One customer-managed key for both buckets and the secrets.
resource "aws_kms_key" "data" {
  description             = "${local.name_prefix}: S3 buckets and Secrets Manager entries"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "data" {
  name          = "alias/${local.name_prefix}-data"
  target_key_id = aws_kms_key.data.key_id
}
