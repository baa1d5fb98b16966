"""Shared plumbing: the lake's layout. Batch keys that sort in write order, listing what is new,
reading and writing parquet batch objects, and the bucket-sensor evaluation built on them."""
