"""Pipelines for the ``ferry serve`` tests: small real runs on files under the cwd.

- ``serve-cron``: every minute (UTC, Forbid), people.csv -> out/cron/<run_date>;
- ``serve-events``: an event ``orders-ready`` with ``kind == "daily"`` runs it with
  the payload's ``date`` and ``label``;
- ``serve-arrivals``: a CSV landing under ``landing/orders/`` runs it on that object;
- ``serve-slow``: an event ``slow`` starts a run whose Python step sleeps a minute.
"""

from workflows import (
    EventTrigger,
    FilesExtract,
    ObjectArrival,
    ParquetDatasetLoad,
    Pipeline,
    PythonStep,
    Schedule,
    Source,
    Target,
    param,
)

PEOPLE = {"id": "int64", "name": "string"}


def _people(path: str) -> Source:
    return Source(name="people", config=FilesExtract(path=path, format="csv", columns=PEOPLE))


cron = Pipeline(
    name="serve-cron",
    params={"data_dir": "data", "output_dir": "out"},
    schedule=Schedule(cron=["* * * * *"], concurrency_policy="Forbid"),
    steps=[
        _people(f"{param('data_dir')}/people.csv"),
        Target(
            name="saved",
            input="people",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/cron/{param('run_date')}", mode="overwrite"
            ),
        ),
    ],
)

events = Pipeline(
    name="serve-events",
    params={"data_dir": "data", "output_dir": "out", "label": "none"},
    triggers=[
        EventTrigger(
            discriminator="orders-ready",
            selector='payload.kind == "daily"',
            parameters={"run_date": "payload.date", "label": "payload.label"},
        )
    ],
    steps=[
        _people(f"{param('data_dir')}/people.csv"),
        Target(
            name="saved",
            input="people",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/events/{param('label')}-{param('run_date')}",
                mode="overwrite",
            ),
        ),
    ],
)

arrivals = Pipeline(
    name="serve-arrivals",
    params={"buckets": "buckets", "output_dir": "out", "input_key": "orders/none.csv"},
    triggers=[
        ObjectArrival(
            bucket="landing", prefix="orders/", suffix=".csv", parameters={"input_key": "key"}
        )
    ],
    steps=[
        _people(f"{param('buckets')}/landing/{param('input_key')}"),
        Target(
            name="saved",
            input="people",
            config=ParquetDatasetLoad(path=f"{param('output_dir')}/arrivals", mode="append"),
        ),
    ],
)

slow = Pipeline(
    name="serve-slow",
    params={"data_dir": "data", "output_dir": "out"},
    triggers=[EventTrigger(discriminator="slow")],
    steps=[
        _people(f"{param('data_dir')}/people.csv"),
        PythonStep(name="linger", inputs=["people"], function="serve_steps:linger"),
        Target(
            name="saved",
            input="linger",
            config=ParquetDatasetLoad(path=f"{param('output_dir')}/slow", mode="overwrite"),
        ),
    ],
)
