# Two roles, each assumed by a code location and by every run it launches (ECS task role or EKS IRSA):
#   code_location       production: both buckets, the production secrets;
#   branch_deployments  pull-request (branch) deployments: only the branches/ prefix of both buckets
#                       and the branch secrets, never production's objects or credentials.

locals {
  # Kubernetes service accounts (IRSA) allowed to assume each role.
  role_service_accounts = {
    code_location      = var.eks_service_accounts
    branch_deployments = var.eks_branch_service_accounts
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = local.role_service_accounts

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
        values   = [for sa in each.value : "system:serviceaccount:${sa}"]
      }
    }
  }
}

resource "aws_iam_role" "code_location" {
  name               = "${local.name_prefix}-code-location"
  description        = "Reveries Dagster code location and runs: S3 buckets and pipeline secrets."
  assume_role_policy = data.aws_iam_policy_document.assume["code_location"].json

  lifecycle {
    precondition {
      condition     = var.trust_ecs_tasks || var.eks_oidc_provider_arn != ""
      error_message = "Enable trust_ecs_tasks or set eks_oidc_provider_arn: the role needs a principal."
    }
  }
}

# Least privilege: list/read/write both buckets, delete only derived data in the processed bucket,
# read only the three production secrets, use only the data key.
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

  # Everything in the processed bucket is derived from the raw lake, and the pipeline deletes it:
  # rebuild_job and the demo reset empty the star tables, the deletion markers, _rejects/ and _state/processing/
  # (processing/derived_state.py), and `reveries quarantine --bucket processed` deletes the batch it
  # set aside. Only _quarantine/ (the evidence) stays undeletable. The ingestion bucket is the system
  # of record: never deleted from by this role (quarantining a raw batch needs an operator's
  # credentials, see docs/production.md).
  statement {
    sid     = "DeleteDerivedProcessedObjects"
    effect  = "Allow"
    actions = ["s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.processed.arn}/dim_*",
      "${aws_s3_bucket.processed.arn}/fact_*",
      "${aws_s3_bucket.processed.arn}/reveries_deleted_rows/*",
      "${aws_s3_bucket.processed.arn}/_rejects/*",
      "${aws_s3_bucket.processed.arn}/_state/processing/*",
    ]
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

# ---------------------------------------------------------------------------------------------
# Branch deployments: a role of their own. Their objects live under branches/<label>/ in both buckets
# (the prefix reveries_pipeline/environment.py gives them) and are throw-away, so they may be
# deleted; no object outside branches/ can be read, written or deleted. The database DSNs are the
# branch secrets (a reveries_branch role, deploy/sql/), never production's; alerts are off.
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "branch_deployments" {
  name               = "${local.name_prefix}-branch-deployments"
  description        = "Reveries branch (pull-request) deployments: the branches/ prefix of both buckets and the branch secrets."
  assume_role_policy = data.aws_iam_policy_document.assume["branch_deployments"].json

  lifecycle {
    precondition {
      condition     = var.trust_ecs_tasks || var.eks_oidc_provider_arn != ""
      error_message = "Enable trust_ecs_tasks or set eks_oidc_provider_arn: the role needs a principal."
    }
  }
}

data "aws_iam_policy_document" "branch_deployments" {
  # Listing is not narrowed by an s3:prefix condition: without an unconditional s3:ListBucket, S3
  # answers a GET of a missing key with 403 instead of 404, and the pipeline reads a missing
  # checkpoint as "first run". Key names are listable; no production object can be read or written.
  statement {
    sid       = "ListBuckets"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.ingestion.arn, aws_s3_bucket.processed.arn]
  }

  statement {
    sid     = "ReadWriteDeleteBranchObjects"
    effect  = "Allow"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.ingestion.arn}/branches/*",
      "${aws_s3_bucket.processed.arn}/branches/*",
    ]
  }

  statement {
    sid     = "ReadBranchSecrets"
    effect  = "Allow"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.branch_totesys_dsn.arn,
      aws_secretsmanager_secret.branch_warehouse_dsn.arn,
    ]
  }

  # The data key encrypts both buckets and the secrets; only through S3 and Secrets Manager, which
  # the statements above already scope.
  statement {
    sid       = "UseDataKeyThroughS3AndSecrets"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.${var.aws_region}.amazonaws.com",
        "secretsmanager.${var.aws_region}.amazonaws.com",
      ]
    }
  }
}

resource "aws_iam_policy" "branch_deployments" {
  name        = "${local.name_prefix}-branch-deployments"
  description = "Branch deployments of Reveries: the branches/ prefix of both buckets, the branch secrets, the data key."
  policy      = data.aws_iam_policy_document.branch_deployments.json
}

resource "aws_iam_role_policy_attachment" "branch_deployments" {
  role       = aws_iam_role.branch_deployments.name
  policy_arn = aws_iam_policy.branch_deployments.arn
}
