output "ingestion_bucket_name" {
  description = "Name of the ingestion bucket (INGESTION_BUCKET_URL = s3://<name>)."
  value       = aws_s3_bucket.ingestion.bucket
}

output "ingestion_bucket_arn" {
  description = "ARN of the ingestion bucket."
  value       = aws_s3_bucket.ingestion.arn
}

output "processed_bucket_name" {
  description = "Name of the processed bucket (PROCESSED_BUCKET_URL = s3://<name>)."
  value       = aws_s3_bucket.processed.bucket
}

output "processed_bucket_arn" {
  description = "ARN of the processed bucket."
  value       = aws_s3_bucket.processed.arn
}

output "code_location_role_arn" {
  description = "IAM role for the code location and its runs (ECS task role or IRSA annotation)."
  value       = aws_iam_role.code_location.arn
}

output "totesys_dsn_secret_arn" {
  description = "Secrets Manager ARN of TOTESYS_DSN."
  value       = aws_secretsmanager_secret.totesys_dsn.arn
}

output "warehouse_dsn_secret_arn" {
  description = "Secrets Manager ARN of WAREHOUSE_DSN."
  value       = aws_secretsmanager_secret.warehouse_dsn.arn
}

output "smtp_password_secret_arn" {
  description = "Secrets Manager ARN of ALERT_SMTP_PASSWORD."
  value       = aws_secretsmanager_secret.smtp_password.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting both buckets and the secrets."
  value       = aws_kms_key.data.arn
}
