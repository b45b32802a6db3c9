"""One run of an incremental source: its window, and the filter every batch passes.

:meth:`Incremental.open` decides the window before any row is read:

- explicit window (``cursor.window_start`` set): ``[window_start, window_end)``,
  stateless: the state is neither read nor, through ``commit-state``, advanced;
- stored state: ``[mark - lag, end_value)``, inclusive, with the stored digests;
- no state yet: ``[initial_value, end_value)`` (no lower bound without one).

:meth:`Incremental.filter` then, per Arrow batch and vectorized: skips rows whose
cursor is null (counted), optionally re-checks the window (HTTP: an API may ignore
the bound parameters), drops re-read rows whose digest the state holds (counted as
boundary duplicates, not as rows in), and keeps the digests of the rows at or above
the running ``mark - lag`` for the next state. Only rows at or below the stored mark
or at or above that threshold are hashed.
"""

from typing import TYPE_CHECKING, Any

from steps.incremental import values as cv
from steps.incremental.digests import digest_columns, row_digests
from steps.incremental.state import ARTIFACT_KEYS_FILE, CursorState, KeySet, read_state
from steps.runtime.config import Cursor, CursorValue
from steps.runtime.errors import DataRejected

if TYPE_CHECKING:
    import pyarrow as pa

    from steps.runtime.context import StepContext
    from steps.runtime.log import EventLog
    from steps.runtime.store import Location


def _blank_to_none(value: CursorValue | None) -> CursorValue | None:
    return None if value == "" else value


class Incremental:
    """The window of one run over ``cursor`` and the state it leads to."""

    def __init__(
        self,
        cursor: Cursor,
        state: CursorState | None,
        *,
        numeric_text: bool = False,
        time_sep: str = " ",
    ) -> None:
        self.cursor = cursor
        self.stateless = cursor.explicit_window
        self.state = None if self.stateless else state
        self._numeric_text = numeric_text
        self._time_sep = time_sep
        self.lower: Any
        self.end: Any
        if self.stateless:
            self.lower, self.end = cursor.window_start, _blank_to_none(cursor.window_end)
        elif self.state is not None:
            mark = cv.from_json(self.state.value, self.state.kind)
            self.lower = cv.minus_lag(mark, cursor.lag, self.state.kind)
            self.end = cursor.end_value
        else:
            self.lower, self.end = cursor.initial_value, cursor.end_value
        self.boundary_duplicates = 0
        self.nulls_skipped = 0
        self.outside_window = 0
        self._type: pa.DataType | None = None
        self._scalars: dict[str, Any] = {}
        self._columns: list[str] | None = None
        self._stored: pa.Array | None = None
        self._previous: Any = None
        self._mark: Any = None
        self._mark_raw: Any = None
        self._candidates: list[tuple[pa.Array, pa.Array]] = []
        self._keys_reset: str | None = None

    @classmethod
    def open(
        cls, ctx: "StepContext", cursor: Cursor, *, numeric_text: bool = False, time_sep: str = " "
    ) -> "Incremental":
        """The window of this step's run: from its stored state unless the window is explicit."""
        state = None
        if not cursor.explicit_window:
            state = read_state(ctx.state_location(ctx.step), ctx.step, cursor.field)
        return cls(cursor, state, numeric_text=numeric_text, time_sep=time_sep)

    # --- before the rows -------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """The window for the log."""
        return {
            "mode": "window" if self.stateless else "incremental",
            "field": self.cursor.field,
            "lower": self._json(self.lower),
            "lower_inclusive": True,
            "end": self._json(self.end),
            "previous": None if self.state is None else self.state.value,
            "lag": self.cursor.lag,
            "stored_keys": 0 if self.state is None else len(self.state.keys.digests),
        }

    def bound_text(self, value: Any) -> str | None:
        """A bound as query-parameter text (a stored mark without lag exactly as stored)."""
        if value is None:
            return None
        if self.state is not None and not self.cursor.lag and value is self.lower:
            return str(self.state.value)
        return str(self._json(value))

    def _json(self, value: Any) -> CursorValue | None:
        return None if value is None else cv.to_json(value, time_sep=self._time_sep)

    # --- per batch --------------------------------------------------------------------

    def filter(self, batch: "pa.RecordBatch", *, check_window: bool = False) -> "pa.RecordBatch":
        """The rows of ``batch`` this run delivers (see the module docstring).

        Raises:
            DataRejected: the cursor column is missing or its values cannot be compared.
        """
        import pyarrow.compute as pc

        field = self.cursor.field
        if field not in batch.schema.names:
            raise DataRejected(
                f"cursor field {field!r} is not a column of the result "
                f"(columns: {', '.join(batch.schema.names)}); fix cursor.field or the query"
            )
        if batch.num_rows == 0:
            return batch
        comp = cv.comparable(batch.column(field), self._numeric_text)
        self._first_batch(batch, comp.type)
        keep = pc.is_valid(comp)
        valid = pc.sum(keep).as_py() or 0
        self.nulls_skipped += batch.num_rows - valid
        if check_window:
            inside = keep
            if "lower" in self._scalars:
                inside = pc.and_(inside, pc.greater_equal(comp, self._scalars["lower"]))
            if "end" in self._scalars:
                inside = pc.and_(inside, pc.less(comp, self._scalars["end"]))
            inside = pc.fill_null(inside, False)
            self.outside_window += valid - (pc.sum(inside).as_py() or 0)
            keep = inside
        if (pc.sum(keep).as_py() or 0) < batch.num_rows:
            batch, comp = batch.filter(keep), comp.filter(keep)
        if batch.num_rows == 0:
            return batch
        self._track_max(batch, comp)
        if self.stateless:
            return batch
        return self._deduplicate(batch, comp)

    def _first_batch(self, batch: "pa.RecordBatch", comp_type: "pa.DataType") -> None:
        if self._type is not None:
            if comp_type != self._type:
                raise DataRejected(
                    f"cursor field {self.cursor.field!r} changed type mid-stream "
                    f"({self._type} then {comp_type}); declare its type in `columns`"
                )
            return
        self._type = comp_type
        cv.kind_of_type(comp_type)
        for name, value in (("lower", self.lower), ("end", self.end)):
            if value is not None:
                bound = cv.python_bound(value, comp_type, "window " + name)
                self._scalars[name] = cv.scalar(bound, comp_type)
        if self.state is None:
            return
        self._previous = cv.python_bound(self.state.value, comp_type, "stored mark")
        self._mark = self._previous
        self._columns = digest_columns(
            self.cursor.primary_key, self.cursor.field, batch.schema.names
        )
        stored = self.state.keys
        if stored.digests and stored.columns not in (None, self._columns):
            self._keys_reset = (
                f"stored digests cover {stored.columns}, this run {self._columns}; "
                "the boundary rows are delivered once more"
            )
        elif stored.digests:
            import pyarrow as pa

            self._stored = pa.array(stored.digests, pa.binary(16))
            self._scalars["previous"] = cv.scalar(self._previous, comp_type)

    def _track_max(self, batch: "pa.RecordBatch", comp: "pa.Array") -> None:
        import pyarrow.compute as pc

        high = pc.max(comp)
        value = high.as_py()
        if self._mark is None or value > self._mark:
            index = pc.index(comp, high).as_py()
            self._mark = value
            self._mark_raw = batch.column(self.cursor.field)[index].as_py()

    def _threshold(self) -> Any:
        assert self._type is not None
        return cv.minus_lag(self._mark, self.cursor.lag, cv.kind_of_type(self._type))

    def _deduplicate(self, batch: "pa.RecordBatch", comp: "pa.Array") -> "pa.RecordBatch":
        import pyarrow as pa
        import pyarrow.compute as pc

        if self._columns is None:
            self._columns = digest_columns(
                self.cursor.primary_key, self.cursor.field, batch.schema.names
            )
        threshold = cv.scalar(self._threshold(), comp.type)
        boundary = pc.greater_equal(comp, threshold)
        maybe = None
        need = boundary
        if self._stored is not None:
            maybe = pc.less_equal(comp, self._scalars["previous"])
            need = pc.or_(boundary, maybe)
        if not pc.any(need).as_py():
            return batch
        digests = row_digests(batch.filter(need), self._columns)
        full = pc.replace_with_mask(pa.nulls(batch.num_rows, pa.binary(16)), need, digests)
        self._candidates = self._pruned(threshold)
        self._candidates.append((comp.filter(boundary), full.filter(boundary)))
        if maybe is None:
            return batch
        duplicate = pc.and_(maybe, pc.is_in(full, value_set=self._stored))
        dropped = pc.sum(duplicate).as_py() or 0
        if not dropped:
            return batch
        self.boundary_duplicates += dropped
        return batch.filter(pc.invert(duplicate))

    def _pruned(self, threshold: "pa.Scalar") -> list[tuple["pa.Array", "pa.Array"]]:
        """The candidates still at or above ``threshold`` (it only grows)."""
        import pyarrow.compute as pc

        kept = []
        for comp, digests in self._candidates:
            mask = pc.greater_equal(comp, threshold)
            if pc.all(mask).as_py():
                kept.append((comp, digests))
            elif pc.any(mask).as_py():
                kept.append((comp.filter(mask), digests.filter(mask)))
        return kept

    # --- after the rows ---------------------------------------------------------------

    def add_nulls(self, count: int) -> None:
        """Count rows with a null cursor that the source skipped itself (SQL: in the query)."""
        self.nulls_skipped += count

    def log_summary(self, log: "EventLog") -> None:
        """Log what the filter dropped: null cursors, boundary duplicates, a key-set reset."""
        if self._keys_reset:
            log.event("cursor_keys_reset", level="warning", reason=self._keys_reset)
        if self.nulls_skipped:
            log.event(
                "cursor_nulls_skipped",
                level="warning",
                field=self.cursor.field,
                rows=self.nulls_skipped,
                reason="a row with a null cursor value cannot be placed in a window",
            )
        if not self.stateless:
            log.event(
                "cursor_boundary_duplicates",
                field=self.cursor.field,
                rows=self.boundary_duplicates,
                reason="re-read at or below the stored mark and already delivered",
            )

    def manifest_cursor(self, artifact: "Location") -> dict[str, Any]:
        """The ``cursor`` entry of the artifact manifest (writes a key side file if many)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = cv.kind_of_type(self._type) if self._type is not None else None
        if self._mark_raw is not None and (self._previous is None or self._mark > self._previous):
            value: CursorValue | None = cv.to_json(self._mark_raw, time_sep=self._time_sep)
        elif self.state is not None:
            value, kind = self.state.value, kind or self.state.kind
        else:
            value = None
        entry: dict[str, Any] = {"field": self.cursor.field, "value": value, "kind": kind}
        counts = {
            "boundary_duplicates": self.boundary_duplicates,
            "nulls_skipped": self.nulls_skipped,
            "outside_window": self.outside_window,
        }
        if self.stateless:
            window = {"start": self._json(self.lower), "end": self._json(self.end)}
            return {**entry, "stateless": True, "window": window, **counts}
        digests: list[bytes] = []
        if self._mark is not None and self._type is not None and self._candidates:
            threshold = cv.scalar(self._threshold(), self._type)
            chunks = [d.filter(pc.greater_equal(c, threshold)) for c, d in self._candidates]
            merged = pc.unique(pa.concat_arrays(chunks)) if chunks else pa.array([])
            digests = sorted(bytes(d) for d in merged.to_pylist())
        keys = KeySet(columns=self._columns, digests=digests)
        return {
            **entry,
            "lag": self.cursor.lag,
            **keys.to_fields(artifact, ARTIFACT_KEYS_FILE),
            **counts,
        }
