"""``orders-api``: incremental orders from an HTTP API, enriched with customers from PostgreSQL.

Each run fetches only the orders updated since the last committed run (a cursor on
``updated_at``), checks them, joins them with the ``customers`` table and loads the
result twice: upserted into the PostgreSQL table ``orders_enriched`` and merged into
a Parquet dataset partitioned by ``order_date``. Both loads replace a re-delivered
order by ``order_id``, and the renderer's ``commit-state`` step advances the cursor
only after both have committed, so every order lands in each target exactly once.
Serve the API with ``ferry demo-api``, seed the customers from
``orders_api_customers.sql`` and run it with ``ferry run orders-api`` (see
``docs/example-orders-api.md``).
"""

from workflows import (
    AcceptedValues,
    BearerAuth,
    Checks,
    Cursor,
    HttpExtract,
    NextLinkPagination,
    NotNull,
    ParquetDatasetLoad,
    Pipeline,
    Range,
    SecretRef,
    Source,
    SqlExtract,
    SqlTableLoad,
    Target,
    Transform,
    Unique,
    param,
)

POSTGRES_URL = f"postgresql://postgres@{param('pg_host')}:5432/{param('pg_database')}"
POSTGRES_PASSWORD_ENV = "FERRY_PG_PASSWORD"
POSTGRES_PASSWORD_SECRET = SecretRef(name="ferry-postgres", key="password")

ORDERS_ENRICHED_SQL = """\
select
    o.order_id,
    o.customer_id,
    c.name as customer_name,
    c.country as customer_country,
    o.status,
    o.amount,
    o.currency,
    o.updated_at,
    cast(o.updated_at at time zone 'UTC' as date) as order_date
from "orders-checked" as o
left join customers as c on c.customer_id = o.customer_id
order by o.order_id
"""

pipeline = Pipeline(
    name="orders-api",
    params={
        "api_address": "127.0.0.1:8765",
        "pg_host": "127.0.0.1",
        "pg_database": "test",
        "output_dir": "data/orders-api-output",
    },
    steps=[
        Source(
            name="orders",
            config=HttpExtract(
                url=f"http://{param('api_address')}/orders",
                params={"per_page": "500"},
                records_path="data",
                pagination=NextLinkPagination(type="next_link", next_path="next"),
                auth=BearerAuth(
                    type="bearer", token_env="FERRY_DEMO_API_TOKEN", secret_name="demo-api"
                ),
                columns={
                    "order_id": "int64",
                    "customer_id": "int64",
                    "updated_at": "timestamp[tz=UTC]",
                    "status": "string",
                    "amount": "decimal(12,2)",
                    "currency": "string",
                },
                cursor=Cursor(
                    field="updated_at",
                    primary_key=["order_id"],
                    initial_value="2026-11-01T00:00:00Z",
                ),
                cursor_param="updated_since",
            ),
        ),
        Source(
            name="customers",
            config=SqlExtract(
                url=POSTGRES_URL,
                password_env=POSTGRES_PASSWORD_ENV,
                password_secret=POSTGRES_PASSWORD_SECRET,
                table="customers",
                columns={"customer_id": "int64", "name": "string", "country": "string"},
            ),
        ),
        Checks(
            name="orders-checked",
            input="orders",
            rules=[
                NotNull(column="order_id"),
                NotNull(column="customer_id"),
                Unique(columns=["order_id"]),
                AcceptedValues(
                    column="status",
                    values=["placed", "paid", "shipped", "delivered", "cancelled"],
                ),
                Range(column="amount", min=0),
            ],
        ),
        Transform(
            name="orders-enriched",
            inputs=["orders-checked", "customers"],
            sql=ORDERS_ENRICHED_SQL,
        ),
        Target(
            name="orders-table",
            input="orders-enriched",
            config=SqlTableLoad(
                url=POSTGRES_URL,
                password_env=POSTGRES_PASSWORD_ENV,
                password_secret=POSTGRES_PASSWORD_SECRET,
                table="orders_enriched",
                mode="upsert",
                key=["order_id"],
            ),
        ),
        Target(
            name="orders-dataset",
            input="orders-enriched",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/orders_enriched",
                partition_by=["order_date"],
                mode="merge",
                key=["order_id"],
            ),
        ),
    ],
)
