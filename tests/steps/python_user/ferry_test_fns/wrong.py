"""Functions whose code is wrong in the ways the step reports."""

import pyarrow as pa

from steps.python_step import Rejected
from steps.runtime.errors import DataRejected

NOT_CALLABLE = 3


def amount_turns_text(orders):
    """Second batch has ``amount`` as strings."""
    for index, batch in enumerate(orders):
        if index == 1:
            batch = batch.set_column(2, "amount", pa.array([str(v) for v in batch["amount"]]))
        yield batch


def drops_column(orders):
    """Second batch lacks ``amount``."""
    for index, batch in enumerate(orders):
        yield batch.drop_columns(["amount"]) if index == 1 else batch


def adds_column(orders):
    """Second batch has an extra column."""
    for index, batch in enumerate(orders):
        yield batch.append_column("extra", pa.array([1] * batch.num_rows)) if index else batch


def boom(orders):
    """Raise after the first batch."""
    for batch in orders:
        yield batch
        raise ValueError("order 3 has no amount\nsecond line")


def raises_at_call(orders):
    """Not a generator: raises when called."""
    raise KeyError("region")


def stale(orders):
    """The input is bad: DataRejected keeps exit 3."""
    yield next(orders)
    raise DataRejected("orders are stale: newest is 2020-01-01; rerun the extract")


def yields_dict(orders):
    """A dict is not a batch."""
    yield {"order_id": 1}


def returns_none(orders):
    """Forgot to yield."""
    for _ in orders:
        pass


def returns_table(orders):
    """Returns instead of yielding."""
    return pa.Table.from_batches(list(orders))


def bad_rejected(orders):
    """A Rejected without a reason."""
    yield Rejected(next(orders), reason="")


def two_inputs(orders, customers):
    """Takes two inputs."""
    yield from orders


def params_first(params, orders):
    """``params`` before the input."""
    yield from orders


def needs_option(orders, *, option):
    """A required keyword-only parameter the step cannot give."""
    yield from orders


async def asynchronous(orders):
    """Async functions are refused."""
    return None


def variadic(*inputs):
    """Accepts any number of inputs."""
    for batches in inputs:
        yield from batches


def rejected_shape_changes(orders):
    """Second Rejected lacks a column the first had."""
    for index, batch in enumerate(orders):
        yield Rejected(batch.drop_columns(["amount"]) if index else batch, reason="no")


def rejected_with_reason_column(orders):
    """Rows that already carry the reason column."""
    batch = next(orders)
    yield Rejected(batch.append_column("_ferry_reason", pa.array(["x"] * len(batch))), reason="y")
