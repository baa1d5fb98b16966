# Secrets Manager entries. Terraform creates them empty (no value in state); set the values with
#   aws secretsmanager put-secret-value --secret-id <arn> --secret-string '...'
# They reach the code location as env vars: TOTESYS_DSN, WAREHOUSE_DSN, ALERT_SMTP_PASSWORD
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
