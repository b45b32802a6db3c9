"""``api-to-table``: an HTTP source loaded into a PostgreSQL table, retried on failure.

The step retry policy is the default one (limit 2) with a short backoff, so a test
sees which failures the rendered ``retryStrategy`` retries (exit 1) and which it
does not (exit 2, 3) through ``ferry run``'s attempt count.
"""

from workflows import HttpExtract, Pipeline, RetryPolicy, Source, SqlTableLoad, Target, param

pipeline = Pipeline(
    name="api-to-table",
    params={"api_address": "127.0.0.1:8765", "pg_host": "127.0.0.1", "pg_schema": "public"},
    retry=RetryPolicy(limit=2, backoff_duration="1s", backoff_factor=1),
    steps=[
        Source(
            name="orders",
            config=HttpExtract(
                url=f"http://{param('api_address')}/orders",
                columns={"id": "int64", "name": "string"},
                backoff_initial_s=0.01,
                backoff_max_s=0.05,
                max_retries=1,
            ),
        ),
        Target(
            name="orders-table",
            input="orders",
            config=SqlTableLoad(
                url=(
                    f"postgresql://postgres@{param('pg_host')}:5432/test"
                    f"?options=-csearch_path%3D{param('pg_schema')}"
                ),
                table="orders",
            ),
        ),
    ],
)
