"""Paths and helpers shared by the Kubernetes tests."""

import shutil
import subprocess
from collections.abc import Callable

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
