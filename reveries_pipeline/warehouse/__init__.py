"""Stage 3: the star-schema warehouse in PostgreSQL, loaded exactly once from the processed bucket."""
