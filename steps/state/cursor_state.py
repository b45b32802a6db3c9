"""The high-water mark of one incremental source, kept as a small JSON file.

``STORE/state/<pipeline>/<source>.json`` holds ``{"source", "field", "value",
"run_id", "updated_at"}``. Extract steps read it to know where to start; only
``commit-state`` writes it, after every target of the run has committed, so a
failed run leaves the mark where it was and the next run reads the same window
again (at-least-once extraction; idempotent loads make the effect exactly-once).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from steps.runtime.errors import StepError
from steps.runtime.store import Location, exists, read_text, write_text_atomic

CursorValue = str | int | float


@dataclass(frozen=True)
class CursorState:
    """A stored high-water mark."""

    source: str
    field: str
    value: CursorValue
    run_id: str
    updated_at: str

    def to_json(self) -> str:
        """The file content."""
        return json.dumps(
            {
                "source": self.source,
                "field": self.field,
                "value": self.value,
                "run_id": self.run_id,
                "updated_at": self.updated_at,
            },
            indent=2,
        )


def read_cursor_state(loc: Location, source: str, field: str) -> CursorState | None:
    """The stored mark of ``source``, or None before its first committed run.

    A mark kept for another field means the cursor changed; the step fails rather
    than compare values of a different column.
    """
    if not exists(loc):
        return None
    try:
        data: dict[str, Any] = json.loads(read_text(loc))
        state = CursorState(
            source=str(data["source"]),
            field=str(data["field"]),
            value=data["value"],
            run_id=str(data["run_id"]),
            updated_at=str(data["updated_at"]),
        )
    except (ValueError, KeyError, TypeError) as err:
        raise StepError(
            f"state file {loc.uri} of source {source!r} is unreadable ({err}); fix or delete "
            "it (deleting restarts from cursor.initial_value)"
        ) from None
    if state.field != field:
        raise StepError(
            f"state file {loc.uri} tracks field {state.field!r} but source {source!r} now uses "
            f"cursor field {field!r}; delete the file to restart from cursor.initial_value"
        )
    return state


def write_cursor_state(
    loc: Location, source: str, field: str, value: CursorValue, run_id: str
) -> CursorState:
    """Replace the stored mark of ``source`` atomically; return what was written."""
    state = CursorState(
        source=source,
        field=field,
        value=value,
        run_id=run_id,
        updated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    write_text_atomic(loc, state.to_json())
    return state
