"""``orders-partitioned``: the demo orders fanned out by file, then by date range.

Each orders CSV is extracted and checked in its own pod (a partition-wise chain:
``orders`` and ``orders-checked`` run per file, the checks reading only their file's
partition), the daily revenue is computed per week of order dates over the union of
the checked files, and the weeks' results are loaded together into one dataset.
Generate its input with ``ferry demo-data`` and run it with
``ferry run orders-partitioned --pipelines workflows.pipelines``.
"""

from workflows import (
    Checks,
    CsvOptions,
    DateRange,
    FileGlob,
    FilesExtract,
    ParquetDatasetLoad,
    Pipeline,
    SameAs,
    Source,
    Target,
    Transform,
    param,
    partition,
)
from workflows.pipelines.orders_daily import CUSTOMERS, ORDER_COLUMNS, ORDER_RULES

WEEKLY_REVENUE_SQL = f"""\
select
    cast(o.order_ts as date) as order_date,
    coalesce(c.country, 'unknown') as country,
    o.status,
    o.currency,
    count(*) as orders,
    sum(o.amount) as revenue
from "orders-checked" as o
left join customers as c on c.customer_id = o.customer_id
where o.order_ts >= cast({partition("start")} as timestamp)
  and o.order_ts < cast({partition("end")} as timestamp)
group by all
order by all
"""

pipeline = Pipeline(
    name="orders-partitioned",
    params={
        "data_dir": "data/demo",
        "output_dir": "data/demo-output",
        "first_day": "2026-11-01",
        "end_day": "2026-11-15",
    },
    steps=[
        Source(
            name="orders",
            partitions=FileGlob(path=f"{param('data_dir')}/orders/*.csv", parallelism=2),
            config=FilesExtract(
                path=partition("path"),
                format="csv",
                columns=ORDER_COLUMNS,
                csv=CsvOptions(header=True),
                on_bad_row="quarantine",
            ),
        ),
        CUSTOMERS,
        Checks(
            name="orders-checked",
            input="orders",
            partitions=SameAs(step="orders", parallelism=2),
            rules=ORDER_RULES,
        ),
        Transform(
            name="weekly-revenue",
            inputs=["orders-checked", "customers"],
            partitions=DateRange(
                start=param("first_day"), end=param("end_day"), days=7, parallelism=2
            ),
            sql=WEEKLY_REVENUE_SQL,
        ),
        Target(
            name="revenue-dataset",
            input="weekly-revenue",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/partitioned_revenue",
                partition_by=["order_date"],
                mode="overwrite-partitions",
            ),
        ),
    ],
)
