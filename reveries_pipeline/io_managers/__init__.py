"""IO managers: raw batches (ingestion bucket), parquet tables (processed bucket).

The warehouse has none: its load is one multi-table transaction, which the asset runs itself.
"""
