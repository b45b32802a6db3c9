"""Structured step logs: one JSON object per line on stdout.

Argo's UI and ``kubectl logs`` show them as they are; the local runner keeps them per
step in the run's folder. Every event names the pipeline and the step, and with
tracing on the trace id, so a log line leads to its trace.
"""

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO


class EventLog:
    """Writes events as JSON lines with the pipeline and step on each."""

    def __init__(
        self,
        pipeline: str,
        step: str,
        stream: TextIO | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.step = step
        self.trace_id = trace_id
        self._stream = stream or sys.stdout
        self._started = time.monotonic()

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        """Write one event line and flush it, so a killed step's log is complete."""
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "pipeline": self.pipeline,
            "step": self.step,
            "event": event,
            "elapsed_s": round(time.monotonic() - self._started, 3),
            **fields,
        }
        if self.trace_id is not None:
            record["trace_id"] = self.trace_id
        self._stream.write(json.dumps(record, default=str) + "\n")
        self._stream.flush()
