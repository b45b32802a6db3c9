"""``scripts/chart_sync.py``: the chart's pipeline files mirror the rendered ones."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _sync(rendered: Path, chart: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "chart_sync.py"),
            "--rendered",
            str(rendered),
            "--chart",
            str(chart),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sync_copies_chart_files_and_drops_stale_ones(tmp_path: Path) -> None:
    rendered, chart = tmp_path / "rendered", tmp_path / "chart"
    (rendered / "a").mkdir(parents=True)
    (rendered / "a" / "workflowtemplate.yaml").write_text(
        "kind: WorkflowTemplate # {{workflow.name}}\n"
    )
    (rendered / "a" / "workflow.yaml").write_text("kind: Workflow\n")
    (rendered / "notes").mkdir()
    old = chart / "files" / "pipelines"
    (old / "gone").mkdir(parents=True)
    (old / "gone" / "workflowtemplate.yaml").write_text("x")
    (old / "a").mkdir()
    (old / "a" / "cronworkflow.yaml").write_text("unscheduled since")
    result = _sync(rendered, chart)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"chart_sync: 1 pipeline(s) in {chart}/files/pipelines: a"
    assert sorted(str(p.relative_to(old)) for p in old.rglob("*")) == [
        "a",
        "a/workflowtemplate.yaml",
    ]
    assert (
        old / "a" / "workflowtemplate.yaml"
    ).read_text() == "kind: WorkflowTemplate # {{workflow.name}}\n"


def test_sync_without_rendered_folder_exits_with_the_fix(tmp_path: Path) -> None:
    result = _sync(tmp_path / "none", tmp_path / "chart")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"chart_sync: {tmp_path / 'none'} is not a folder; run `ferry render` first"
    )
