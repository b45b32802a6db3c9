"""``extract-sql``: stream a table or query from a SQL database into an artifact."""
