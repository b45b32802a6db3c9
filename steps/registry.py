"""Every step kind: its sub-command name, its config model and its run function.

Entries are import paths so that ``python -m steps extract-files`` imports only what
that kind needs (no database drivers for a file extract).
"""

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from steps.runtime.accounting import RowCounts
    from steps.runtime.config import StepConfig
    from steps.runtime.context import StepContext


class RunFunction(Protocol):
    """A step kind's body: do the work, return the row counts."""

    def __call__(self, ctx: "StepContext", config: "StepConfig") -> "RowCounts":
        """Run the step; return rows in, out and rejected."""
        ...


@dataclass(frozen=True)
class StepKind:
    """One ``python -m steps <kind>`` sub-command."""

    name: str
    summary: str
    config: str
    run: str
    example: str

    def load_config_class(self) -> type["StepConfig"]:
        """Import the kind's config model."""
        module, _, attr = self.config.partition(":")
        return getattr(import_module(module), attr)  # type: ignore[no-any-return]

    def load_run(self) -> RunFunction:
        """Import the kind's run function."""
        module, _, attr = self.run.partition(":")
        return getattr(import_module(module), attr)  # type: ignore[no-any-return]


_COMMON = "--pipeline demo --step {step} --run-id demo-x1 --store .ferry"
_ART = ".ferry/artifacts/demo-x1"

KINDS: dict[str, StepKind] = {
    k.name: k
    for k in [
        StepKind(
            "extract-files",
            "Read CSV, JSON Lines or Parquet files (local or s3://) into an artifact.",
            "steps.extract.files.config:FilesExtract",
            "steps.extract.files.step:run",
            f"extract-files {_COMMON.format(step='orders')} --output {_ART}/orders "
            """--config '{"path": "data/orders/*.csv", "format": "csv"}'""",
        ),
        StepKind(
            "extract-http",
            "Page through a JSON HTTP API into an artifact.",
            "steps.extract.http.config:HttpExtract",
            "steps.extract.http.step:run",
            f"extract-http {_COMMON.format(step='orders')} --output {_ART}/orders "
            """--config '{"url": "http://127.0.0.1:8080/orders", "records_path": "data"}'""",
        ),
        StepKind(
            "extract-sql",
            "Stream a table or query from PostgreSQL, MariaDB/MySQL or SQLite into an artifact.",
            "steps.extract.sql.config:SqlExtract",
            "steps.extract.sql.step:run",
            f"extract-sql {_COMMON.format(step='customers')} --output {_ART}/customers "
            """--config '{"url": "postgresql://127.0.0.1/test", "table": "customers"}'""",
        ),
        StepKind(
            "check",
            "Apply data-quality rules; quarantine failing rows; fail below the threshold.",
            "steps.checks.config:ChecksConfig",
            "steps.checks.step:run",
            f"check {_COMMON.format(step='orders-checked')} --input orders={_ART}/orders "
            f"--output {_ART}/orders-checked "
            """--config '{"rules": [{"rule": "not_null", "column": "order_id"}]}'""",
        ),
        StepKind(
            "transform",
            "Run SQL over upstream artifacts with DuckDB, streaming Parquet in and out.",
            "steps.transform.config:TransformConfig",
            "steps.transform.step:run",
            f"transform {_COMMON.format(step='daily')} --input orders={_ART}/orders "
            f"--output {_ART}/daily "
            """--config '{"sql": "select status, count(*) as n from orders group by status"}'""",
        ),
        StepKind(
            "python",
            "Run a Python function over upstream artifacts, batch by batch, into an artifact.",
            "steps.python_step.config:PythonStepConfig",
            "steps.python_step.step:run",
            f"python {_COMMON.format(step='enriched')} --input orders={_ART}/orders "
            f"--output {_ART}/enriched "
            """--config '{"function": "my_steps.orders:enrich", "inputs": ["orders"]}'""",
        ),
        StepKind(
            "load-parquet",
            "Load an artifact into a (Hive-partitioned) Parquet dataset, local or s3://.",
            "steps.load.parquet_dataset.config:ParquetDatasetLoad",
            "steps.load.parquet_dataset.step:run",
            f"load-parquet {_COMMON.format(step='publish')} --input daily={_ART}/daily "
            """--config '{"path": "out/daily", "mode": "append"}'""",
        ),
        StepKind(
            "load-sql",
            "Load an artifact into a PostgreSQL, MariaDB/MySQL or SQLite table, idempotently.",
            "steps.load.sql_table.config:SqlTableLoad",
            "steps.load.sql_table.step:run",
            f"load-sql {_COMMON.format(step='to-pg')} --input daily={_ART}/daily "
            """--config '{"url": "postgresql://127.0.0.1/test", "table": "daily"}'""",
        ),
        StepKind(
            "partitions",
            "List the partitions of a fanned-out step (files, dates, values of a column).",
            "steps.partitions.config:ListPartitions",
            "steps.partitions.step:run",
            f"partitions {_COMMON.format(step='orders-partitions')} "
            """--config '{"spec": {"kind": "files", "path": "data/orders/*.csv"}}'""",
        ),
        StepKind(
            "commit-state",
            "Advance incremental high-water marks after every target has committed.",
            "steps.state.config:CommitState",
            "steps.state.step:run",
            f"commit-state {_COMMON.format(step='commit-state')} "
            f"--input orders={_ART}/orders "
            """--config '{"sources": ["orders"]}'""",
        ),
        StepKind(
            "notify",
            "Send a run's alert (failure, quality, sla, rejected share) to a webhook if it fires.",
            "steps.notify.config:NotifyConfig",
            "steps.notify.step:run",
            f"notify {_COMMON.format(step='alert-failure')} "
            """--config '{"alert": "failure", "workflow_status": "Failed", """
            """"failures": "[]", "webhook_env": "FERRY_WEBHOOK_URL"}'""",
        ),
    ]
}
