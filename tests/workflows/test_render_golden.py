"""The shipped example pipelines render byte-for-byte to their committed manifests.

``REGENERATE=1 python -m pytest tests/workflows/test_render_golden.py`` rewrites the
golden files instead (refused when ``CI`` is set, so CI never blesses its own output).
"""

import os
import shutil
from pathlib import Path

import pytest

from workflows.discovery import EXAMPLES, load_pipelines
from workflows.render import render_pipelines, write_files

GOLDEN = Path(__file__).resolve().parents[2] / "workflows" / "pipelines" / "rendered"
SHIPPED = load_pipelines([EXAMPLES])


def regenerating() -> bool:
    if os.environ.get("REGENERATE") != "1":
        return False
    if os.environ.get("CI"):
        pytest.fail("REGENERATE=1 is refused in CI (CI is set); regenerate locally and commit")
    return True


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_rendered_manifests_match_the_golden_files(name: str) -> None:
    if regenerating():
        shutil.rmtree(GOLDEN / name, ignore_errors=True)
        write_files(render_pipelines(SHIPPED, [name])[name], GOLDEN)
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted((GOLDEN / name).glob("*"))}
    assert render_pipelines(SHIPPED, [name])[name].files() == expected, (
        f"{GOLDEN / name} is out of date; run REGENERATE=1 python -m pytest "
        "tests/workflows/test_render_golden.py and review the diff"
    )


def test_every_golden_folder_belongs_to_a_shipped_pipeline() -> None:
    if regenerating():
        for folder in GOLDEN.iterdir():
            if folder.name not in SHIPPED:
                shutil.rmtree(folder)
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(SHIPPED)


def test_the_shipped_examples_are_there() -> None:
    assert {"orders-daily", "customer-quality", "orders-api"} <= set(SHIPPED)
