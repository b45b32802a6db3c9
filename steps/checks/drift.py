"""Profile drift: this run's column profile against the previous run's of the same step.

Each check keeps its latest profile in the store, at
``STORE/profiles/<pipeline>/<step>/profile.json``, so the comparison works the same
on a cluster and locally (the step does it itself). A column whose share of nulls,
or the input's row count, changes by the ``profile_drift`` factor or more (either
way) is a warning: the run goes on, and the warning is the step's ``warning``
output. Without a previous profile there is nothing to compare and no warning.
"""

import json
from typing import Any

from steps.runtime.store import Location, exists, read_text, write_text_atomic

PROFILE_FILE = "profile.json"


def profile_location(store: Location, pipeline: str, step: str) -> Location:
    """Where the latest profile of ``pipeline``'s check ``step`` is kept."""
    return store.child("profiles", pipeline, step, PROFILE_FILE)


def previous_profile(loc: Location) -> dict[str, Any] | None:
    """The kept profile (with the run that made it), or None when there is none yet.

    A kept file that is not a profile (cut short by hand, another format) counts as
    none: the next run replaces it.
    """
    if not exists(loc):
        return None
    try:
        kept = json.loads(read_text(loc))
    except ValueError:
        return None
    if not isinstance(kept, dict) or not isinstance(kept.get("profile"), dict):
        return None
    return kept


def save_profile(loc: Location, run_id: str, profile: dict[str, Any]) -> None:
    """Keep ``profile`` as the one the next run compares with."""
    write_text_atomic(loc, json.dumps({"run_id": run_id, "profile": profile}, indent=2))


def _factor(before: float, after: float) -> float:
    """How many times larger the larger of the two is (1.0 when equal, inf from zero)."""
    if before == after:
        return 1.0
    low, high = sorted((before, after))
    return float("inf") if low == 0 else high / low


def _moved(what: str, before: float, after: float, factor: float, digits: int) -> str | None:
    moved = _factor(before, after)
    if moved < factor:
        return None
    times = "from zero" if moved == float("inf") else f"{moved:.2f}x"
    return f"{what} {before:.{digits}f} -> {after:.{digits}f} ({times})"


def drift(previous: dict[str, Any], current: dict[str, Any], factor: float) -> list[str]:
    """What moved by ``factor`` or more: the row count, then each column's null share."""
    before = previous["profile"]
    moves = [_moved("rows", before.get("rows", 0), current["rows"], factor, 0)]
    shares = {c["name"]: c["null_share"] for c in before.get("columns", [])}
    for column in current["columns"]:
        if column["name"] in shares:
            what = f"column {column['name']!r} null share"
            moves.append(_moved(what, shares[column["name"]], column["null_share"], factor, 4))
    return [m for m in moves if m is not None]


def drift_message(previous: dict[str, Any], moves: list[str], factor: float) -> str:
    """One warning line naming what moved, since which run, and the factor."""
    return (
        f"profile drift since run {previous.get('run_id', '?')}: {'; '.join(moves)} "
        f"(profile_drift {factor}); check the upstream data, or raise profile_drift "
        "(None switches it off)"
    )
