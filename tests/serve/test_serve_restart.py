"""A restart of the scheduler with real ``ferry run`` processes: no run lost, none repeated."""

from pathlib import Path

import pytest
from serve_testkit import PIPELINES, Clock, captured_log, utc, wait_for, write_data

from workflows.runner import RunStatus, list_runs
from workflows.serve.runs import FerryRunLauncher
from workflows.serve.scheduler import Scheduler
from workflows.serve.served import load_served


def start(store: Path, clock: Clock) -> tuple[Scheduler, object]:
    pipelines = {"serve-cron": load_served([str(PIPELINES)])["serve-cron"]}
    log, lines = captured_log(clock)
    launcher = FerryRunLauncher(str(PIPELINES), str(store))
    made = Scheduler(pipelines, str(store), launcher, log, clock=clock)
    made.recover()
    return made, lines


def run_out(made: Scheduler) -> None:
    def ended() -> bool:
        made.tick()
        return not made.state.in_flight

    wait_for("the run to end", ended, timeout=180, every=0.5)


@pytest.mark.slow
def test_a_restart_neither_loses_nor_repeats_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_data(tmp_path)
    store = tmp_path / ".ferry"
    clock = Clock(utc("2026-03-02T10:00:30"))
    first, _ = start(store, clock)
    clock.at("2026-03-02T10:01:00.5")
    first.tick()
    assert len(first.state.in_flight) == 1
    # The server dies here, its run still going: nothing of `first` is used again.

    second, lines = start(store, clock)
    second.tick()
    run_out(second)
    clock.at("2026-03-02T10:02:00.5")
    second.tick()
    run_out(second)

    records = list_runs(str(store), "serve-cron")
    assert sorted(r.parameters["interval_end"] for r in records) == [
        "2026-03-02T10:01:00+00:00",
        "2026-03-02T10:02:00+00:00",
    ]
    assert {r.status for r in records} == {RunStatus.SUCCEEDED}
    events = [(line["event"], line.get("status")) for line in lines()]  # type: ignore[operator]
    assert events[0][0] in ("adopt", "finish")  # the first run, still going or just ended
    assert events.count(("finish", "Succeeded")) == 2
    assert [e for e, _ in events].count("start") == 1
