"""Rendered manifests pass strict validation against the Argo v4.1 CRD schemas."""

import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_fakes import FakeExtract, FakeLoad, minimal

from workflows import Resources, RetryPolicy, Schedule, Source, Target
from workflows.discovery import EXAMPLES, load_pipelines
from workflows.render import write_rendered

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"  # as tests/conftest.py's SHARED (not importable by name here)
TOOL = SHARED / "tools" / "argo-conformance"
GOLDEN = REPO / "workflows" / "pipelines" / "rendered"

pytestmark = pytest.mark.skipif(
    not TOOL.is_file(), reason=f"{TOOL} is absent (../shared is not checked out next to the repo)"
)


def conformance(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_golden_files_conform() -> None:
    result = conformance(GOLDEN)
    assert result.returncode == 0, result.stdout + result.stderr
    documents = len(list(GOLDEN.glob("*/*.yaml")))
    assert f"{documents} Argo documents checked, 0 failing" in result.stdout + result.stderr


def test_freshly_rendered_pipelines_conform(tmp_path: Path) -> None:
    pipelines = list(load_pipelines([EXAMPLES]).values())
    pipelines.append(
        minimal(
            name="everything-set",
            sources=[
                Source(
                    name="orders",
                    config=FakeExtract(path="in", cursor="updated_at", token_secret="api"),
                    retry=RetryPolicy(limit=0, policy="OnTransientError"),
                    resources=Resources(cpu_limit="500m"),
                    active_deadline_seconds=600,
                )
            ],
            checks=[],
            targets=[Target(name="out", input="orders", config=FakeLoad(path="o"))],
            schedule=Schedule(cron=["*/5 * * * *", "0 0 1 * *"], suspend=True),
            labels={"team": "data"},
            active_deadline_seconds=3600,
        )
    )
    written = [path for pipeline in pipelines for path in write_rendered(pipeline, tmp_path)]
    result = conformance(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(written)} Argo documents checked, 0 failing" in result.stdout + result.stderr


def test_the_checker_rejects_an_unknown_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: x-}\n"
        "spec: {entrypoint: main, templates: [], parallelismm: 2}\n"
    )
    assert conformance(bad).returncode == 1
