# ---------------------------------------------------------------------------------------------
# Ingestion bucket: raw parquet batches extracted from totesys (append-only, kept for replays).
# ---------------------------------------------------------------------------------------------
resource "aws_s3_bucket" "ingestion" {
  bucket        = local.ingestion_bucket_name
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_versioning" "ingestion" {
  bucket = aws_s3_bucket.ingestion.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "ingestion" {
  bucket = aws_s3_bucket.ingestion.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "ingestion" {
  bucket = aws_s3_bucket.ingestion.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "ingestion" {
  bucket = aws_s3_bucket.ingestion.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "ingestion" {
  bucket = aws_s3_bucket.ingestion.id

  # Versioning must be enabled before noncurrent-version rules apply.
  depends_on = [aws_s3_bucket_versioning.ingestion]

  rule {
    id     = "raw-batches-tiering"
    status = "Enabled"

    filter {}

    transition {
      days          = var.raw_infrequent_access_after_days
      storage_class = "STANDARD_IA"
    }

    transition {
      days          = var.raw_archive_after_days
      storage_class = var.raw_archive_storage_class
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "ingestion" {
  bucket = aws_s3_bucket.ingestion.id
  policy = data.aws_iam_policy_document.tls_only["ingestion"].json

  depends_on = [aws_s3_bucket_public_access_block.ingestion]
}

# ---------------------------------------------------------------------------------------------
# Processed bucket: star-schema parquet (rewritten by the pipeline; `_state/` holds run state).
# ---------------------------------------------------------------------------------------------
resource "aws_s3_bucket" "processed" {
  bucket        = local.processed_bucket_name
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_versioning" "processed" {
  bucket = aws_s3_bucket.processed.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "processed" {
  bucket = aws_s3_bucket.processed.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "processed" {
  bucket = aws_s3_bucket.processed.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "processed" {
  bucket = aws_s3_bucket.processed.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "processed" {
  bucket = aws_s3_bucket.processed.id

  depends_on = [aws_s3_bucket_versioning.processed]

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "processed" {
  bucket = aws_s3_bucket.processed.id
  policy = data.aws_iam_policy_document.tls_only["processed"].json

  depends_on = [aws_s3_bucket_public_access_block.processed]
}

# Both buckets refuse plain-HTTP requests.
data "aws_iam_policy_document" "tls_only" {
  for_each = {
    ingestion = aws_s3_bucket.ingestion.arn
    processed = aws_s3_bucket.processed.arn
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
