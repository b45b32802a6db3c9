"""``orders-daily``: the demo pipeline, daily revenue from order CSVs and customers.

Orders (CSV, malformed rows quarantined) pass six data-quality rules, are joined
with customers, aggregated per order date, country, status and currency, and
loaded into a Parquet dataset partitioned by ``order_date``. Generate its input
with ``ferry demo-data`` and run it with ``ferry run orders-daily``.
"""

from workflows import (
    AcceptedValues,
    Checks,
    CsvOptions,
    FilesExtract,
    NotNull,
    ParquetDatasetLoad,
    Pipeline,
    Range,
    Regex,
    Rule,
    Schedule,
    Source,
    Target,
    Transform,
    Unique,
    param,
)

DAILY_REVENUE_SQL = """\
select
    cast(o.order_ts as date) as order_date,
    coalesce(c.country, 'unknown') as country,
    o.status,
    o.currency,
    count(*) as orders,
    sum(o.amount) as revenue
from "orders-checked" as o
left join customers as c on c.customer_id = o.customer_id
group by all
order by all
"""

ORDER_COLUMNS = {
    "order_id": "int64",
    "customer_id": "int64",
    "order_ts": "timestamp",
    "status": "string",
    "amount": "float64",
    "currency": "string",
    "email": "string",
}
"""The columns of the demo orders' CSV files."""

ORDERS = Source(
    name="orders",
    config=FilesExtract(
        path=f"{param('data_dir')}/orders/*.csv",
        format="csv",
        columns=ORDER_COLUMNS,
        csv=CsvOptions(header=True),
        on_bad_row="quarantine",
    ),
)
"""The demo orders: four CSV files, malformed lines and unparsable values quarantined."""

CUSTOMERS = Source(
    name="customers",
    config=FilesExtract(
        path=f"{param('data_dir')}/customers/*.parquet",
        format="parquet",
        columns={
            "customer_id": "int64",
            "name": "string",
            "country": "string",
            "segment": "string",
        },
    ),
)
"""The demo customers: one Parquet file."""

ORDER_RULES: list[Rule] = [
    NotNull(column="order_id"),
    NotNull(column="customer_id"),
    NotNull(column="amount"),
    Unique(columns=["order_id"]),
    AcceptedValues(
        column="status",
        values=["placed", "shipped", "delivered", "cancelled", "returned"],
    ),
    Range(column="amount", min=0, max=100_000),
    Regex(column="email", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    AcceptedValues(column="currency", values=["EUR", "USD", "GBP"]),
]
"""The demo orders' data-quality rules."""

pipeline = Pipeline(
    name="orders-daily",
    params={"data_dir": "data/demo", "output_dir": "data/demo-output"},
    steps=[
        ORDERS,
        CUSTOMERS,
        Checks(name="orders-checked", input="orders", rules=ORDER_RULES),
        Transform(
            name="daily-revenue",
            inputs=["orders-checked", "customers"],
            sql=DAILY_REVENUE_SQL,
        ),
        Target(
            name="revenue-dataset",
            input="daily-revenue",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/daily_revenue",
                partition_by=["order_date"],
                mode="overwrite-partitions",
            ),
        ),
    ],
    schedule=Schedule(cron=["0 3 * * *"], timezone="Europe/Berlin"),
)
