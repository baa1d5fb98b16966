"""Stage 1: incremental, lossless capture of the totesys tables into the raw (ingestion) bucket."""
