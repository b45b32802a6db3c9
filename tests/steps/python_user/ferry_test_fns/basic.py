"""Functions that do their job, one per feature of the step."""

from collections.abc import Iterator
from itertools import zip_longest
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from steps.python_step import Rejected


def tag(orders: Iterator[pa.RecordBatch], customers: Iterator[pa.RecordBatch]):
    """One output row per input batch, taking a batch from each input in turn."""
    for index, (order, customer) in enumerate(zip_longest(orders, customers)):
        for name, batch in (("orders", order), ("customers", customer)):
            if batch is not None:
                yield pa.record_batch(
                    {
                        "input": [name],
                        "batch": [index],
                        "first_id": [batch.column(0)[0].as_py()],
                        "rows": [batch.num_rows],
                    }
                )


def scaled(orders: Iterator[pa.RecordBatch], *, params: dict[str, Any]):
    """``amount * params['factor']`` with a label column from params."""
    for batch in orders:
        yield pa.record_batch(
            {
                "order_id": batch["order_id"],
                "amount": pc.multiply(batch["amount"], params["factor"]),
                "label": pa.array([params["label"]] * batch.num_rows),
            }
        )


def positional_params(orders, params):
    """``params`` as an ordinary parameter after the input."""
    for batch in orders:
        yield batch.append_column("note", pa.array([params.get("note", "none")] * batch.num_rows))


def reject_negative(orders):
    """Pass amounts >= 0; reject the others, with separate reasons for < -100."""
    for batch in orders:
        negative = pc.less(batch["amount"], 0)
        yield batch.filter(pc.invert(negative))
        bad = batch.filter(negative)
        very = pc.less(bad["amount"], -100)
        yield Rejected(bad.filter(pc.invert(very)), reason="amount < 0")
        yield Rejected(bad.filter(very), reason="amount < -100")


def tables(orders):
    """Yield each batch as a Table with columns in a different order."""
    for batch in orders:
        table = pa.Table.from_batches([batch])
        yield table.select(list(reversed(table.column_names)))


def as_is(orders):
    """Every input batch unchanged (declared columns cast them)."""
    yield from orders


def nothing(orders):
    """Read everything, yield nothing."""
    for _ in orders:
        pass
    return
    yield


def first_only(orders, customers):
    """Read one batch of orders and nothing of customers."""
    yield next(orders)


def returns_list(orders):
    """A plain function returning a list is an iterable too."""
    return [batch for batch in orders]


def schema_from_input(orders):
    """The input iterator carries the input's schema."""
    yield pa.record_batch({"columns": [",".join(orders.schema.names)]})


def whole(orders):
    """The whole input as one single-chunk Table (fine for a test, not for big inputs)."""
    yield pa.Table.from_batches(list(orders)).combine_chunks()
