"""The ``check`` step: route every row to data or quarantine, report, judge the score.

Rows stream batch by batch; DuckDB evaluates the rules on each batch and the
original Arrow batch is split by the result, so the data keeps its exact types.
The ``unique`` flags of each batch are found in input order on a thread of their
own, two batches are judged at a time on worker threads (``judge``), and the
report, the profile and the writes take them in input order.
The artifact, its quarantine and ``report.json`` are written and committed even
when the check fails, so the failing rows are there to look at.
"""

import tempfile
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pyarrow as pa

from steps.checks.config import ChecksConfig, RowCount, RuleBase, Unique
from steps.checks.drift import (
    drift,
    drift_message,
    previous_profile,
    profile_location,
    save_profile,
)
from steps.checks.duplicates import DuplicateRows
from steps.checks.evaluate import BatchEvaluator
from steps.checks.judge import Batch, Judge
from steps.checks.profile import Profiler
from steps.checks.report import QualityReport
from steps.checks.rules import compile_rules
from steps.checks.scan import scan
from steps.runtime.accounting import RowCounts
from steps.runtime.artifacts import QUARANTINE, REPORT, ArtifactReader
from steps.runtime.context import StepContext
from steps.runtime.duckdb_session import connect
from steps.runtime.errors import DataRejected, StepUsageError
from steps.runtime.ordered_pool import ordered_map
from steps.runtime.prefetch import prefetched
from steps.runtime.store import write_text_atomic

DUCKDB_MEMORY_LIMIT = "512MB"
"""DuckDB's budget while checking; beyond it (``unique`` over a large input) it spills."""


def _check_columns(rules: list[RuleBase], schema: pa.Schema, input_name: str) -> None:
    available = ", ".join(schema.names)
    for rule in rules:
        for column in rule.columns():
            if column not in schema.names:
                raise StepUsageError(
                    f"rule {rule.label()} names column {column!r}, which input {input_name!r} "
                    f"does not have (columns: {available}); fix the rule or the upstream step"
                )


def _drift(
    ctx: StepContext, config: ChecksConfig, profile: dict[str, Any]
) -> tuple[dict[str, Any] | None, str]:
    """Compare with the previous run's profile: the report's entry and the warning ("" if none).

    The entry is None when the comparison is switched off.
    """
    if config.profile_drift is None:
        return None, ""
    previous = previous_profile(profile_location(ctx.store, ctx.pipeline, ctx.step))
    moves = [] if previous is None else drift(previous, profile, config.profile_drift)
    warning = drift_message(previous, moves, config.profile_drift) if previous and moves else ""
    entry = {
        "factor": config.profile_drift,
        "previous_run": None if previous is None else previous.get("run_id"),
        "moves": moves,
    }
    return entry, warning


def _batches(
    reader: ArtifactReader, config: ChecksConfig, duplicates: DuplicateRows
) -> Iterator[Batch]:
    """The input's batches in order, each with its position and its ``unique`` flags."""
    start = 0
    with closing(scan(reader, config.batch_size)) as batches:  # its read-ahead joined
        for rows in batches:
            yield Batch(rows, start, duplicates.flag_columns(rows, start))
            start += rows.num_rows


def run(ctx: StepContext, config: ChecksConfig) -> RowCounts:
    """Check every row of the single input against the rules; fail below the threshold."""
    reader = ctx.only_input()
    schema = reader.schema
    row_rules: list[RuleBase] = [r for r in config.rules if not isinstance(r, RowCount)]
    row_count_rules = [r for r in config.rules if isinstance(r, RowCount)]
    _check_columns(row_rules, schema, reader.name)
    compiled = compile_rules(row_rules)
    report = QualityReport(compiled, row_count_rules, config.threshold)
    rows_in = 0
    with tempfile.TemporaryDirectory(prefix="ferry-check-") as spill:
        con = connect(memory_limit=DUCKDB_MEMORY_LIMIT, temp_directory=spill)
        try:
            profiler = Profiler(schema)
            evaluator = BatchEvaluator(con, compiled)
            evaluator.check_rules_bind(schema)
            writer = ctx.artifact_writer()
            uniques = {i: r for i, r in enumerate(row_rules) if isinstance(r, Unique)}
            duplicates = DuplicateRows(con, reader, uniques, config.batch_size)
            judge = Judge(con, evaluator, profiler)
            try:
                for judged in ordered_map(judge, prefetched(_batches(reader, config, duplicates))):
                    batch = judged.batch.rows
                    report.add(batch, judged.batch.start, judged.flags)
                    profiler.merge(judged.profile)
                    writer.write(judged.passing)
                    if judged.rejected is not None:
                        writer.quarantine(judged.rejected)
                    rows_in += batch.num_rows
            finally:
                judge.close()
        finally:
            con.close()
    counts = RowCounts(rows_in=rows_in, rows_out=writer.rows, rows_rejected=writer.rejected)
    profile = profiler.to_dict()
    drift, drift_warning = _drift(ctx, config, profile)
    report_loc = writer.loc.child(REPORT)
    write_text_atomic(report_loc, report.to_json(counts, profile, drift))
    writer.commit(schema=schema)
    save_profile(profile_location(ctx.store, ctx.pipeline, ctx.step), ctx.run_id, profile)
    passed = report.passed(counts)
    ctx.log.event("check_report", passed=passed, report=report_loc.uri)
    if not passed:
        quarantine_uri = writer.loc.child(QUARANTINE).uri
        message = report.failure_message(counts, quarantine_uri, report_loc.uri)
        if config.severity == "error":
            if drift_warning:
                ctx.warn(drift_warning)
            raise DataRejected(message, counts=counts)
        ctx.warn(message)  # the failed gate first: it is what the run summary must lead with
    if drift_warning:
        ctx.warn(drift_warning)
    return counts
