"""A step's artifact as its page shows it: the quality report, its column profile, the quarantine.

Every read is bounded: the report is a small JSON file, the quarantine is read a
batch of a few rows at a time from the files its manifest lists.
"""

import json
from dataclasses import dataclass
from typing import Any

from steps.runtime.artifacts import MANIFEST, QUARANTINE, REASON_COLUMN
from steps.runtime.store import Location, read_text

REPORT = "report.json"
"""The quality report a checks step writes into its artifact (steps.checks.step)."""

QUARANTINE_SAMPLE_ROWS = 20
"""Quarantined rows a step's page shows."""


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
