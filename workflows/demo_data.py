"""Deterministic demo data for the ``orders-daily`` pipeline, with planted bad rows.

The generator is vectorized (numpy + pyarrow) so a million rows take a second or
two, and it is a pure function of ``(rows, seed)``: the same call always writes the
same bytes. Bad rows are planted at known positions so tests can assert that the
quarantine holds exactly those rows and the targets exactly the rest.
"""

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

STATUSES = ("placed", "shipped", "delivered", "cancelled", "returned")
CURRENCIES = ("EUR", "USD", "GBP")
COUNTRIES = ("DE", "FR", "NL", "GB", "US", "PL", "ES", "IT")
SEGMENTS = ("consumer", "smb", "enterprise")
ORDER_COLUMNS = ("order_id", "customer_id", "order_ts", "status", "amount", "currency", "email")
MALFORMED_LINES_PER_FILE = 2

# Defects planted at row index i where i % DEFECT_PERIOD equals the key.
DEFECT_PERIOD = 1000
DEFECTS = {
    101: "null_customer_id",
    202: "unknown_status",
    303: "negative_amount",
    404: "bad_email",
    505: "unknown_currency",
    606: "duplicate_order_id",
    707: "unparsable_amount",
}
EXTRACT_DEFECTS = frozenset({"unparsable_amount", "malformed_line"})
"""Defects the extract step quarantines; the others are caught by the checks step."""


@dataclass(frozen=True)
class DemoData:
    """What was generated: where, how many rows, and which rows are bad and why."""

    root: Path
    rows: int
    customers: int
    files: int
    defects: dict[int, str]
    """Row index -> defect kind, for every planted defect in a well-formed line."""
    malformed_lines: int


def order_id_of(index: int) -> int:
    """The order_id written for row ``index`` (a duplicate repeats its predecessor's)."""
    if DEFECTS.get(index % DEFECT_PERIOD) == "duplicate_order_id" and index > 0:
        return index
    return index + 1


def planted_defects(rows: int) -> dict[int, str]:
    """Row index -> defect kind for ``rows`` generated rows."""
    return {i: kind for offset, kind in DEFECTS.items() for i in range(offset, rows, DEFECT_PERIOD)}


def _orders_table(start: int, stop: int, customers: int, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, start])
    idx = np.arange(start, stop, dtype=np.int64)
    n = len(idx)
    phase = idx % DEFECT_PERIOD
    order_id = idx + 1
    order_id = np.where((phase == 606) & (idx > 0), idx, order_id)
    customer_id = (rng.integers(1, customers + 1, n)).astype(str).astype(object)
    customer_id[phase == 101] = ""
    base = np.datetime64("2026-11-01T00:00:00")
    seconds = (idx * 7919) % (14 * 86_400)
    ts = (base + seconds.astype("timedelta64[s]")).astype(str)
    order_ts = np.char.replace(ts.astype(str), "T", " ").astype(object)
    status = np.array(STATUSES, dtype=object)[rng.integers(0, len(STATUSES), n)]
    status[phase == 202] = "lost"
    cents = rng.integers(100, 50_000_00, n)
    amount = np.char.mod("%.2f", cents / 100.0).astype(object)
    amount[phase == 303] = "-5.00"
    amount[phase == 707] = "n/a"
    currency = np.array(CURRENCIES, dtype=object)[rng.integers(0, len(CURRENCIES), n)]
    currency[phase == 505] = "JPY"
    email = np.char.add(np.char.add("user", order_id.astype(str)), "@example.com").astype(object)
    email[phase == 404] = "not-an-email"
    return pa.table(
        {
            "order_id": pa.array(order_id),
            "customer_id": pa.array(customer_id, pa.string()),
            "order_ts": pa.array(order_ts, pa.string()),
            "status": pa.array(status, pa.string()),
            "amount": pa.array(amount, pa.string()),
            "currency": pa.array(currency, pa.string()),
            "email": pa.array(email, pa.string()),
        }
    )


def _customers_table(customers: int, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 1_000_003])
    ids = np.arange(1, customers + 1, dtype=np.int64)
    return pa.table(
        {
            "customer_id": pa.array(ids),
            "name": pa.array(np.char.add("Customer ", ids.astype(str))),
            "country": pa.array(
                np.array(COUNTRIES, dtype=object)[rng.integers(0, len(COUNTRIES), customers)],
                pa.string(),
            ),
            "segment": pa.array(
                np.array(SEGMENTS, dtype=object)[rng.integers(0, len(SEGMENTS), customers)],
                pa.string(),
            ),
        }
    )


def _write_orders_file(path: Path, table: pa.Table, file_no: int) -> None:
    options = pacsv.WriteOptions(include_header=True, quoting_style="none")
    pacsv.write_csv(table, path, write_options=options)
    with path.open("a", encoding="utf-8") as f:
        for k in range(MALFORMED_LINES_PER_FILE):
            f.write(f"9{file_no:03d}{k:03d},broken line without enough fields\n")


def generate(
    root: Path, rows: int = 1_000_000, *, customers: int = 5_000, files: int = 4, seed: int = 7
) -> DemoData:
    """Write ``root/orders/part-NNN.csv`` and ``root/customers/customers.parquet``.

    Each orders file also ends with ``MALFORMED_LINES_PER_FILE`` lines that have too
    few fields. Existing files under ``root`` are replaced.
    """
    orders_dir, customers_dir = root / "orders", root / "customers"
    for folder in (orders_dir, customers_dir):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
    bounds = np.linspace(0, rows, files + 1, dtype=np.int64)
    for file_no, (start, stop) in enumerate(itertools.pairwise(bounds)):
        table = _orders_table(int(start), int(stop), customers, seed)
        _write_orders_file(orders_dir / f"part-{file_no:03d}.csv", table, file_no)
    pq.write_table(_customers_table(customers, seed), customers_dir / "customers.parquet")
    return DemoData(
        root=root,
        rows=rows,
        customers=customers,
        files=files,
        defects=planted_defects(rows),
        malformed_lines=files * MALFORMED_LINES_PER_FILE,
    )
