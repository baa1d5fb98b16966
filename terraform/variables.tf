variable "aws_region" {
  description = "AWS region for the buckets, secrets and IAM role."
  type        = string
  default     = "eu-west-2"
}

variable "project" {
  description = "Project name, used as a prefix for resource names."
  type        = string
  default     = "reveries"
}

variable "environment" {
  description = "Deployment environment (e.g. dev, staging, prod); part of every resource name."
  type        = string
  default     = "prod"
}

variable "ingestion_bucket_name" {
  description = "Name of the ingestion bucket (raw parquet batches). Empty: <project>-<environment>-ingestion-<account id>."
  type        = string
  default     = ""
}

variable "processed_bucket_name" {
  description = "Name of the processed bucket (star-schema parquet). Empty: <project>-<environment>-processed-<account id>."
  type        = string
  default     = ""
}

variable "raw_infrequent_access_after_days" {
  description = "Days after which raw batches in the ingestion bucket move to STANDARD_IA."
  type        = number
  default     = 30
}

variable "raw_archive_after_days" {
  description = "Days after which raw batches in the ingestion bucket move to the archive storage class."
  type        = number
  default     = 180
}

variable "raw_archive_storage_class" {
  description = "Archive storage class for old raw batches: GLACIER_IR (millisecond reads) or GLACIER."
  type        = string
  default     = "GLACIER_IR"

  validation {
    condition     = contains(["GLACIER_IR", "GLACIER"], var.raw_archive_storage_class)
    error_message = "raw_archive_storage_class must be GLACIER_IR or GLACIER."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent (overwritten or deleted) object versions are removed."
  type        = number
  default     = 90
}

variable "force_destroy_buckets" {
  description = "Allow terraform destroy to delete non-empty buckets (only for throw-away environments)."
  type        = bool
  default     = false
}

variable "trust_ecs_tasks" {
  description = "Let ECS tasks (ecs-tasks.amazonaws.com) assume the code location role (EcsRunLauncher / Dagster+ ECS agent)."
  type        = bool
  default     = true
}

variable "eks_oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider for IRSA; empty disables the EKS trust."
  type        = string
  default     = ""
}

variable "eks_oidc_provider_url" {
  description = "Issuer URL of the EKS OIDC provider without https:// (e.g. oidc.eks.eu-west-2.amazonaws.com/id/ABC)."
  type        = string
  default     = ""
}

variable "eks_service_accounts" {
  description = "Kubernetes service accounts (namespace:name) allowed to assume the role through IRSA."
  type        = list(string)
  default     = ["reveries:reveries-dagster"]
}

variable "eks_branch_service_accounts" {
  description = "Kubernetes service accounts (namespace:name) of branch deployments, allowed to assume the branch role through IRSA."
  type        = list(string)
  default     = ["reveries:reveries-branch"]
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored (0 deletes immediately)."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Extra tags applied to every resource."
  type        = map(string)
  default     = {}
}
