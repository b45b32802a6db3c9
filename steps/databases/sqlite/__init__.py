"""SQLite: ADBC for extracts and loads (whole Arrow batches bound to one INSERT)."""
