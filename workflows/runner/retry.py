"""Argo ``retryStrategy`` as the local runner honours it: which attempts retry, how long to wait.

Argo semantics kept here:

- ``limit`` is the number of retries, so a task runs at most ``limit + 1`` times.
- ``retryPolicy`` defaults to ``OnFailure``, or to ``Always`` when an ``expression`` is
  given (Argo 3.5 and later). Locally an attempt *fails* when the
  process exits non-zero or is killed at its ``activeDeadlineSeconds``; it *errors*
  when the process cannot be started or a declared output parameter was not written.
- ``backoff``: the n-th retry waits ``duration * factor ** (n - 1)``, at most ``cap``
  (Argo 3.7 and later: a longer wait is set to the cap); no retry is made once waiting
  would pass ``maxDuration`` measured from the first attempt's start.
- ``expression``: when present, a retry also needs it to be true for the attempt that
  ended (``workflows.runner.retry_expression``); policy and expression must both agree.

:func:`parse_retry_strategy` reads a template's ``retryStrategy`` into these terms,
refusing what the runner would otherwise have to guess (no ``limit``, unknown policy).
"""

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from steps.contract import EXIT_DATA, EXIT_USAGE
from workflows.runner.errors import Problems
from workflows.runner.retry_expression import (
    SUPPORTED_FORMS,
    LastRetry,
    RetryExpression,
    UnsupportedExpression,
    parse_retry_expression,
)

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
TRANSIENT_ERROR_PATTERN_ENV = "TRANSIENT_ERROR_PATTERN"
_STEP_EXIT_MEANINGS = {EXIT_USAGE: "bad usage or config", EXIT_DATA: "data rejected"}


class AttemptPhase(StrEnum):
    """How one attempt ended, in Argo's node phases."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"


class RetryPolicy(StrEnum):
    """Argo's ``retryPolicy`` values."""

    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    ON_ERROR = "OnError"
    ON_TRANSIENT_ERROR = "OnTransientError"


def parse_duration(text: str | int | float) -> float:
    """Seconds in an Argo backoff duration: a bare number of seconds or a Go duration.

    Args:
        text: ``"10"``, ``10``, ``"100ms"``, ``"1m30s"``, ...

    Raises:
        ValueError: ``text`` is neither (the caller names the field).
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    value = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    if not value or _GO_DURATION.sub("", value) != "":
        raise ValueError(f"{text!r} is not a duration like '10s', '100ms' or '1m30s'")
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _GO_DURATION.findall(value))


@dataclass(frozen=True)
class RetryStrategy:
    """A template's ``retryStrategy`` with its values parsed."""

    limit: int
    policy: RetryPolicy
    backoff_seconds: float
    backoff_factor: float
    max_duration_seconds: float | None
    expression: RetryExpression | None = None
    cap_seconds: float | None = None

    def should_retry(self, phase: AttemptPhase, reason: str) -> bool:
        """Whether an attempt that ended in ``phase`` with ``reason`` is retried by policy."""
        if phase is AttemptPhase.SUCCEEDED:
            return False
        if self.policy is RetryPolicy.ALWAYS:
            return True
        if self.policy is RetryPolicy.ON_FAILURE:
            return phase is AttemptPhase.FAILED
        if self.policy is RetryPolicy.ON_ERROR:
            return phase is AttemptPhase.ERROR
        pattern = os.environ.get(TRANSIENT_ERROR_PATTERN_ENV)
        if not pattern:
            return False
        return re.search(pattern, reason) is not None

    def delay_before_retry(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first), at most ``cap``."""
        delay = self.backoff_seconds * self.backoff_factor ** (retry - 1)
        return delay if self.cap_seconds is None else min(delay, self.cap_seconds)

    def within_max_duration(self, elapsed: float, delay: float) -> bool:
        """Whether a retry after ``delay`` still starts within ``maxDuration``."""
        return self.max_duration_seconds is None or elapsed + delay <= self.max_duration_seconds

    def expression_allows(self, phase: AttemptPhase, exit_code: int | None) -> bool:
        """Whether ``expression`` (true when absent) allows retrying an attempt that ended so."""
        return self.expression is None or self.expression.evaluate(
            LastRetry.of(phase.value, exit_code)
        )


def declined_retry_label(exit_code: int | None) -> str:
    """What a step's exit code means, for "(data rejected, not retried)" in the live view."""
    if exit_code is not None and exit_code in _STEP_EXIT_MEANINGS:
        return _STEP_EXIT_MEANINGS[exit_code]
    return f"exit code {LastRetry.of(AttemptPhase.FAILED.value, exit_code).exit_code}"


def parse_retry_strategy(
    raw: dict[str, Any] | None, path: str, found: Problems
) -> RetryStrategy | None:
    """A template's ``retryStrategy`` (None when it has none), its problems added to ``found``.

    Args:
        raw: the ``retryStrategy`` mapping as the manifest has it.
        path: where it is in the manifest (``spec.templates[1].retryStrategy``).
        found: collects one line per refused field; the value returned is then a placeholder.
    """
    if raw is None:
        return None
    limit = raw.get("limit")
    if limit is None:
        found.add(
            f"{path}.limit", "is required by the local runner (without it Argo retries forever)"
        )
        limit = 0
    elif not re.fullmatch(r"\d+", str(limit)):
        found.add(f"{path}.limit", f"{limit!r} is not a whole number")
        limit = 0
    default_policy = RetryPolicy.ALWAYS if "expression" in raw else RetryPolicy.ON_FAILURE
    policy_text = raw.get("retryPolicy", default_policy.value)
    try:
        policy = RetryPolicy(policy_text)
    except ValueError:
        known = ", ".join(p.value for p in RetryPolicy)
        found.add(f"{path}.retryPolicy", f"{policy_text!r} is not one of {known}")
        policy = RetryPolicy.ON_FAILURE
    backoff = raw.get("backoff") or {}
    duration = _duration(backoff.get("duration", 0), f"{path}.backoff.duration", found) or 0.0
    max_duration = _duration(backoff.get("maxDuration"), f"{path}.backoff.maxDuration", found)
    cap = _duration(backoff.get("cap"), f"{path}.backoff.cap", found)
    factor_text = backoff.get("factor", 1)
    try:
        factor = float(factor_text)
    except (TypeError, ValueError):
        found.add(f"{path}.backoff.factor", f"{factor_text!r} is not a number")
        factor = 1.0
    expression = _expression(raw.get("expression"), f"{path}.expression", found)
    return RetryStrategy(int(limit), policy, duration, factor, max_duration, expression, cap)


def _expression(value: object, path: str, found: Problems) -> RetryExpression | None:
    if value is None:
        return None
    if not isinstance(value, str):
        found.add(path, f"{value!r} is not a string")
        return None
    try:
        return parse_retry_expression(value)
    except UnsupportedExpression as err:
        found.add(
            path, f"{value!r} is not supported by the local runner ({err}); {SUPPORTED_FORMS}"
        )
        return None


def _duration(value: object, path: str, found: Problems) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)  # type: ignore[arg-type]
    except ValueError as err:
        found.add(path, str(err))
        return None
