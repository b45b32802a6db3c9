"""The scheduler with a hand-moved clock: ticks, catch-up, concurrency policies, suspend.

Runs are started by a recording launcher here (what is started, with which
parameters); the real ``ferry run`` processes are exercised by test_serve_restart.py
and test_serve_process.py.
"""

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from serve_testkit import PIPELINES, Clock, RecordingLauncher, captured_log, utc

from workflows.serve.scheduler import Scheduler
from workflows.serve.served import ServedPipeline, load_served
from workflows.serve.state import load_state

START = "2026-03-02T10:00:30"


@pytest.fixture(scope="module")
def served() -> dict[str, ServedPipeline]:
    return load_served([str(PIPELINES)])


def cron_only(served: dict[str, ServedPipeline], **schedule: Any) -> dict[str, ServedPipeline]:
    pipeline = served["serve-cron"]
    assert pipeline.cron is not None
    cron = dataclasses.replace(pipeline.cron, **schedule)
    return {"serve-cron": dataclasses.replace(pipeline, cron=cron)}


def scheduler(
    pipelines: dict[str, ServedPipeline], store: Path, clock: Clock, **options: Any
) -> tuple[Scheduler, RecordingLauncher, Any]:
    launcher = RecordingLauncher()
    log, lines = captured_log(clock)
    made = Scheduler(pipelines, str(store), launcher, log, clock=clock, **options)
    made.recover()
    return made, launcher, lines


def test_the_rendered_cron_workflow_is_what_is_scheduled(served: dict[str, ServedPipeline]) -> None:
    cron = served["serve-cron"].cron
    assert cron is not None
    assert (cron.schedules, cron.timezone, cron.concurrency_policy) == (
        ("* * * * *",),
        "UTC",
        "Forbid",
    )
    assert (cron.starting_deadline_seconds, cron.suspend) == (300, False)
    assert served["serve-events"].cron is None


def test_a_tick_starts_a_run_with_its_interval(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    clock = Clock(utc(START))
    made, launcher, lines = scheduler(cron_only(served), tmp_path, clock)
    made.tick()
    assert launcher.started == []

    clock.at("2026-03-02T10:01:00.2")
    made.tick()

    assert launcher.started == [
        (
            "serve-cron",
            {
                "run_date": "2026-03-02",
                "interval_start": "2026-03-02T10:00:00+00:00",
                "interval_end": "2026-03-02T10:01:00+00:00",
            },
        )
    ]
    assert [line["event"] for line in lines()][-2:] == ["tick", "start"]
    state = load_state(made.location)
    assert state.last_scheduled["serve-cron"] == utc("2026-03-02T10:01:00")
    assert [e.pid for e in state.in_flight] == [launcher.runs[0].pid]


def test_forbid_skips_a_tick_while_the_run_goes(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    clock = Clock(utc(START))
    made, launcher, lines = scheduler(cron_only(served), tmp_path, clock)
    clock.at("2026-03-02T10:01:00.5")
    made.tick()
    clock.at("2026-03-02T10:02:00.5")
    made.tick()

    assert launcher.ends() == ["2026-03-02T10:01:00+00:00"]
    skip = [line for line in lines() if line["event"] == "skip"]
    assert skip[-1]["reason"] == (
        f"concurrencyPolicy Forbid: a run of the pipeline is going (pid {launcher.runs[0].pid})"
    )

    launcher.runs[0].finish()
    clock.at("2026-03-02T10:03:00.5")
    made.tick()
    assert launcher.ends()[-1] == "2026-03-02T10:03:00+00:00"


def test_allow_overlaps_runs(served: dict[str, ServedPipeline], tmp_path: Path) -> None:
    clock = Clock(utc(START))
    made, launcher, _ = scheduler(cron_only(served, concurrency_policy="Allow"), tmp_path, clock)
    for minute in (1, 2):
        clock.at(f"2026-03-02T10:0{minute}:00.5")
        made.tick()

    assert launcher.ends() == ["2026-03-02T10:01:00+00:00", "2026-03-02T10:02:00+00:00"]
    assert all(run.code is None for run in launcher.runs)


def test_replace_stops_the_running_run_then_starts_the_new(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    clock = Clock(utc(START))
    made, launcher, lines = scheduler(
        cron_only(served, concurrency_policy="Replace"), tmp_path, clock
    )
    clock.at("2026-03-02T10:01:00.5")
    made.tick()
    clock.at("2026-03-02T10:02:00.5")
    made.tick()

    assert launcher.runs[0].stopped
    stop = next(line for line in lines() if line["event"] == "stop")
    assert stop["reason"] == (
        "concurrencyPolicy Replace: replaced by the run of 2026-03-02 10:02:00+00:00"
    )
    made.tick()  # the stopped run has ended: the new one starts
    assert launcher.ends() == ["2026-03-02T10:01:00+00:00", "2026-03-02T10:02:00+00:00"]


def test_a_suspended_schedule_starts_nothing(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    clock = Clock(utc(START))
    made, launcher, lines = scheduler(cron_only(served, suspend=True), tmp_path, clock)
    clock.at("2026-03-02T10:01:00.5")
    made.tick()

    assert launcher.started == []
    assert lines()[-1]["reason"] == "the schedule is suspended"


def downtime(
    served: dict[str, ServedPipeline], store: Path, catchup: str, **schedule: Any
) -> tuple[RecordingLauncher, list[dict[str, Any]]]:
    """A server up at 10:00:30, stopped, started again at 10:05:30 with ``catchup``."""
    pipelines = cron_only(served, **schedule)
    first, _, _ = scheduler(pipelines, store, Clock(utc(START)))
    first.shutdown()
    clock = Clock(utc("2026-03-02T10:05:30"))
    _, launcher, lines = scheduler(pipelines, store, clock, catchup=catchup)
    return launcher, lines()


def test_catchup_latest_runs_only_the_latest_missed_run(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    launcher, lines = downtime(served, tmp_path, "latest")

    assert launcher.ends() == ["2026-03-02T10:05:00+00:00"]
    skip = next(line for line in lines if line["event"] == "skip")
    assert (skip["count"], skip["reason"]) == (
        4,
        "only the latest missed run runs (--catchup latest)",
    )


def test_catchup_all_runs_every_missed_interval_one_after_another(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    pipelines = cron_only(served)
    first, _, _ = scheduler(pipelines, tmp_path, Clock(utc(START)))
    first.shutdown()
    clock = Clock(utc("2026-03-02T10:05:30"))
    made, launcher, _ = scheduler(pipelines, tmp_path, clock, catchup="all")

    assert launcher.ends() == ["2026-03-02T10:01:00+00:00"]  # Forbid: one at a time
    for run in range(4):
        launcher.runs[run].finish()
        made.tick()
    assert launcher.ends() == [f"2026-03-02T10:0{m}:00+00:00" for m in range(1, 6)]
    assert load_state(made.location).queued == []


def test_catchup_none_runs_nothing_missed(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    launcher, lines = downtime(served, tmp_path, "none")

    assert launcher.started == []
    assert lines[-1]["reason"] == "missed while the server was down (--catchup none)"


def test_catchup_latest_honours_the_starting_deadline(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    launcher, lines = downtime(served, tmp_path, "latest", starting_deadline_seconds=10)

    assert launcher.started == []
    assert lines[-1]["reason"] == "30 s late, past startingDeadlineSeconds 10"


def test_a_run_that_never_started_before_a_crash_starts_after_the_restart(
    served: dict[str, ServedPipeline], tmp_path: Path
) -> None:
    clock = Clock(utc(START))
    made, _, _ = scheduler(cron_only(served), tmp_path, clock)

    class Crash(Exception):
        pass

    def crash(*_: object) -> None:
        raise Crash

    made.launcher.launch = crash  # type: ignore[method-assign]
    clock.at("2026-03-02T10:01:00.5")
    with pytest.raises(Crash):
        made.tick()  # the run is in flight in the store, its process never started

    _, launcher, lines = scheduler(cron_only(served), tmp_path, clock)

    assert launcher.ends() == ["2026-03-02T10:01:00+00:00"]
    assert [line["event"] for line in lines()] == ["requeue", "start"]
