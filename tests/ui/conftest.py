"""Fixtures of the UI tests: a store with real runs, the UI served on loopback, a browser.

The store is filled by ``ferry run`` itself (three real pipelines: one succeeds, one
fails at its checks step, one passes a warn gate), so every page is checked against
records, logs, reports and quarantines that the runner and the steps wrote.

The session's store is only read. A test that presses a button (a run, a retry, a
backfill) serves a store of its own under ``tmp_path``, and :func:`stop` ends whatever
the buttons started and is still going, so no detached run outlives its test.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.ferry_cli import ferry
from workflows.demo_data import generate
from workflows.ui.launcher import Launcher

PIPELINES = str(Path(__file__).parent / "pipelines")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
"""Where the browser tests leave screenshots (gitignored; CI keeps the folder)."""


@dataclass(frozen=True)
class RealRuns:
    """A store with real runs, the data they read, and their records by pipeline."""

    root: Path
    store: Path
    data: Path
    records: dict[str, dict]

    def params(self) -> list[str]:
        return ["-p", f"data_dir={self.data}", "-p", f"output_dir={self.root / 'out'}"]


def run_pipeline(runs_root: Path, store: Path, data: Path, name: str) -> dict:
    result = ferry(
        "run",
        name,
        "--pipelines",
        PIPELINES,
        "-p",
        f"data_dir={data}",
        "-p",
        f"output_dir={runs_root / 'out'}",
        "--store",
        str(store),
        "--output",
        "json",
        cwd=runs_root,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> RealRuns:
    """ui-daily (succeeds), ui-strict (fails at orders-checked), ui-segments (warns)."""
    root = tmp_path_factory.mktemp("ui-runs")
    data = root / "data"
    generate(data, 2_000)
    store = root / "store"
    records = {
        name: run_pipeline(root, store, data, name)
        for name in ("ui-daily", "ui-strict", "ui-segments")
    }
    assert [records[n]["status"] for n in records] == ["Succeeded", "Failed", "Succeeded"]
    return RealRuns(root, store, data, records)


def copy_run(real_runs: RealRuns, pipeline: str, store: Path) -> tuple[dict, Path]:
    """Copy the real run of ``pipeline`` (record, logs, manifest, artifacts) into ``store``.

    The copy's record names ``store`` as its store, so its artifacts are found there.
    Returns the record (as written) and the run's folder.
    """
    import shutil

    record = dict(real_runs.records[pipeline])
    folder = store / "runs" / pipeline / record["run_id"]
    shutil.copytree(real_runs.store / "runs" / pipeline / record["run_id"], folder)
    shutil.copytree(
        real_runs.store / "artifacts" / record["run_id"], store / "artifacts" / record["run_id"]
    )
    record["parameters"] = {**record["parameters"], "store": str(store)}
    (folder / "run.json").write_text(json.dumps(record))
    return record, folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


STOP_GRACE_SECONDS = 30.0
"""How long a detached command has to end after SIGTERM (the runner stops its steps first)."""


@dataclass
class Served:
    """The UI served by uvicorn in a thread; ``url`` is its base, without a trailing slash.

    ``launcher`` starts the commands of the UI's buttons (None for an app that was
    served as given, whose buttons are not pressed).
    """

    url: str
    server: object
    thread: threading.Thread
    launcher: Launcher | None = None


def serve(store: Path | str, pipelines: str) -> Served:
    """Serve ``create_ui_app(store, pipelines)`` on 127.0.0.1 and a free port."""
    from workflows.ui import create_ui_app

    app = create_ui_app(str(store), pipelines)
    served = serve_app(app)
    served.launcher = app.state.launcher
    return served


def serve_app(app: object) -> Served:
    """Serve the ASGI ``app`` with uvicorn in a thread on 127.0.0.1 and a free port."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"ui-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the UI server thread died on start"
        assert time.monotonic() < deadline, "the UI server did not start within 20s"
        time.sleep(0.05)
    return Served(f"http://127.0.0.1:{port}", server, thread)


def stop(served: Served) -> None:
    """Stop the server, then end the commands its buttons started that are still going."""
    served.server.should_exit = True  # type: ignore[attr-defined]
    served.thread.join(timeout=10)
    if served.launcher is not None:
        stop_commands(served.launcher)


def stop_commands(launcher: Launcher) -> None:
    """SIGTERM each live command's session (its own: it was started detached), then SIGKILL.

    A run stopped by SIGTERM kills its steps and finalises its record; one that has not
    ended within :data:`STOP_GRACE_SECONDS` is killed with its whole session.
    """
    live = launcher.live()
    for started in live:
        _signal_session(started.process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for started in live:
        try:
            started.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_session(started.process, signal.SIGKILL)
            started.process.wait(timeout=10)


def _signal_session(process: subprocess.Popen[bytes], signum: int) -> None:
    if process.poll() is not None:  # reaped: its pid may be another process's by now
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


@pytest.fixture(scope="session")
def ui(real_runs: RealRuns) -> Iterator[str]:
    """The base URL of the UI over the real runs."""
    served = serve(real_runs.store, PIPELINES)
    try:
        yield served.url
    finally:
        stop(served)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's headless chromium driven by Playwright (never skipped in CI)."""
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing; install it with `make browser` (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
