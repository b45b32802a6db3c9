"""Records to Arrow: the declared or first-page schema, enforced on every record.

Without declared columns the first page with records fixes the columns (in order of
first appearance) and their types; every later record must keep to them, so a type
that changes between pages fails the step with the page, record index and field
instead of producing a file whose schema differs from the last one. Declared columns
are a projection: fields the records carry beyond them are left out (and logged).
"""

from typing import TYPE_CHECKING, Any

from steps.extract.http.columns import (
    ColumnType,
    ValueMismatch,
    inferred_type,
    parse_column_type,
    widened,
)
from steps.runtime.errors import DataRejected

if TYPE_CHECKING:
    import pyarrow as pa

_DECLARE_HINT = "declare the column types in `columns`"


def _names(fields: list[str]) -> str:
    return ", ".join(repr(f) for f in fields)


def _check_object(record: Any, page_url: str, index: int) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise DataRejected(
            f"page {page_url}, record index {index}: a record is a JSON "
            f"{type(record).__name__}, not an object; check records_path"
        )
    return record


def infer_columns(records: list[Any], page_url: str) -> dict[str, ColumnType]:
    """Columns and types implied by the first page; a field null throughout is a string."""
    types: dict[str, ColumnType | None] = {}
    for index, record in enumerate(records):
        for field, value in _check_object(record, page_url, index).items():
            current = types.get(field)
            if value is None:
                types.setdefault(field, None)
            elif current is None:
                types[field] = inferred_type(value)
            else:
                wider = widened(current, value)
                if wider is None:
                    raise DataRejected(
                        f"schema drift on page {page_url}, record index {index}, field "
                        f"{field!r}: {inferred_type(value).name} after {current.name} in earlier "
                        f"records; {_DECLARE_HINT}"
                    )
                types[field] = wider
    return {field: t or parse_column_type("string") for field, t in types.items()}


class BatchBuilder:
    """Converts pages of records into column lists and hands them out as record batches."""

    def __init__(self, declared: dict[str, str] | None) -> None:
        self._declared = declared is not None
        self._columns: dict[str, ColumnType] | None = (
            None if declared is None else {n: parse_column_type(t) for n, t in declared.items()}
        )
        self._values: dict[str, list[Any]] = {}
        self._ignored: set[str] = set()
        self.rows = 0

    def add(self, records: list[Any], page_url: str) -> list[str]:
        """Convert and keep ``records``; returns fields seen for the first time and left out.

        Raises:
            DataRejected: a record is not an object, a value does not fit its column, or
                (inferred schema) a record brings a field the first page did not have.
        """
        if not records:
            return []
        if self._columns is None:
            self._columns = infer_columns(records, page_url)
        columns = self._columns
        values = self._values or {name: [] for name in columns}
        self._values = values
        newly_ignored: list[str] = []
        for index, raw in enumerate(records):
            record = _check_object(raw, page_url, index)
            extra = [f for f in record if f not in columns]
            if extra and not self._declared:
                raise DataRejected(
                    f"schema drift on page {page_url}, record index {index}: new fields "
                    f"{_names(extra)} not on the first page; {_DECLARE_HINT}"
                )
            for field in extra:
                if field not in self._ignored:
                    self._ignored.add(field)
                    newly_ignored.append(field)
            for name, column in columns.items():
                value = record.get(name)
                values[name].append(
                    None if value is None else self._convert(column, value, page_url, index, name)
                )
        self.rows += len(records)
        return newly_ignored

    def _convert(self, column: ColumnType, value: Any, page_url: str, index: int, name: str) -> Any:
        try:
            return column.convert(value)
        except ValueMismatch as err:
            if self._declared:
                raise DataRejected(
                    f"page {page_url}, record index {index}, field {name!r}: {err}; fix the "
                    "declared type in `columns` or the data at the source"
                ) from None
            raise DataRejected(
                f"schema drift on page {page_url}, record index {index}, field {name!r}: {err} "
                f"as on the first page; {_DECLARE_HINT}"
            ) from None

    def arrow_schema(self) -> "pa.Schema | None":
        """The output schema, or None when no columns are declared and no record came."""
        import pyarrow as pa

        if self._columns is None:
            return None
        return pa.schema([pa.field(n, c.arrow_type()) for n, c in self._columns.items()])

    def take(self) -> "pa.RecordBatch":
        """The records kept so far as one record batch; the builder starts empty again."""
        import pyarrow as pa

        schema = self.arrow_schema()
        assert schema is not None and self._columns is not None
        arrays = [pa.array(self._values.get(f.name, []), type=f.type) for f in schema]
        batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
        self._values = {}
        self.rows = 0
        return batch
