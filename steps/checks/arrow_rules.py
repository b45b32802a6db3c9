"""Built-in row rules evaluated with Arrow compute kernels, exactly as their SQL would be.

DuckDB evaluates a rule's failure SQL over a registered batch at about 40 ns a row
for even ``x IS NULL`` (the scan and the result's conversion back to Arrow), so the
demo's eight rules cost 3.5-5.8 s of CPU per 10M rows; the same flags from Arrow's
kernels cost 1.5 s. Only cases whose meaning is the same in both are taken here:

- ``not_null`` on any column (Arrow's nulls are SQL's NULL; a float NaN is neither);
- ``unique`` (its flag column, with a null read as not failing);
- ``accepted_values`` on a text column with text values, or an integer column with
  integer values that fit its type;
- ``range`` on an integer column with integer bounds that fit its type, or a double
  column with finite bounds (NaN ordered above every number, as DuckDB orders it);
- ``regex`` on a text column (both are RE2 with a partial match), when Arrow
  compiles the pattern.

Anything else (``sql`` rules, decimals, dates, times, bounds given as text, booleans)
stays with DuckDB. ``tests/steps/test_checks_arrow_rules.py`` holds every case to
the SQL's flags on the same rows.
"""

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from steps.checks.config import AcceptedValues, NotNull, Range, Regex, RuleBase, Scalar, Unique
from steps.checks.rules import unique_flag_column

Flags = Callable[[pa.RecordBatch, dict[str, pa.Array]], pa.Array]
"""(batch, unique flag columns by name) -> whether each row fails, never null."""

_EXACT_FLOAT_INTS = 2**53
"""Integers a float bound may be without rounding on its way to a double."""


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_int(value: Scalar) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_type(value: Scalar, kind: pa.DataType) -> pa.Scalar | None:
    """``value`` as a scalar of ``kind``, or None when it does not fit exactly."""
    try:
        return pa.scalar(value).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
        return None


def _failing(valid_and_bad: pa.Array) -> pa.Array:
    return valid_and_bad.fill_null(False)


def _not_null(column: str) -> Flags:
    return lambda batch, _: pc.is_null(batch.column(column))


def _unique(index: int) -> Flags:
    name = unique_flag_column(index)
    return lambda _, flags: _failing(flags[name])


def _accepted(rule: AcceptedValues, kind: pa.DataType) -> Flags | None:
    text = _is_text(kind) and all(isinstance(v, str) for v in rule.values)
    integers = pa.types.is_integer(kind) and all(_is_int(v) for v in rule.values)
    if not (text or integers):
        return None
    try:
        allowed = pa.array(rule.values, kind)
    except (pa.ArrowInvalid, OverflowError):
        return None  # a value the column cannot hold: DuckDB's conversion error stays DuckDB's
    column = rule.column

    def flags(batch: pa.RecordBatch, _: dict[str, pa.Array]) -> pa.Array:
        values = batch.column(column)
        return _failing(pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, allowed))))

    return flags


def _bound(value: Scalar | None, kind: pa.DataType) -> pa.Scalar | bool | None:
    """A bound as a scalar of the column's type; None: no bound; False: not here."""
    if value is None:
        return None
    if pa.types.is_integer(kind):
        scalar = _as_type(value, kind) if _is_int(value) else None
        return False if scalar is None else scalar
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int) and abs(value) > _EXACT_FLOAT_INTS:
        return False
    if value != value or value in (float("inf"), float("-inf")):
        return False
    return pa.scalar(float(value), kind)


def _range(rule: Range, kind: pa.DataType) -> Flags | None:
    if not (pa.types.is_integer(kind) or pa.types.is_float64(kind)):
        return None  # a float32 column would compare with a rounded bound
    low, high = _bound(rule.min, kind), _bound(rule.max, kind)
    if low is False or high is False:
        return None
    above, below = (pc.greater_equal, pc.less_equal) if rule.inclusive else (pc.greater, pc.less)
    column, floating = rule.column, pa.types.is_float64(kind)

    def flags(batch: pa.RecordBatch, _: dict[str, pa.Array]) -> pa.Array:
        values = batch.column(column)
        nan = pc.is_nan(values) if floating else None
        inside = None
        if isinstance(low, pa.Scalar):
            ok = above(values, low)
            inside = pc.or_(ok, nan) if nan is not None else ok  # NaN is above every number
        if isinstance(high, pa.Scalar):
            ok = below(values, high)
            ok = pc.and_(ok, pc.invert(nan)) if nan is not None else ok
            inside = ok if inside is None else pc.and_(inside, ok)
        assert inside is not None
        return _failing(pc.and_(pc.is_valid(values), pc.invert(inside)))

    return flags


def _regex(rule: Regex, kind: pa.DataType) -> Flags | None:
    if not _is_text(kind):
        return None
    try:
        pc.match_substring_regex(pa.array([""], kind), rule.pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    column, pattern = rule.column, rule.pattern

    def flags(batch: pa.RecordBatch, _: dict[str, pa.Array]) -> pa.Array:
        values = batch.column(column)
        matches = pc.match_substring_regex(values, pattern)
        return _failing(pc.and_(pc.is_valid(values), pc.invert(matches)))

    return flags


def arrow_flags(rule: RuleBase, index: int, schema: pa.Schema) -> Flags | None:
    """How to compute rule ``index``'s failures in Arrow for ``schema``; None: in SQL."""
    if isinstance(rule, Unique):
        return _unique(index)
    columns = rule.columns()
    if len(columns) != 1 or schema.get_field_index(columns[0]) < 0:
        return None  # DuckDB names the unknown column
    kind = schema.field(columns[0]).type
    if isinstance(rule, NotNull):
        return _not_null(rule.column)
    if isinstance(rule, AcceptedValues):
        return _accepted(rule, kind)
    if isinstance(rule, Range):
        return _range(rule, kind)
    if isinstance(rule, Regex):
        return _regex(rule, kind)
    return None
