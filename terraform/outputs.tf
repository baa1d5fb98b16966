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

output "branch_deployments_role_arn" {
  description = "IAM role of branch deployments (task_role_arn / IRSA annotation in dagster_cloud_branch.yaml): branches/ prefix only."
  value       = aws_iam_role.branch_deployments.arn
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

output "dagster_pg_url_secret_arn" {
  description = "Secrets Manager ARN of DAGSTER_PG_URL (Dagster instance database; ECS execution role only)."
  value       = aws_secretsmanager_secret.dagster_pg_url.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting both buckets and the secrets."
  value       = aws_kms_key.data.arn
}

output "branch_totesys_dsn_secret_arn" {
  description = "Secrets Manager ARN of branch deployments' TOTESYS_DSN (reveries_branch role)."
  value       = aws_secretsmanager_secret.branch_totesys_dsn.arn
}

output "branch_warehouse_dsn_secret_arn" {
  description = "Secrets Manager ARN of branch deployments' WAREHOUSE_DSN (reveries_branch role)."
  value       = aws_secretsmanager_secret.branch_warehouse_dsn.arn
}
