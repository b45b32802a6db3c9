"""Output parameters: small values Argo collects from files after the step ends.

The rendered templates declare ``outputs.parameters[].valueFrom.path`` under
``/tmp/ferry/outputs``; the local runner points ``FERRY_OUTPUTS_DIR`` at a folder of
its own and reads the same names from there.
"""

import json
import os
from pathlib import Path

from steps.contract import DEFAULT_OUTPUTS_DIR, OUTPUTS_DIR_ENV
from steps.runtime.accounting import RowCounts


def outputs_dir() -> Path:
    """The folder output parameters are written to."""
    return Path(os.environ.get(OUTPUTS_DIR_ENV, DEFAULT_OUTPUTS_DIR))


def write_output_parameters(counts: RowCounts, *, warning: str = "", cached: str = "") -> None:
    """Write the row counts, quality score, warning and cache hit where Argo reads them."""
    folder = outputs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    values = {
        "rows_in": str(counts.rows_in),
        "rows_out": str(counts.rows_out),
        "rows_rejected": str(counts.rows_rejected),
        "quality_score": f"{counts.quality_score:.6f}",
        "input_rows": json.dumps(dict(counts.input_rows), separators=(",", ":")),
        "warning": " ".join(warning.split()),
        "cached": cached,
    }
    for name, value in values.items():
        (folder / name).write_text(value)


def write_output_value(name: str, value: str) -> None:
    """Write one output parameter besides those every step writes (e.g. ``partitions``)."""
    folder = outputs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(value)
