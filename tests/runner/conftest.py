"""Fixtures of the runner tests: a store folder and a marks folder per test."""

from pathlib import Path

import pytest


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    return tmp_path / "marks"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"
