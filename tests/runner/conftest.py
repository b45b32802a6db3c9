"""Fixtures of the runner tests: a store folder and a marks folder per test."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_testkit import SPAWNED


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    return tmp_path / "marks"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(autouse=True)
def _no_runner_left_behind() -> Iterator[None]:
    """Kill (by pid) any ``ferry run`` a failed test left running; its steps die with it."""
    yield
    while SPAWNED:
        proc = SPAWNED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
