"""PostgreSQL: ADBC (binary COPY) for extracts, psycopg 3 (COPY) for loads."""
