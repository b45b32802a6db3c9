"""Fixtures of the Kubernetes tests: a real helm binary and a chart filled with pipelines.

helm comes from PATH or ``.tools/bin`` (``make tools``); without it the chart tests
skip, or fail under FERRY_REQUIRE_SERVICES=1. The chart is copied to a temporary
folder and filled by ``scripts/chart_sync.py`` from the real rendered pipelines.
"""

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, service_unavailable
from tests.k8s.helpers import CHART, RENDERED, HelmRun, find_helm, image_sets


@pytest.fixture(scope="session")
def helm() -> str:
    path = find_helm()
    if path is None:
        service_unavailable("helm (on PATH or .tools/bin/helm; run `make tools`)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the chart whose files/pipelines come from the rendered pipelines."""
    target = tmp_path_factory.mktemp("chart") / "ferry"
    shutil.copytree(CHART, target, ignore=shutil.ignore_patterns("pipelines"))
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "chart_sync.py"),
            "--rendered",
            str(RENDERED),
            "--chart",
            str(target),
        ],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="session")
def run_helm(helm: str) -> HelmRun:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([helm, *args], capture_output=True, text=True, timeout=120)

    return run


@pytest.fixture(scope="session")
def render(run_helm: HelmRun, chart: Path) -> Callable[..., list[dict]]:
    """``helm template`` the chart with values files (relative to the chart) and --set pairs."""
    cache: dict[tuple[str, ...], list[dict]] = {}

    def template(*values: str, sets: tuple[str, ...] = ()) -> list[dict]:
        key = (*values, "--", *sets)
        if key not in cache:
            args = ["template", "ferry-test", str(chart), "--namespace", "ferry-test"]
            for v in values:
                args += ["-f", str(chart / v)]
            args += image_sets(chart, values)
            for s in sets:
                args += ["--set", s]
            result = run_helm(*args)
            assert result.returncode == 0, result.stderr
            cache[key] = [d for d in yaml.safe_load_all(result.stdout) if d]
        return cache[key]

    return template
