"""What the demo pipeline must produce, computed independently of Ferry.

The generated CSV files are read with Python's csv module and every rule of the
demo pipeline is re-implemented in plain Python, so the end-to-end tests compare
Ferry's output with a second, unrelated computation.
"""

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

STATUSES = {"placed", "shipped", "delivered", "cancelled", "returned"}
CURRENCIES = {"EUR", "USD", "GBP"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Expected:
    extract_rejected_lines: set[tuple[str, int]] = field(default_factory=set)
    check_rejected_ids: dict[int, str] = field(default_factory=dict)
    revenue: dict[tuple[str, str, str, str], tuple[int, float]] = field(default_factory=dict)
    good_rows: int = 0


def _check_reason(row: dict[str, str], seen: set[int]) -> str | None:
    order_id = int(row["order_id"])
    amount = float(row["amount"])
    reasons = []
    if row["customer_id"] == "":
        reasons.append("not_null(customer_id)")
    if order_id in seen:
        reasons.append("unique(order_id)")
    if row["status"] not in STATUSES:
        reasons.append("accepted_values(status)")
    if not 0 <= amount <= 100_000:
        reasons.append("range(amount)")
    if not EMAIL.match(row["email"]):
        reasons.append("regex(email)")
    if row["currency"] not in CURRENCIES:
        reasons.append("accepted_values(currency)")
    return "; ".join(reasons) or None


def expected_outcome(data_dir: Path) -> Expected:
    """Re-derive quarantines and the daily revenue from the demo's raw files."""
    countries = {
        r["customer_id"]: r["country"]
        for r in pq.read_table(data_dir / "customers" / "customers.parquet").to_pylist()
    }
    out = Expected()
    seen: set[int] = set()
    sums: dict[tuple[str, str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for path in sorted((data_dir / "orders").glob("*.csv")):
        with path.open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            for line_no, values in enumerate(reader, start=2):
                if len(values) != len(header):
                    out.extract_rejected_lines.add((path.name, line_no))
                    continue
                row = dict(zip(header, values, strict=True))
                try:
                    float(row["amount"])
                except ValueError:
                    out.extract_rejected_lines.add((path.name, line_no))
                    continue
                reason = _check_reason(row, seen)
                order_id = int(row["order_id"])
                if reason is not None:
                    out.check_rejected_ids[order_id] = reason
                    seen.add(order_id)
                    continue
                seen.add(order_id)
                out.good_rows += 1
                day = datetime.fromisoformat(row["order_ts"]).date().isoformat()
                key = (
                    day,
                    countries.get(int(row["customer_id"]), "unknown"),
                    row["status"],
                    row["currency"],
                )
                sums[key][0] += 1
                sums[key][1] += float(row["amount"])
    out.revenue = {k: (int(v[0]), v[1]) for k, v in sums.items()}
    return out
