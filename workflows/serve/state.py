"""What the scheduler keeps in the store, so a restart neither loses nor repeats a run.

``STORE/serve/state.json``, rewritten atomically after every change:

- ``last_scheduled``: per pipeline, the newest fire time already handled (run,
  queued or skipped); the next start catches up from there;
- ``queued``: runs decided but not started yet (waiting for the pipeline's running
  run, or a catch-up backlog), oldest first;
- ``in_flight``: runs started and not yet seen ending: the pid of their ``ferry run``
  and the parameters that find their record again after a restart.
"""

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from steps.runtime.store import Location, exists, read_text, write_text_atomic
from workflows.errors import UsageError

STATE_FOLDER = "serve"
STATE_FILE = "state.json"

Origin = Literal["schedule", "catchup", "event", "arrival"]
"""What asked for a run: a tick, a missed tick after downtime, a posted event, an object."""


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def utc_now() -> datetime:
    """Now, in UTC: the scheduler's default clock."""
    return datetime.now(UTC)


class PendingRun(BaseModel):
    """A run decided and waiting to start."""

    id: str = Field(default_factory=_new_id, description="Stable id across restarts.")
    pipeline: str = Field(description="Pipeline to run.")
    origin: Origin = Field(description="What asked for the run.")
    parameters: dict[str, str] = Field(description="The run's -p values.")
    fire: datetime | None = Field(default=None, description="Fire time of a scheduled run.")
    reason: str = Field(default="", description="Binding or object that started it.")
    queued: datetime = Field(default_factory=utc_now, description="When it was decided.")


class InFlightRun(PendingRun):
    """A run started: its ``ferry run`` process and when it was launched."""

    launched: datetime = Field(description="When the process was started (UTC).")
    pid: int | None = Field(default=None, description="Pid of its ferry run process.")
    host: str = Field(description="Host the process runs on.")
    stopping_since: datetime | None = Field(
        default=None, description="When SIGTERM was sent (Replace, or the server stopping)."
    )


class ServeState(BaseModel):
    """The whole persisted state of one store's scheduler."""

    last_scheduled: dict[str, datetime] = Field(default={})
    queued: list[PendingRun] = Field(default=[])
    in_flight: list[InFlightRun] = Field(default=[])


def state_location(store: Location) -> Location:
    """``STORE/serve/state.json``."""
    return store.child(STATE_FOLDER, STATE_FILE)


def load_state(store: Location) -> ServeState:
    """The saved state, or a fresh one for a store that never had a server.

    Raises:
        UsageError: the file is damaged (exit 2): it is never overwritten silently.
    """
    location = state_location(store)
    if not exists(location):
        return ServeState()
    try:
        return ServeState.model_validate_json(read_text(location))
    except (ValidationError, UnicodeDecodeError) as err:
        reason = " ".join(str(err).split())[:200]
        raise UsageError(
            f"the scheduler state {location.uri} is damaged ({reason}); move it away to "
            "start afresh (the next start then schedules from now on)"
        ) from None


def save_state(store: Location, state: ServeState) -> None:
    """Write the state atomically (a reader never sees half of it)."""
    write_text_atomic(state_location(store), state.model_dump_json(indent=2))
