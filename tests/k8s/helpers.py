"""Paths and helpers shared by the Kubernetes tests."""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.conftest import REPO

CHART = REPO / "charts" / "ferry"
RENDERED = REPO / "workflows" / "pipelines" / "rendered"
SCENARIOS = [
    "values.yaml",
    "values-dev.yaml",
    "values-prod.yaml",
    *sorted(f"ci/{p.name}" for p in (CHART / "ci").glob("*-values.yaml")),
]


def find_helm() -> str | None:
    """helm on PATH, else the project-local one from ``make tools``."""
    local = REPO / ".tools" / "bin" / "helm"
    return shutil.which("helm") or (str(local) if local.is_file() else None)


HelmRun = Callable[..., subprocess.CompletedProcess[str]]

TEST_IMAGE = "registry.example.com/test/ferry-step"
"""``image.repository`` given to helm where no values file sets it (the chart requires one)."""


def image_sets(chart: Path, values: tuple[str, ...] | list[str]) -> list[str]:
    """``--set image.repository=...`` unless one of the values files sets it."""
    for name in values:
        data = yaml.safe_load((chart / name).read_text()) or {}
        if (data.get("image") or {}).get("repository"):
            return []
    return ["--set", f"image.repository={TEST_IMAGE}"]
