# Secrets Manager entries. Terraform creates them empty (no value in state); set the values with
#   aws secretsmanager put-secret-value --secret-id <arn> --secret-string '...'
# They reach the production code location as env vars: TOTESYS_DSN, WAREHOUSE_DSN, ALERT_SMTP_PASSWORD
# (ECS task definition `secrets`, or External Secrets Operator -> Kubernetes secret `reveries-secrets`).

resource "aws_secretsmanager_secret" "totesys_dsn" {
  name                    = "${var.project}/${var.environment}/totesys-dsn"
  description             = "TOTESYS_DSN: libpq URI of the totesys OLTP database (read-only user)."
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "warehouse_dsn" {
  name                    = "${var.project}/${var.environment}/warehouse-dsn"
  description             = "WAREHOUSE_DSN: libpq URI of the PostgreSQL warehouse."
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "smtp_password" {
  name                    = "${var.project}/${var.environment}/smtp-password"
  description             = "ALERT_SMTP_PASSWORD: password of the SMTP account sending alerts."
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# The Dagster instance database (open-source ECS: webserver, daemon and every run task). ECS injects it
# with the execution role; the code location role doesn't read it.
resource "aws_secretsmanager_secret" "dagster_pg_url" {
  name                    = "${var.project}/${var.environment}/dagster-pg-url"
  description             = "DAGSTER_PG_URL: postgresql+psycopg2:// URL of the Dagster instance database (not totesys, not the warehouse)."
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# Branch (pull-request) deployments read these instead: DSNs of the reveries_branch database role
# (deploy/sql/branch_role_*.sql), which reads the totesys tables and owns only its own warehouse
# schemas. They reach branch deployments as TOTESYS_DSN and WAREHOUSE_DSN (dagster_cloud_branch.yaml).
resource "aws_secretsmanager_secret" "branch_totesys_dsn" {
  name                    = "${var.project}/${var.environment}/branch/totesys-dsn"
  description             = "TOTESYS_DSN of branch deployments: libpq URI of totesys as the read-only reveries_branch role."
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "branch_warehouse_dsn" {
  name                    = "${var.project}/${var.environment}/branch/warehouse-dsn"
  description             = "WAREHOUSE_DSN of branch deployments: libpq URI of the warehouse as the reveries_branch role."
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = var.secret_recovery_window_days
}
