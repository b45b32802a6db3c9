"""The Python step of the ``orders-pseudonymized`` example: keyed hashes SQL has no call for.

Each order's e-mail address is replaced by a salted SHA-256 pseudonym and its domain;
orders whose address is not an address are rejected to quarantine with the reason.
The checks and arithmetic are vectorized per batch; only the hash runs per row.
"""

import hashlib
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from workflows import Rejected

ADDRESS = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _pseudonyms(emails: pa.Array, salt: bytes) -> pa.Array:
    return pa.array(
        [hashlib.sha256(salt + e.encode()).hexdigest()[:16] for e in emails.to_pylist()],
        pa.string(),
    )


def pseudonymize(
    orders: Iterator[pa.RecordBatch], *, params: dict[str, Any]
) -> Iterator[pa.RecordBatch | Rejected]:
    """Orders with ``customer_key`` and ``email_domain`` instead of ``email``."""
    salt = str(params["salt"]).encode()
    for batch in orders:
        valid = pc.fill_null(pc.match_substring_regex(batch["email"], ADDRESS), False)
        bad = batch.filter(pc.invert(valid))
        if bad.num_rows:
            yield Rejected(bad, reason="email is not an address; nothing to pseudonymize")
        good = batch.filter(valid)
        emails = pc.utf8_lower(good["email"])
        domain = pc.list_element(pc.split_pattern(emails, "@"), 1)
        keep = [name for name in good.schema.names if name != "email"]
        yield pa.RecordBatch.from_arrays(
            [*(good[name] for name in keep), _pseudonyms(emails, salt), domain],
            names=[*keep, "customer_key", "email_domain"],
        )
