"""Phases of a step (read, compute, write) as the harness and the artifact code see them.

The harness hands a :class:`Phases` to the step context; with tracing on it opens an
OpenTelemetry span per phase, with tracing off it is :data:`NO_PHASES`, which costs a
function call and imports nothing.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Attribute = str | int | float | bool


class PhaseSpan(Protocol):
    """What a running phase accepts: attributes learnt while it runs (row counts)."""

    def set(self, **attributes: Attribute) -> None:
        """Record ``attributes`` on the phase."""
        ...


class Phases(Protocol):
    """Opens phases; each is a context manager yielding a :class:`PhaseSpan`."""

    def phase(self, name: str, **attributes: Attribute) -> AbstractContextManager[PhaseSpan]:
        """A phase called ``name`` with its first ``attributes``."""
        ...


class _Nothing:
    def set(self, **attributes: Attribute) -> None:
        """Nothing is recorded."""


class _NoPhases:
    @contextmanager
    def phase(self, name: str, **attributes: Attribute) -> Iterator[PhaseSpan]:
        """A phase that records nothing."""
        yield _Nothing()


NO_PHASES: Phases = _NoPhases()
"""Phases that record nothing: tracing is off."""
