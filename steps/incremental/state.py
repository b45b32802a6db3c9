"""The state of one incremental source: its high-water mark and its boundary digests.

``STORE/state/<pipeline>/<source>.json`` (format ``ferry-cursor/2``)::

    {"format": "ferry-cursor/2", "source": "orders", "field": "updated_at",
     "value": "2024-05-01 10:00:00", "kind": "timestamp",
     "digest_columns": ["id", "updated_at"], "keys": ["<32 hex digits>", ...],
     "keys_count": 1, "run_id": "...", "updated_at": "..."}

``keys`` are the digests (:mod:`steps.incremental.digests`) of every row with a cursor
value at or above ``value - lag`` as of the run that set the mark: exactly the rows
the next run re-reads and must not deliver again. Up to :data:`INLINE_KEYS` digests
are kept in the JSON; more go to a Parquet side file next to it, named in
``keys_file`` instead of ``keys``. A new side file is written first under a new name,
then the JSON is replaced atomically, then the old side file removed, so a reader
always sees a mark with its own key set. The artifact manifest's ``cursor`` entry
uses the same fields (its side file is ``cursor-keys.parquet`` in the artifact).

Extract steps read the state; only ``commit-state`` writes it, after every target of
the run committed. A file without ``format`` (written before format 2) has no keys:
its boundary rows are read once more (at-least-once; loads are upserts).
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from steps.incremental import digests as dg
from steps.incremental.values import KINDS, Kind, infer_kind
from steps.runtime.config import CursorValue
from steps.runtime.errors import StepError
from steps.runtime.store import (
    Location,
    delete_file,
    exists,
    publish_bytes,
    read_text,
    write_text_atomic,
)

FORMAT = "ferry-cursor/2"
INLINE_KEYS = 1000
"""Most digests kept inline in a state file or manifest; more go to a Parquet side file."""

ARTIFACT_KEYS_FILE = "cursor-keys.parquet"


@dataclass(frozen=True)
class KeySet:
    """Digests of the rows at or above ``mark - lag``, and the columns they cover."""

    columns: list[str] | None = None
    digests: list[bytes] = field(default_factory=list)

    def to_fields(self, folder: Location, side_file: str) -> dict[str, Any]:
        """The JSON fields; writes ``folder/side_file`` when there are many digests."""
        fields: dict[str, Any] = {"digest_columns": self.columns, "keys_count": len(self.digests)}
        if len(self.digests) <= INLINE_KEYS:
            fields["keys"] = [d.hex() for d in self.digests]
        else:
            publish_bytes(folder.child(side_file), dg.to_parquet(self.digests))
            fields["keys_file"] = side_file
        return fields

    @classmethod
    def from_fields(cls, data: dict[str, Any], folder: Location) -> "KeySet":
        """The key set in ``data`` (inline or in a side file in ``folder``)."""
        columns = data.get("digest_columns")
        if "keys_file" in data:
            digests = dg.from_parquet(_read_bytes(folder.child(str(data["keys_file"]))))
        else:
            digests = [bytes.fromhex(str(h)) for h in data.get("keys") or []]
        return cls(columns=None if columns is None else [str(c) for c in columns], digests=digests)


@dataclass(frozen=True)
class CursorState:
    """A stored high-water mark and the digests of the rows the next run re-reads."""

    source: str
    field: str
    value: CursorValue
    kind: Kind
    keys: KeySet
    run_id: str
    updated_at: str
    keys_file: str | None = None


def _read_bytes(loc: Location) -> bytes:
    if loc.is_local:
        with open(loc.path, "rb") as f:
            return f.read()
    with loc.fs.open_input_stream(loc.path) as stream:
        return bytes(stream.read())


def _folder(loc: Location) -> Location:
    path, _, _ = loc.path.rpartition("/")
    uri, _, _ = loc.uri.rpartition("/")
    return Location(path, uri)


def read_state(loc: Location, source: str, field: str) -> CursorState | None:
    """The stored state of ``source``, or None before its first committed run.

    A mark kept for another field means the cursor changed; the step fails rather
    than compare values of a different column.
    """
    if not exists(loc):
        return None
    try:
        data: dict[str, Any] = json.loads(read_text(loc))
        value = data["value"]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(f"value {value!r} is not a number or text")
        kind = data.get("kind") or infer_kind(value)
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        state = CursorState(
            source=str(data["source"]),
            field=str(data["field"]),
            value=value,
            kind=kind,
            keys=KeySet.from_fields(data, _folder(loc)),
            run_id=str(data["run_id"]),
            updated_at=str(data["updated_at"]),
            keys_file=data.get("keys_file"),
        )
    except (ValueError, KeyError, TypeError, OSError) as err:
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


def write_state(
    loc: Location,
    source: str,
    field: str,
    value: CursorValue,
    run_id: str,
    *,
    kind: Kind | None = None,
    keys: KeySet | None = None,
) -> CursorState:
    """Replace the state of ``source`` (mark and key set together); return what was written."""
    previous_side = _previous_side_file(loc)
    keys = keys or KeySet()
    stem = loc.path.rpartition("/")[2].removesuffix(".json")
    side = f"{stem}.keys-{uuid.uuid4().hex[:8]}.parquet"
    state_kind = kind or infer_kind(value)
    body: dict[str, Any] = {
        "format": FORMAT,
        "source": source,
        "field": field,
        "value": value,
        "kind": state_kind,
        **keys.to_fields(_folder(loc), side),
        "run_id": run_id,
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_text_atomic(loc, json.dumps(body, indent=2))
    if previous_side and previous_side != body.get("keys_file"):
        delete_file(_folder(loc).child(previous_side))
    return CursorState(
        source=source,
        field=field,
        value=value,
        kind=state_kind,
        keys=keys,
        run_id=run_id,
        updated_at=body["updated_at"],
        keys_file=body.get("keys_file"),
    )


def _previous_side_file(loc: Location) -> str | None:
    if not exists(loc):
        return None
    try:
        side = json.loads(read_text(loc)).get("keys_file")
    except (ValueError, AttributeError):
        return None
    return str(side) if side else None
