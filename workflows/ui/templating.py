"""The Jinja2 environment of the UI's pages: autoescaping always on, the value formats."""

from datetime import UTC, datetime
from pathlib import Path

import jinja2
from starlette.templating import Jinja2Templates

from workflows.runner.live import format_duration

TEMPLATES = Path(__file__).parent / "templates"


def when(value: datetime | None) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS`` in UTC; empty when unknown."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def count(value: int | None) -> str:
    """A row count with thousands separators; empty when unknown."""
    return "" if value is None else f"{value:,}"


def score(value: float | None) -> str:
    """A quality score with four decimals; empty when unknown."""
    return "" if value is None else f"{value:.4f}"


def templates() -> Jinja2Templates:
    """The templates of the pages, escaping every value (StrictUndefined: a typo fails)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(when=when, count=count, score=score, duration=format_duration)
    env.filters["css"] = lambda status: str(status).lower()
    return Jinja2Templates(env=env)
