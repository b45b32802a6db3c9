"""A CronWorkflow run's interval, worked out by the step from Argo's scheduled time."""

import json
from datetime import date
from pathlib import Path

import pytest

from steps.runtime.errors import StepUsageError
from steps.runtime.scheduled_interval import fill_scheduled_interval
from tests.conftest import run_step
from tests.steps.test_load_parquet import DAY1, artifact, dataset_rows
from workflows import FilesExtract, ParquetDatasetLoad, Pipeline, Schedule, Source, Target, param
from workflows.intervals import scheduled_intervals
from workflows.render import render_pipeline

BERLIN_2AM = {"cron": ["0 2 * * *"], "timezone": "Europe/Berlin"}


def environ(scheduled: str, **extra: str) -> dict[str, str]:
    return {"FERRY_SCHEDULE": json.dumps(BERLIN_2AM), "FERRY_SCHEDULED_TIME": scheduled, **extra}


def test_the_interval_is_the_one_a_backfill_gives_that_fire_time_across_dst() -> None:
    env = environ("2026-10-26T01:00:00Z")  # 02:00 in Berlin, the day after clocks went back
    fill_scheduled_interval(env)

    (expected,) = scheduled_intervals(
        Schedule(**BERLIN_2AM), date(2026, 10, 26), date(2026, 10, 26)
    )
    assert (
        (env["FERRY_PARAM_interval_start"], env["FERRY_PARAM_interval_end"])
        == (
            expected.start.isoformat(),
            expected.end.isoformat(),
        )
        == ("2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00")
    )


@pytest.mark.parametrize(
    "env",
    [
        environ("{{workflow.scheduledTime}}"),  # Argo leaves it so in a run no cron started
        environ(""),  # the local runner's value
        environ(
            "2026-10-26T01:00:00Z", FERRY_PARAM_interval_start="a", FERRY_PARAM_interval_end="b"
        ),
    ],
    ids=["argo-unscheduled", "local", "explicit-interval"],
)
def test_nothing_is_filled_without_a_scheduled_time_or_over_an_explicit_interval(
    env: dict[str, str],
) -> None:
    before = dict(env)
    fill_scheduled_interval(env)
    assert env == before


def test_an_unreadable_schedule_is_a_usage_error() -> None:
    env = {"FERRY_SCHEDULED_TIME": "2026-10-26T01:00:00Z", "FERRY_SCHEDULE": "{}"}
    with pytest.raises(StepUsageError) as info:
        fill_scheduled_interval(env)
    assert str(info.value) == (
        "cannot work out the run's interval from FERRY_SCHEDULED_TIME='2026-10-26T01:00:00Z' "
        "and FERRY_SCHEDULE: 'timezone'; render the pipeline again with ferry render"
    )


def pipeline(schedule: Schedule | None) -> Pipeline:
    return Pipeline(
        name="nightly",
        params={"data_dir": "data"},
        schedule=schedule,
        steps=[
            Source(
                name="raw", config=FilesExtract(path=f"{param('data_dir')}/x.csv", format="csv")
            ),
            Target(name="out", input="raw", config=ParquetDatasetLoad(path="lake/out")),
        ],
    )


def test_steps_of_a_scheduled_pipeline_that_use_the_interval_get_the_scheduled_time() -> None:
    rendered = render_pipeline(pipeline(Schedule(**BERLIN_2AM))).workflow
    env = {
        t["name"]: t["container"]["env"] for t in rendered["spec"]["templates"] if "container" in t
    }
    assert {"name": "FERRY_SCHEDULED_TIME", "value": "{{workflow.scheduledTime}}"} in env["out"]
    assert {
        "name": "FERRY_SCHEDULE",
        "value": json.dumps(BERLIN_2AM, separators=(",", ":")),
    } in env["out"]
    assert not any(e["name"].startswith("FERRY_SCHEDULE") for e in env["raw"])

    unscheduled = render_pipeline(pipeline(None)).workflow
    out = next(t for t in unscheduled["spec"]["templates"] if t["name"] == "out")
    assert not any(e["name"].startswith("FERRY_SCHEDULE") for e in out["container"]["env"])


def test_two_cron_runs_of_the_same_fire_time_append_once(tmp_path: Path) -> None:
    """As two Workflows of one CronWorkflow tick (a re-submit) would on the cluster."""
    source = artifact(str(tmp_path / "a1"), DAY1)
    target = tmp_path / "out"
    for run_id in ("nightly-1761440400", "nightly-again"):
        result = run_step(
            "load-parquet",
            *("--pipeline", "demo", "--step", "publish", "--run-id", run_id),
            *("--store", str(tmp_path / "store"), "--input", f"daily={source}"),
            *("--config", json.dumps({"path": str(target)})),
            env={
                "FERRY_OUTPUTS_DIR": str(tmp_path / run_id),
                "FERRY_PARAM_interval_start": "",
                "FERRY_PARAM_interval_end": "",
                **environ("2026-10-26T01:00:00Z"),
            },
        )
        assert result.returncode == 0, result.stderr
    assert dataset_rows(str(target)) == [("d1", 1), ("d1", 2), ("d2", 3)]
    (commit,) = (target / "_ferry_commits").glob("*/publish.json")
    assert json.loads(commit.read_text())["interval"] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-26T02:00:00+01:00",
    ]
