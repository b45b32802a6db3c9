"""What the SQL source and the SQL target share: connection URLs, dialects, SQL text.

``extract-sql`` and ``load-sql`` parse the same URLs, read the password from the
same environment variable, quote names and values the same way, so a database is
spelled identically on both sides of a pipeline. Everything particular to one
database lives in its folder (``postgres/``, ``mysql/``, ``sqlite/``), reached
through :func:`steps.databases.registry.dialect`.
"""
