# Role assumed by the code location and by every run it launches (ECS task role or EKS IRSA).

data "aws_iam_policy_document" "code_location_assume" {
  dynamic "statement" {
    for_each = var.trust_ecs_tasks ? [1] : []

    content {
      sid     = "EcsTasks"
      effect  = "Allow"
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
    }
  }

  dynamic "statement" {
    for_each = var.eks_oidc_provider_arn != "" ? [1] : []

    content {
      sid     = "EksIrsa"
      effect  = "Allow"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [var.eks_oidc_provider_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "${var.eks_oidc_provider_url}:aud"
        values   = ["sts.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "${var.eks_oidc_provider_url}:sub"
        values   = [for sa in var.eks_service_accounts : "system:serviceaccount:${sa}"]
      }
    }
  }
}

resource "aws_iam_role" "code_location" {
  name               = "${local.name_prefix}-code-location"
  description        = "Reveries Dagster code location and runs: S3 buckets and pipeline secrets."
  assume_role_policy = data.aws_iam_policy_document.code_location_assume.json

  lifecycle {
    precondition {
      condition     = var.trust_ecs_tasks || var.eks_oidc_provider_arn != ""
      error_message = "Enable trust_ecs_tasks or set eks_oidc_provider_arn: the role needs a principal."
    }
  }
}

# Least privilege: list/read/write both buckets, delete only run state in the processed bucket,
# read only the three pipeline secrets, use only the data key.
data "aws_iam_policy_document" "code_location" {
  statement {
    sid       = "ListBuckets"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.ingestion.arn, aws_s3_bucket.processed.arn]
  }

  statement {
    sid     = "ReadWriteObjects"
    effect  = "Allow"
    actions = ["s3:GetObject", "s3:PutObject"]
    resources = [
      "${aws_s3_bucket.ingestion.arn}/*",
      "${aws_s3_bucket.processed.arn}/*",
    ]
  }

  # The processed bucket is derived data: rebuild_job (replay from the lake) empties it. The ingestion
  # bucket is the system of record and is never deleted from.
  statement {
    sid       = "DeleteDerivedProcessedObjects"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = ["${aws_s3_bucket.processed.arn}/*"]
  }

  statement {
    sid     = "ReadPipelineSecrets"
    effect  = "Allow"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.totesys_dsn.arn,
      aws_secretsmanager_secret.warehouse_dsn.arn,
      aws_secretsmanager_secret.smtp_password.arn,
    ]
  }

  statement {
    sid       = "UseDataKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]
  }
}

resource "aws_iam_policy" "code_location" {
  name        = "${local.name_prefix}-code-location"
  description = "Least-privilege access of the Reveries code location to its buckets, secrets and key."
  policy      = data.aws_iam_policy_document.code_location.json
}

resource "aws_iam_role_policy_attachment" "code_location" {
  role       = aws_iam_role.code_location.name
  policy_arn = aws_iam_policy.code_location.arn
}
