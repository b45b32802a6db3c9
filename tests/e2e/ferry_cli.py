"""Run the ``ferry`` console script as a user would: a real subprocess."""

import os
import subprocess
import sys
from pathlib import Path

FERRY = str(Path(sys.executable).parent / "ferry")
EXAMPLES = "workflows.pipelines"
"""The shipped examples, named as a user names them."""


def ferry(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``ferry ARGS`` in ``cwd`` with ``env`` added to this environment, output as text."""
    return subprocess.run(
        [FERRY, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def run_demo(
    data_dir: str | Path, output_dir: str | Path, store: str | Path, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """``ferry run orders-daily`` on the given data, output folder and store, JSON record out."""
    return ferry(
        "run",
        "orders-daily",
        "--pipelines",
        EXAMPLES,
        "-p",
        f"data_dir={data_dir}",
        "-p",
        f"output_dir={output_dir}",
        "--store",
        str(store),
        "--output",
        "json",
        cwd=cwd,
    )
