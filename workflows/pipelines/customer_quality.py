"""``customer-quality``: a data-quality gate on customers, after ``orders-daily``, two outputs.

It shows what ``orders-daily`` does not: an inferred source schema, dataset-level
and SQL rules, a strict threshold, per-step retry and resources, ``run_date`` in
the SQL and in an output path, one step feeding two targets, and a dependency
trigger: every run of ``orders-daily`` that succeeds starts it with the same
``run_date``, ``data_dir`` and ``output_dir`` (rendered into ``orders-daily``'s exit
handler). It reads the
customers of ``ferry demo-data``:

    ferry run customer-quality -p run_date=2026-11-01
"""

from workflows import (
    AcceptedValues,
    AfterPipeline,
    Checks,
    FilesExtract,
    NotNull,
    ParquetDatasetLoad,
    Pipeline,
    Regex,
    Resources,
    RetryPolicy,
    RowCount,
    Source,
    SqlRule,
    Target,
    Transform,
    Unique,
    param,
)

SEGMENT_SUMMARY_SQL = f"""\
select
    cast({param("run_date")} as date) as run_date,
    country,
    segment,
    count(*) as customers
from "customers-checked"
group by all
order by all
"""

pipeline = Pipeline(
    name="customer-quality",
    params={"data_dir": "data/demo", "output_dir": "data/demo-output"},
    steps=[
        Source(
            name="customers",
            config=FilesExtract(path=f"{param('data_dir')}/customers/*.parquet", format="parquet"),
            retry=RetryPolicy(limit=4, policy="Always", backoff_duration="30s"),
        ),
        Checks(
            name="customers-checked",
            input="customers",
            threshold=1.0,
            rules=[
                RowCount(min=1),
                NotNull(column="customer_id"),
                Unique(columns=["customer_id"]),
                Regex(column="country", pattern=r"^[A-Z]{2}$"),
                AcceptedValues(column="segment", values=["consumer", "smb", "enterprise"]),
                SqlRule(name="named", predicate="length(trim(name)) > 0"),
            ],
        ),
        Transform(
            name="segment-summary",
            inputs=["customers-checked"],
            sql=SEGMENT_SUMMARY_SQL,
            memory_limit="512MB",
            resources=Resources(cpu_request="100m", memory_request="256Mi", memory_limit="1Gi"),
        ),
        Target(
            name="clean-customers",
            input="customers-checked",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/customers/{param('run_date')}", mode="overwrite"
            ),
        ),
        Target(
            name="segment-history",
            input="segment-summary",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/segment_history",
                partition_by=["run_date"],
                mode="overwrite-partitions",
            ),
        ),
    ],
    triggers=[
        AfterPipeline(
            pipeline="orders-daily",
            parameters={
                "run_date": "run_date",
                "data_dir": "data_dir",
                "output_dir": "output_dir",
            },
        )
    ],
    quality_threshold=0.99,
    labels={"team": "data-quality"},
)
