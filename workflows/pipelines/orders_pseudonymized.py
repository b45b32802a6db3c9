"""``orders-pseudonymized``: a Python step between two SQL transforms.

The demo orders (the same source as ``orders-daily``) are checked, narrowed by a
first SQL transform, pseudonymized by a Python function (a salted SHA-256 of the
e-mail address and its domain; addresses that are not addresses go to quarantine
with the reason), and aggregated per day and e-mail domain by a second SQL transform
into a Parquet dataset. The function lives
in ``workflows/pipelines/_pseudonymize.py``: locally the runner makes this folder
importable, and on the cluster it is part of the step image (``workflows`` is
installed there), so ``function`` names it by its package path.

    ferry run orders-pseudonymized --pipelines workflows.pipelines
"""

from workflows import (
    Checks,
    NotNull,
    ParquetDatasetLoad,
    Pipeline,
    PythonStep,
    Range,
    Target,
    Transform,
    Unique,
    param,
)
from workflows.pipelines.orders_daily import ORDERS

pipeline = Pipeline(
    name="orders-pseudonymized",
    params={"data_dir": "data/demo", "output_dir": "data/demo-output", "salt": "demo-salt"},
    steps=[
        ORDERS,
        Checks(
            name="orders-checked",
            input="orders",
            rules=[
                NotNull(column="order_id"),
                Unique(columns=["order_id"]),
                Range(column="amount", min=0),
            ],
        ),
        Transform(
            name="orders-narrow",
            inputs=["orders-checked"],
            sql="""\
select order_id, cast(order_ts as date) as order_date, amount, currency, trim(email) as email
from "orders-checked"
""",
        ),
        PythonStep(
            name="orders-pseudonymous",
            inputs=["orders-narrow"],
            function="workflows.pipelines._pseudonymize:pseudonymize",
            params={"salt": param("salt")},
            columns={
                "order_id": "int64",
                "order_date": "date",
                "amount": "float64",
                "currency": "string",
                "customer_key": "string",
                "email_domain": "string",
            },
        ),
        Transform(
            name="domain-daily",
            inputs=["orders-pseudonymous"],
            sql="""\
select order_date, email_domain, currency, count(*) as orders,
       count(distinct customer_key) as customers, sum(amount) as revenue
from "orders-pseudonymous"
group by all
order by all
""",
        ),
        Target(
            name="domain-dataset",
            input="domain-daily",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/domain_daily",
                partition_by=["order_date"],
                mode="overwrite-partitions",
            ),
        ),
    ],
)
