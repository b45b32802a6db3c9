"""Rows that could not be read: what was wrong, where, and the raw text.

A bad row cannot be split into the declared columns (that is why it is bad), so the
quarantine part of an ``extract-files`` artifact has its own fixed schema: the
reason, the source file, the line and the raw text.
"""

from dataclasses import dataclass

import pyarrow as pa

from steps.runtime.artifacts import REASON_COLUMN

SOURCE_FILE_COLUMN = "_ferry_source_file"
LINE_COLUMN = "_ferry_line"
RAW_COLUMN = "_ferry_raw"
QUARANTINE_SCHEMA = pa.schema(
    [
        (REASON_COLUMN, pa.string()),
        (SOURCE_FILE_COLUMN, pa.string()),
        (LINE_COLUMN, pa.int64()),
        (RAW_COLUMN, pa.string()),
    ]
)


@dataclass(frozen=True)
class BadRow:
    """One row that could not be read.

    ``line`` is the 1-based line (CSV: record, counting the header) or, for Parquet,
    the 1-based row number in the file.
    """

    file: str
    line: int
    problem: str
    raw: str
    unit: str = "line"

    @property
    def reason(self) -> str:
        """One line: where and what."""
        return f"{self.file} {self.unit} {self.line}: {self.problem}"


def quarantine_batch(rows: list[BadRow]) -> pa.RecordBatch:
    """The quarantine record batch of ``rows``."""
    return pa.RecordBatch.from_arrays(
        [
            pa.array([r.reason for r in rows], pa.string()),
            pa.array([r.file for r in rows], pa.string()),
            pa.array([r.line for r in rows], pa.int64()),
            pa.array([r.raw for r in rows], pa.string()),
        ],
        schema=QUARANTINE_SCHEMA,
    )
