"""One JSON line per scheduler event on stderr: tick, skip, start, finish, event, refused."""

import json
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO


class EventLog:
    """Writes ``{"time": ..., "event": ..., ...}`` lines, one per call, whole even from threads."""

    def __init__(
        self, stream: TextIO | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._stream = stream
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    def __call__(self, event: str, **fields: Any) -> None:
        """Log one event with its fields (values must be JSON-serialisable or str-able)."""
        line = {"time": self._clock().isoformat(timespec="seconds"), "event": event, **fields}
        text = json.dumps(line, default=_plain, ensure_ascii=False)
        with self._lock:
            stream = self._stream or sys.stderr
            stream.write(text + "\n")
            stream.flush()


def _plain(value: Any) -> str:
    """Datetimes as ISO 8601, anything else as its ``str``."""
    return value.isoformat() if isinstance(value, datetime) else str(value)
