"""Which load a target step makes: the run's own, or its data interval's.

Repeating a load must never add its rows twice. Within one run that is a matter of the
run id: a retried step finds its own earlier load (the ledger row of a SQL table, the
``part-<run>-<step>-*`` files of a Parquet dataset). But an append also gets repeated
under a *new* run id, when the same data interval is run again (``ferry backfill
--reprocess``, an interval re-submitted after a failure): keyed by the run id, that
second run would append the interval's rows a second time. So an append of a run that
has a data interval (the ``interval_start``/``interval_end`` parameters, which the
renderer gives every target step) is keyed by the interval; any other load by the run.
"""

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from steps.runtime.parameters import env_name

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

INTERVAL_PARAMETERS = ("interval_start", "interval_end")
"""The workflow parameters that make a run's data interval; empty for an ordinary run."""


@dataclass(frozen=True)
class LoadIdentity:
    """The key of one load and the name its files and staging folder carry."""

    key: str
    """The ledger key: the run id, or ``<interval_start>/<interval_end>``."""
    slug: str
    """``key`` as a file-name part: the run id itself, or ``interval-<hash>``."""
    interval: tuple[str, str] | None
    """The data interval this load is keyed by, if any."""

    def describe(self) -> str:
        """``run <id>`` or ``interval <start> to <end>``, for messages."""
        if self.interval is None:
            return f"run {self.key}"
        return f"interval {self.interval[0]} to {self.interval[1]}"


def run_interval(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """The run's data interval from its parameters, or None when the run has none."""
    env = os.environ if environ is None else environ
    start, end = (env.get(env_name(p), "").strip() for p in INTERVAL_PARAMETERS)
    return (start, end) if start and end else None


def load_identity(
    run_id: str, *, by_interval: bool, environ: Mapping[str, str] | None = None
) -> LoadIdentity:
    """The identity of a load of run ``run_id``.

    Args:
        run_id: the run the step belongs to.
        by_interval: whether this load repeats under a new run of the same interval as
            one load (appends do; loads that replace or merge are idempotent anyway).
        environ: where the interval parameters are (the process environment by default).
    """
    interval = run_interval(environ) if by_interval else None
    if interval is None:
        slug = run_id if _SAFE.fullmatch(run_id) else "run-" + _digest(run_id)
        return LoadIdentity(key=run_id, slug=slug, interval=None)
    key = f"{interval[0]}/{interval[1]}"
    return LoadIdentity(key=key, slug="interval-" + _digest(key), interval=interval)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
