"""MariaDB/MySQL: PyMySQL's unbuffered cursor for extracts, multi-row INSERT for loads."""
