"""Helpers for the ``ferry serve`` tests: a hand-moved clock, a launcher that records starts,
and a real ``ferry serve`` subprocess with bounded waits."""

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workflows.serve.eventlog import EventLog
from workflows.serve.runs import RunProcess

PIPELINES = Path(__file__).resolve().parent / "pipelines"
FERRY = str(Path(sys.executable).parent / "ferry")
PEOPLE_CSV = "id,name\n1,ann\n2,bob\n"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, text: str) -> "Clock":
        self.now = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return self

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class HeldRun:
    """A started run the test ends by hand (``finish``); stop() ends it as SIGTERM would."""

    run_pid: int
    code: int | None = None
    stopped: bool = False

    @property
    def pid(self) -> int:
        return self.run_pid

    def exit_code(self) -> int | None:
        return self.code

    def stop(self) -> None:
        self.stopped = True
        self.code = 1

    def kill(self) -> None:
        self.code = -9

    def last_error(self) -> str:
        return ""

    def close(self) -> None:
        pass

    def finish(self, code: int = 0) -> None:
        self.code = code


@dataclass
class RecordingLauncher:
    """Records every start as (pipeline, parameters) and hands out held runs."""

    started: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    runs: list[HeldRun] = field(default_factory=list)

    def launch(self, pipeline: str, parameters: Mapping[str, str]) -> RunProcess:
        self.started.append((pipeline, dict(parameters)))
        run = HeldRun(run_pid=900_000 + len(self.runs))
        self.runs.append(run)
        return run

    def adopt(self, pid: int) -> RunProcess:
        return HeldRun(run_pid=pid)

    def ends(self) -> list[str]:
        return [p["interval_end"] for _, p in self.started]


def captured_log(
    clock: Callable[[], datetime],
) -> tuple[EventLog, Callable[[], list[dict[str, Any]]]]:
    """An event log into memory and a function returning its lines parsed."""
    stream = io.StringIO()

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    return EventLog(stream, clock), lines


def write_data(folder: Path) -> None:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "people.csv").write_text(PEOPLE_CSV)


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class ServeProcess:
    """A real ``ferry serve`` subprocess; its stderr (JSON lines) goes to a file."""

    process: subprocess.Popen[str]
    stderr_path: Path
    stdout_path: Path
    url: str = ""

    def log(self) -> list[dict[str, Any]]:
        lines = self.stderr_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.log() if line["event"] == name]

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def post_event(self, discriminator: str, payload: object, **headers: str) -> tuple[int, str]:
        return self.request(
            "POST",
            f"/api/v1/events/default/{discriminator}",
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **headers},
        )

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def start_serve(cwd: Path, *args: str, env: dict[str, str] | None = None) -> ServeProcess:
    """``ferry serve --pipelines PIPELINES --store .ferry --port 0 ARGS`` in ``cwd``, listening."""
    stderr_path, stdout_path = cwd / "serve.stderr", cwd / "serve.stdout"
    process = subprocess.Popen(
        [FERRY, "serve", "--pipelines", str(PIPELINES), "--store", ".ferry", "--port", "0", *args],
        cwd=cwd,
        stdout=stdout_path.open("w"),
        stderr=stderr_path.open("w"),
        text=True,
        env={**os.environ, **(env or {})},
    )
    served = ServeProcess(process, stderr_path, stdout_path)

    def listening() -> str | None:
        if process.poll() is not None:
            raise AssertionError(
                f"ferry serve exited {process.returncode}: {stderr_path.read_text()}"
            )
        found = re.search(r"ferry serve: (http://\S+)", stdout_path.read_text())
        return found.group(1) if found else None

    served.url = wait_for("ferry serve to listen", listening, timeout=60)
    return served
