"""``load-sql``: load an artifact into a PostgreSQL, MariaDB/MySQL or SQLite table."""
