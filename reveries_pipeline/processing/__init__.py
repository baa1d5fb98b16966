"""Stage 2: raw batches remodelled into the sales, purchases and payments star schemas."""
