"""The timeline of a run: one row per step, one bar per attempt, on a shared time axis."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from workflows.runner.live import format_duration
from workflows.ui.step_log import Attempt

LABEL_WIDTH = 190
"""Pixels left of the axis for the step names."""

CHART_WIDTH = 720
"""Pixels of the time axis."""

ROW_HEIGHT = 24
BAR_HEIGHT = 14
AXIS_HEIGHT = 22
TICKS = 5
MIN_BAR_WIDTH = 2.0


@dataclass(frozen=True)
class Bar:
    """One attempt drawn from ``x`` for ``width`` pixels in row ``y``."""

    step: str
    number: int
    outcome: str
    x: float
    y: float
    width: float
    title: str
    """What hovering shows: the attempt, its start, end and duration."""


@dataclass(frozen=True)
class Tick:
    """A mark on the time axis, labelled with the time since the run started."""

    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    """The drawing: rows of steps (name and row top), bars and axis ticks."""

    rows: tuple[tuple[str, float], ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    width: float
    height: float
    label_width: float


def build_timeline(
    started: datetime, ended: datetime, attempts: Sequence[tuple[str, Sequence[Attempt]]]
) -> Timeline:
    """Lay out ``attempts`` (per step, in task order) between the run's start and end.

    An attempt still going (no end) reaches ``ended``, which for a running run is now.
    """
    span = max((ended - started).total_seconds(), 0.001)
    scale = CHART_WIDTH / span

    def x_of(moment: datetime) -> float:
        offset = min(max((moment - started).total_seconds(), 0.0), span)
        return LABEL_WIDTH + offset * scale

    rows: list[tuple[str, float]] = []
    bars: list[Bar] = []
    for index, (step, tries) in enumerate(attempts):
        top = AXIS_HEIGHT + index * ROW_HEIGHT
        rows.append((step, top))
        for attempt in tries:
            end = attempt.finished or ended
            x = x_of(attempt.started)
            width = max(x_of(end) - x, MIN_BAR_WIDTH)
            took = format_duration((end - attempt.started).total_seconds())
            title = (
                f"{step} attempt {attempt.number}: {attempt.outcome}, "
                f"{attempt.started:%H:%M:%S} to {end:%H:%M:%S} UTC ({took})"
            )
            bars.append(
                Bar(
                    step,
                    attempt.number,
                    attempt.outcome,
                    x,
                    top + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                    width,
                    title,
                )
            )
    fraction = 1 / (TICKS - 1)
    ticks = tuple(
        Tick(LABEL_WIDTH + i * fraction * CHART_WIDTH, f"+{format_duration(span * i * fraction)}")
        for i in range(TICKS)
    )
    return Timeline(
        rows=tuple(rows),
        bars=tuple(bars),
        ticks=ticks,
        width=LABEL_WIDTH + CHART_WIDTH + 40,
        height=AXIS_HEIGHT + max(len(rows), 1) * ROW_HEIGHT + 4,
        label_width=LABEL_WIDTH,
    )
