"""IO managers: raw batches (ingestion bucket), parquet tables (processed bucket), warehouse (PostgreSQL)."""
