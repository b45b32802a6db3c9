"""The incremental window of an HTTP extract: which records are new, and the new mark.

The window starts after the stored high-water mark (or at ``cursor.initial_value``,
inclusive, before the first committed run) and ends before ``cursor.end_value``.
The API is asked for the window through ``cursor_param``/``cursor_end_param`` where
configured, and every record is checked again here, so an API that ignores the
parameters or treats the bound as inclusive never yields a record twice.

Values compare as numbers (JSON numbers), as instants (ISO 8601 text; text without
an offset counts as UTC) or else as text.
"""

from datetime import UTC, datetime
from typing import Any

from steps.runtime.config import Cursor
from steps.runtime.context import StepContext
from steps.runtime.errors import DataRejected, StepError
from steps.state.cursor_state import read_cursor_state

CursorValue = str | int | float


def _key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        raise TypeError("a boolean cannot be a cursor")
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return (2, value)
        return (1, instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC))
    raise TypeError(f"a JSON {type(value).__name__} cannot be a cursor")


class IncrementalWindow:
    """Selects the records of this run and tracks the highest cursor value kept."""

    def __init__(self, cursor: Cursor, previous: CursorValue | None) -> None:
        self.cursor = cursor
        self.previous = previous
        self.lower: CursorValue | None = previous if previous is not None else cursor.initial_value
        self._lower_inclusive = previous is None
        self._lower_key = (
            None if self.lower is None else self._config_key(self.lower, "lower bound")
        )
        self._end_key = (
            None if cursor.end_value is None else self._config_key(cursor.end_value, "end_value")
        )
        self.high_water: CursorValue | None = previous
        self._high_key = self._lower_key if previous is not None else None

    def _config_key(self, value: CursorValue, what: str) -> tuple[int, Any]:
        try:
            return _key(value)
        except TypeError as err:
            raise StepError(f"cursor {what} {value!r}: {err}") from None

    def query_params(self, lower_param: str | None, end_param: str | None) -> dict[str, str]:
        """The window as query parameters for the API (those configured)."""
        params: dict[str, str] = {}
        if lower_param and self.lower is not None:
            params[lower_param] = str(self.lower)
        if end_param and self.cursor.end_value is not None:
            params[end_param] = str(self.cursor.end_value)
        return params

    def select(self, records: list[Any], page_url: str) -> list[Any]:
        """The records of ``records`` inside the window; the high-water mark follows them.

        Raises:
            DataRejected: a record lacks the cursor field or its value cannot be compared.
        """
        field = self.cursor.field
        kept = []
        for index, record in enumerate(records):
            value = record.get(field) if isinstance(record, dict) else None
            if value is None:
                raise DataRejected(
                    f"page {page_url}, record index {index}: cursor field {field!r} is missing "
                    "or null; every record needs it for incremental extraction"
                )
            key = self._record_key(value, page_url, index)
            if self._lower_key is not None and (
                key < self._lower_key or (key == self._lower_key and not self._lower_inclusive)
            ):
                continue
            if self._end_key is not None and key >= self._end_key:
                continue
            kept.append(record)
            if self._high_key is None or key > self._high_key:
                self._high_key, self.high_water = key, value
        return kept

    def _record_key(self, value: Any, page_url: str, index: int) -> tuple[int, Any]:
        where = f"page {page_url}, record index {index}, cursor field {self.cursor.field!r}"
        try:
            key = _key(value)
        except TypeError as err:
            raise DataRejected(f"{where}: {err}") from None
        for bound in (self._lower_key, self._end_key):
            if bound is not None and bound[0] != key[0]:
                raise DataRejected(
                    f"{where}: value {value!r} cannot be compared with the window bounds "
                    f"({self.lower!r} .. {self.cursor.end_value!r}); make the bounds the same "
                    "kind as the field (number, ISO timestamp or text)"
                )
        return key


def open_window(ctx: StepContext, cursor: Cursor) -> IncrementalWindow:
    """The window of this run, from the stored mark of this step (if any)."""
    state = read_cursor_state(ctx.state_location(ctx.step), ctx.step, cursor.field)
    return IncrementalWindow(cursor, None if state is None else state.value)
