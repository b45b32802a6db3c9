"""A step killed mid-write (SIGKILL) leaves nothing the next step accepts; a rerun heals.

The step command comes from the rendered Workflow itself (the same args Argo would
run), with Argo's variables filled in, so this tests the real manifest path.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from steps.runtime.artifacts import ArtifactReader
from steps.runtime.errors import StepError
from steps.runtime.store import open_location
from tests.e2e.ferry_cli import run_demo
from workflows.demo_data import generate, planted_defects
from workflows.discovery import EXAMPLES, get_pipeline
from workflows.render import render_pipeline

ROWS = 400_000


def _step_command(template: str, values: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The step's command line and its parameter variables, as the pod would get them."""
    workflow = render_pipeline(get_pipeline("orders-daily", [EXAMPLES])).workflow
    spec = next(t for t in workflow["spec"]["templates"] if t["name"] == template)

    def filled(text: str) -> str:
        for name, value in values.items():
            text = text.replace("{{" + name + "}}", value)
        return text

    args = [filled(arg) for arg in spec["container"]["args"]]
    assert "{{" not in " ".join(args)
    env = {
        e["name"]: filled(e["value"])
        for e in spec["container"]["env"]
        if e["name"].startswith("FERRY_PARAM_")
    }
    return [sys.executable, "-m", "steps", *args], env


def _wait_for_partial_file(folder: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if folder.exists() and any(p.name.endswith(".tmp") for p in folder.rglob("*")):
            return
        assert proc.poll() is None, "the step finished before it could be killed; use more rows"
        time.sleep(0.002)
    pytest.fail("the step never started writing")


@pytest.mark.slow
def test_sigkill_mid_write_then_rerun(tmp_path: Path) -> None:
    data_dir, store = tmp_path / "data", tmp_path / "store"
    generate(data_dir, ROWS, files=1)
    values = {
        "workflow.name": "orders-daily-killed",
        "workflow.parameters.store": str(store),
        "workflow.parameters.data_dir": str(data_dir),
    }
    env = {**os.environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")}
    command, params = _step_command("orders", values)
    proc = subprocess.Popen(
        command,
        env={**env, **params},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    artifact = store / "artifacts" / "orders-daily-killed" / "orders"
    _wait_for_partial_file(artifact, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert not (artifact / "_manifest.json").exists()
    with pytest.raises(StepError, match=r"is incomplete: no _manifest\.json"):
        ArtifactReader(open_location(str(artifact)), "orders")
    command, params = _step_command("orders-checked", values)
    checks = subprocess.run(command, env={**env, **params}, capture_output=True, text=True)
    assert checks.returncode == 1
    assert checks.stderr.strip().splitlines()[-1] == (
        "ferry: pipeline 'orders-daily', step 'orders-checked': input 'orders' at "
        f"{artifact} is incomplete: no _manifest.json (the step that writes it did not "
        "finish); rerun that step"
    )

    out = tmp_path / "out"
    rerun = run_demo(data_dir, out, store, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    record = json.loads(rerun.stdout)
    good_rows = ROWS - len(planted_defects(ROWS))
    loaded = pq.read_table(out / "daily_revenue", partitioning="hive")
    assert sum(loaded.column("orders").to_pylist()) == good_rows
    assert {t["name"]: t["rows_out"] for t in record["tasks"]}["orders-checked"] == good_rows
