"""Everything the run and step pages show, read from the store beside a run's record.

A run folder holds ``run.json`` (the record), ``workflow.yaml`` (the manifest it
executed, whose DAG tasks and ``dependencies`` are the graph to draw) and
``logs/<task>.log``. A step's artifact (``_manifest.json`` with its data and
quarantine files, a checks step's ``report.json``) is where the manifest's
``--output`` argument for that task points. Every read here is bounded: a log is
read from its tail, a quarantine a few rows at a time.
"""

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from steps.runtime.artifacts import MANIFEST, QUARANTINE, REASON_COLUMN
from steps.runtime.store import Location, read_text
from workflows.runner.record import RunRecord, RunStatus, TaskRecord, abandoned_reason
from workflows.runner.run_store import MANIFEST_FILE, RUN_FILE

REPORT = "report.json"
"""The quality report a checks step writes into its artifact (steps.checks.step)."""

LOG_TAIL_BYTES = 64 * 1024
"""How much of the end of a step's log its page shows."""

ATTEMPT_SCAN_BYTES = 8 * 1024 * 1024
"""How much of a log is read to find its attempts' starts and ends."""

QUARANTINE_SAMPLE_ROWS = 20
"""Quarantined rows a step's page shows."""

_ATTEMPT_HEADER = re.compile(
    r"^==> (?P<task>\S+) attempt (?P<number>\d+)/(?P<limit>\d+) pod \S+ at (?P<at>\S+)$"
)
"""The line the local runner writes into a task's log when an attempt starts."""

_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


class RunNotFound(LookupError):
    """No readable run record at the place named."""


@dataclass(frozen=True)
class Attempt:
    """One attempt of a task, as its log tells it."""

    number: int
    started: datetime
    finished: datetime | None
    outcome: str
    """``Succeeded``, ``Failed`` (the step said why), ``Running``, or the task's phase."""
    reason: str | None = None


@dataclass
class QuarantineSample:
    """The first rows of a step's quarantine, every value as text, the reason last."""

    columns: list[str]
    rows: list[list[str]]
    total: int
    """Rows the quarantine holds (from the artifact's manifest)."""


@dataclass(frozen=True)
class ProfileTable:
    """A checks step's column profile as a table: one row per column, one cell per statistic."""

    keys: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass
class StepDetails:
    """What a step's page shows besides its task record."""

    attempts: list[Attempt]
    log_tail: str
    log_truncated: bool
    artifact_uri: str | None
    report: dict[str, Any] | None
    quarantine: QuarantineSample | None
    profile: ProfileTable | None = None
    problems: list[str] = field(default_factory=list)
    """One line for each part that could not be read (shown, not raised)."""


def run_folder(store: Location, pipeline: str, run_id: str) -> Location:
    """The folder of run ``run_id`` of ``pipeline``."""
    return store.child("runs", pipeline, run_id)


def load_record(store: Location, pipeline: str, run_id: str) -> RunRecord:
    """The record of the run, ``Abandoned`` when it says ``Running`` but its runner is gone.

    Raises:
        RunNotFound: there is no such record, or it cannot be parsed.
    """
    loc = run_folder(store, pipeline, run_id).child(RUN_FILE)
    try:
        record = RunRecord.model_validate_json(read_text(loc))
    except FileNotFoundError:
        raise RunNotFound(f"no run {run_id!r} of pipeline {pipeline!r} in the store") from None
    except (OSError, ValueError) as err:
        first = " ".join(str(err).split())[:200]
        raise RunNotFound(f"{loc.uri}: cannot read the run record ({first})") from None
    reason = abandoned_reason(record)
    if reason is not None:
        record.status = RunStatus.ABANDONED
        record.message = reason
    return record


def load_manifest(store: Location, pipeline: str, run_id: str) -> dict[str, Any] | None:
    """The manifest the run executed, or None when the run kept none (or it is unreadable)."""
    loc = run_folder(store, pipeline, run_id).child(MANIFEST_FILE)
    try:
        manifest = yaml.safe_load(read_text(loc))
    except (OSError, yaml.YAMLError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _dag_tasks(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    spec = manifest.get("spec") or {}
    entry = spec.get("entrypoint")
    for template in spec.get("templates") or []:
        wanted = entry is None or (isinstance(template, dict) and template.get("name") == entry)
        if isinstance(template, dict) and "dag" in template and wanted:
            tasks = (template.get("dag") or {}).get("tasks") or []
            return [t for t in tasks if isinstance(t, dict) and "name" in t]
    return []


def _depends_names(expression: str, known: set[str]) -> list[str]:
    """Task names an Argo ``depends`` expression mentions (``a && (b.Failed || c)``)."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z]+)?", expression)
    names = [w.split(".")[0] for w in words]
    return list(dict.fromkeys(n for n in names if n in known))


def dag_graph(record: RunRecord, manifest: dict[str, Any] | None) -> dict[str, list[str]]:
    """Task name -> the tasks it waits for, from the manifest's DAG; the record's tasks.

    The record's tasks are the nodes: one the manifest does not name (or every task of
    a run without a manifest) gets no edges, and a manifest task the record lacks is
    left out.
    """
    graph: dict[str, list[str]] = {t.name: [] for t in record.tasks}
    for task in _dag_tasks(manifest) if manifest else []:
        name = str(task["name"])
        if name not in graph:
            continue
        deps = [str(d) for d in task.get("dependencies") or []]
        if isinstance(task.get("depends"), str):
            deps += _depends_names(task["depends"], set(graph))
        graph[name] = list(dict.fromkeys(d for d in deps if d in graph and d != name))
    return graph


def artifact_location(
    store: Location, record: RunRecord, task: TaskRecord, manifest: dict[str, Any] | None
) -> Location:
    """Where the task's artifact is: its template's ``--output``, else the default place.

    The default (``STORE/artifacts/<run-id>/<step>``) is where the renderer points every
    step; the manifest is asked first so a template that writes elsewhere is still found.
    """
    output = _output_argument(manifest, task.template) if manifest else None
    if output is not None:
        values = {f"workflow.parameters.{k}": v for k, v in record.parameters.items()}
        values["workflow.name"] = record.run_id
        resolved = _TEMPLATE_VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), output)
        if "{{" not in resolved:
            from workflows.runner.run_store import open_store

            return open_store(resolved)
    return store.child("artifacts", record.run_id, task.name)


def _output_argument(manifest: dict[str, Any], template_name: str) -> str | None:
    for template in (manifest.get("spec") or {}).get("templates") or []:
        if isinstance(template, dict) and template.get("name") == template_name:
            args = (template.get("container") or {}).get("args") or []
            for flag, value in itertools.pairwise(args):
                if flag == "--output" and isinstance(value, str):
                    return value
    return None


def read_attempts(store: Location, record: RunRecord, task: TaskRecord) -> list[Attempt]:
    """The task's attempts, from the headers the runner writes into its log.

    The header's time has whole seconds only, so an attempt starts where its first
    JSON log line says the step started (its time less its ``elapsed_s``). A retried
    run's log keeps the attempts of every ``ferry retry``. An attempt ends at its last
    timestamped log line, the task's last attempt at the task's end when the record
    has one. A task that never started has none.
    """
    sections: list[dict[str, Any]] = []
    for line in _log_head_lines(store, record, task):
        header = _ATTEMPT_HEADER.match(line)
        if header and header["task"] == task.name:
            at = datetime.fromisoformat(header["at"])
            sections.append({"number": int(header["number"]), "started": at, "last": None})
            continue
        if not sections or not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        current = sections[-1]
        if isinstance(event.get("ts"), str):
            current["last"] = datetime.fromisoformat(event["ts"])
            elapsed = event.get("elapsed_s")
            if "began" not in current and isinstance(elapsed, int | float):
                current["began"] = current["last"] - timedelta(seconds=elapsed)
        if event.get("event") == "step_failed":
            current["outcome"], current["reason"] = "Failed", event.get("reason")
        elif event.get("event") == "step_finished":
            current["outcome"] = "Succeeded"
    attempts: list[Attempt] = []
    for index, section in enumerate(sections):
        last = index == len(sections) - 1
        finished = section["last"]
        outcome = section.get("outcome")
        if last:
            finished = task.finished or finished
            outcome = outcome or task.status.value
        began = section.get("began") or section["started"]
        attempts.append(
            Attempt(
                number=section["number"],
                started=began.astimezone(UTC),
                finished=finished.astimezone(UTC) if finished else None,
                outcome=outcome or "Failed",
                reason=section.get("reason") or (task.reason if last else None),
            )
        )
    return attempts


def _log_location(store: Location, record: RunRecord, task: TaskRecord) -> Location:
    return run_folder(store, record.pipeline, record.run_id).child("logs", f"{task.name}.log")


def _log_head_lines(store: Location, record: RunRecord, task: TaskRecord) -> Iterator[str]:
    """The lines of the task's log, up to :data:`ATTEMPT_SCAN_BYTES`; none when it is missing."""
    loc = _log_location(store, record, task)
    try:
        with loc.fs.open_input_stream(loc.path) as stream:
            data = bytes(stream.read(ATTEMPT_SCAN_BYTES))
    except (FileNotFoundError, OSError):
        return
    yield from data.decode("utf-8", errors="replace").splitlines()


def read_log_tail(store: Location, record: RunRecord, task: TaskRecord) -> tuple[str, bool]:
    """The last :data:`LOG_TAIL_BYTES` of the task's log and whether it was cut."""
    loc = _log_location(store, record, task)
    try:
        with loc.fs.open_input_file(loc.path) as handle:
            size = handle.size()
            start = max(0, size - LOG_TAIL_BYTES)
            handle.seek(start)
            data = bytes(handle.read(size - start))
    except (FileNotFoundError, OSError):
        return "", False
    text = data.decode("utf-8", errors="replace")
    if start:
        text = text.split("\n", 1)[-1]
    return text, start > 0


def read_report(artifact: Location) -> dict[str, Any] | None:
    """A checks step's quality report, or None when the step wrote none.

    Raises:
        ValueError: the report is there but is not a JSON object.
    """
    try:
        report = json.loads(read_text(artifact.child(REPORT)))
    except FileNotFoundError:
        return None
    if not isinstance(report, dict):
        raise ValueError(f"{artifact.child(REPORT).uri}: not a JSON object")
    return report


def read_quarantine(artifact: Location, limit: int = QUARANTINE_SAMPLE_ROWS) -> QuarantineSample:
    """The first ``limit`` quarantined rows of a committed artifact (none when it has none).

    Only the files the artifact's manifest lists are read, a batch at a time.

    Raises:
        FileNotFoundError: the artifact has no manifest (it was never committed).
        ValueError: the manifest or a file cannot be read as what it should be.
    """
    import pyarrow.parquet as pq

    manifest = json.loads(read_text(artifact.child(MANIFEST)))
    files = (manifest.get("files") or {}).get(QUARANTINE) or []
    total = int((manifest.get("rows") or {}).get(QUARANTINE) or 0)
    columns: list[str] = []
    rows: list[list[str]] = []
    for name in files:
        loc = artifact.child(name)
        with loc.fs.open_input_file(loc.path) as handle:
            parquet = pq.ParquetFile(handle)
            names = parquet.schema_arrow.names
            if not columns:
                columns = [n for n in names if n != REASON_COLUMN] + [REASON_COLUMN]
            for batch in parquet.iter_batches(batch_size=limit):
                values = batch.to_pydict()
                for i in range(batch.num_rows):
                    rows.append([_text(values[c][i]) if c in values else "" for c in columns])
                    if len(rows) >= limit:
                        return QuarantineSample(columns, rows, total)
    return QuarantineSample(columns, rows, total)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def step_details(
    store: Location, record: RunRecord, task: TaskRecord, manifest: dict[str, Any] | None
) -> StepDetails:
    """Attempts, log tail, quality report and quarantine sample of one step."""
    problems: list[str] = []
    artifact = artifact_location(store, record, task, manifest)
    report: dict[str, Any] | None = None
    quarantine: QuarantineSample | None = None
    try:
        report = read_report(artifact)
    except (OSError, ValueError) as err:
        problems.append(f"quality report: {' '.join(str(err).split())}")
    try:
        quarantine = read_quarantine(artifact)
    except FileNotFoundError:
        quarantine = None
    except (OSError, ValueError, KeyError) as err:
        problems.append(f"quarantine: {' '.join(str(err).split())}")
    tail, truncated = read_log_tail(store, record, task)
    return StepDetails(
        profile=profile_table(report.get("profile")) if report else None,
        attempts=read_attempts(store, record, task),
        log_tail=tail,
        log_truncated=truncated,
        artifact_uri=artifact.uri,
        report=report,
        quarantine=quarantine,
        problems=problems,
    )


_NAME_KEYS = ("column", "name")


def profile_table(profile: object) -> ProfileTable | None:
    """The column profile of a quality report as a table, whatever its exact shape.

    Accepted: ``{"columns": {...} | [...]}``, ``{column: {stat: value}}`` or
    ``[{"column": name, stat: value}]``; anything else (or no profile) gives None, so
    a report from before profiling, or of a newer shape, still shows the rest.
    """
    if isinstance(profile, dict) and "columns" in profile:
        profile = profile["columns"]
    entries: list[tuple[str, dict[str, Any]]] = []
    if isinstance(profile, dict):
        entries = [(str(k), v) for k, v in profile.items() if isinstance(v, dict)]
    elif isinstance(profile, list):
        for item in profile:
            if isinstance(item, dict):
                name = next((item[k] for k in _NAME_KEYS if k in item), "")
                entries.append((str(name), item))
    if not entries:
        return None
    keys = list(dict.fromkeys(k for _, stats in entries for k in stats if k not in _NAME_KEYS))
    rows = [(name, [_stat(stats.get(k)) for k in keys]) for name, stats in entries]
    return ProfileTable(keys, rows)


def _stat(value: object) -> str:
    """A profile statistic as short text: numbers rounded, top values as ``value (count)``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        if {"value", "count"} <= set(value):
            return f"{value['value']} ({value['count']})"
        return ", ".join(f"{k}: {_stat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_stat(v) for v in value)
    return str(value)
