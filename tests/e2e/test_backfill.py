"""``ferry backfill``: a run per interval, its parameters, reprocess rules, stateless windows."""

import json
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from tests.e2e.ferry_cli import ferry
from workflows.backfill import plan_backfill
from workflows.errors import UsageError
from workflows.intervals import intervals_between
from workflows.pipeline import Schedule
from workflows.runner.record import RunRecord, RunStatus

DAILY = """\
from workflows import (
    FilesExtract, ParquetDatasetLoad, Pipeline, RetryPolicy, Schedule, Source, Target, param,
)

pipeline = Pipeline(
    name="daily-copy",
    params={"data_dir": "data", "output_dir": "out"},
    retry=RetryPolicy(limit=0),
    schedule=Schedule(cron=["0 2 * * *"], timezone="Europe/Berlin"),
    steps=[
        Source(name="day", config=FilesExtract(
            path=f"{param('data_dir')}/{param('run_date')}.csv", format="csv",
            columns={"id": "int64"})),
        Target(name="out", input="day", config=ParquetDatasetLoad(
            path=f"{param('output_dir')}/{param('run_date')}", mode="overwrite")),
    ],
)
"""

INCREMENTAL = """\
from workflows import (
    Cursor, ParquetDatasetLoad, Pipeline, RetryPolicy, Source, SqlExtract, Target, param,
)

pipeline = Pipeline(
    name="events-window",
    params={"pg_schema": "public", "output_dir": "out"},
    retry=RetryPolicy(limit=0),
    steps=[
        Source(name="events", config=SqlExtract(
            url="postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D"
            + param("pg_schema"),
            table="events",
            cursor=Cursor(field="at", primary_key=["id"]{window}))),
        Target(name="out", input="events", config=ParquetDatasetLoad(
            path=f"{param('output_dir')}/{param('run_date')}", mode="merge", key=["id"])),
    ],
)
"""


def project(tmp_path: Path, module: str, name: str) -> Path:
    folder = tmp_path / "pipelines"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(module))
    return folder


def backfill(tmp_path: Path, folder: Path, pipeline: str, *args: str) -> tuple[int, Any, str]:
    result = ferry(
        "backfill", pipeline, "--pipelines", str(folder), "--store", "store",
        "-p", f"output_dir={tmp_path / 'out'}", "--output", "json", *args, cwd=tmp_path,
    )  # fmt: skip
    rows = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, rows, result.stderr


def record(start: str, end: str, status: RunStatus, run_id: str) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        pipeline="p",
        source="p",
        store="s",
        parameters={"interval_start": start, "interval_end": end},
        status=status,
        started=datetime(2026, 11, 5, tzinfo=UTC),
        tasks=[],
    )


def test_intervals_follow_the_schedule_across_a_dst_change() -> None:
    schedule = Schedule(cron=["0 2 * * *"], timezone="Europe/Berlin")
    got = [
        i.parameters() for i in intervals_between(schedule, date(2026, 10, 25), date(2026, 10, 26))
    ]
    assert got == [
        {
            "run_date": "2026-10-25",
            "interval_start": "2026-10-24T02:00:00+02:00",
            "interval_end": "2026-10-25T02:00:00+02:00",
        },
        {
            "run_date": "2026-10-26",
            "interval_start": "2026-10-25T02:00:00+02:00",
            "interval_end": "2026-10-26T02:00:00+01:00",
        },
    ]


def test_an_unscheduled_pipeline_is_backfilled_per_utc_day() -> None:
    got = [i.parameters() for i in intervals_between(None, date(2026, 11, 1), date(2026, 11, 2))]
    assert got[1] == {
        "run_date": "2026-11-02",
        "interval_start": "2026-11-02T00:00:00+00:00",
        "interval_end": "2026-11-03T00:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("reprocess", "actions"),
    [
        ("none", ["skip", "skip", "run"]),
        ("failed", ["skip", "run", "run"]),
        ("all", ["run", "run", "run"]),
    ],
)
def test_reprocess_decides_per_interval(reprocess: str, actions: list[str]) -> None:
    from workflows.discovery import EXAMPLES, get_pipeline

    pipeline = get_pipeline("orders-daily", [EXAMPLES])
    first, second, _ = intervals_between(pipeline.schedule, date(2026, 11, 1), date(2026, 11, 3))
    existing = [  # newest first: the second interval failed, then nothing newer for it
        record(**_window(second), status=RunStatus.FAILED, run_id="r2"),
        record(**_window(first), status=RunStatus.SUCCEEDED, run_id="r1"),
    ]
    plan = plan_backfill(
        pipeline,
        date(2026, 11, 1),
        date(2026, 11, 3),
        existing=existing,
        reprocess=reprocess,  # type: ignore[arg-type]
    )
    assert [r.action for r in plan.runs] == actions
    assert [r.earlier.run_id if r.earlier else None for r in plan.runs] == ["r1", "r2", None]


def _window(interval: Any) -> dict[str, str]:
    params = interval.parameters()
    return {"start": params["interval_start"], "end": params["interval_end"]}


def test_a_backfill_runs_each_interval_with_its_parameters_and_reprocesses_failures(
    tmp_path: Path,
) -> None:
    folder = project(tmp_path, DAILY, "daily")
    data = tmp_path / "data"
    data.mkdir()
    for day in ("2026-11-01", "2026-11-03"):  # 2026-11-02 is missing: that run fails
        (data / f"{day}.csv").write_text(f"id\n{day[-1]}\n")
    code, rows, err = backfill(
        tmp_path, folder, "daily-copy", "--from", "2026-11-01", "--to", "2026-11-03",
        "-p", f"data_dir={data}", "--parallel", "2",
    )  # fmt: skip
    assert code == 1, err
    assert [(r["run_date"], r["action"], r["status"]) for r in rows] == [
        ("2026-11-01", "run", "Succeeded"),
        ("2026-11-02", "run", "Failed"),
        ("2026-11-03", "run", "Succeeded"),
    ]
    assert rows[0]["interval_start"] == "2026-10-31T02:00:00+01:00"
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            "ferry: 1 of 3 interval runs of daily-copy did not succeed: 2026-11-02 (Failed)"
        )
    )
    listed = json.loads(ferry("runs", "--store", "store", "--output", "json", cwd=tmp_path).stdout)
    assert sorted(r["parameters"]["run_date"] for r in listed) == [
        "2026-11-01", "2026-11-02", "2026-11-03",
    ]  # fmt: skip
    assert {r["parameters"]["interval_end"] for r in listed} == {
        rows[i]["interval_end"] for i in range(3)
    }

    (data / "2026-11-02.csv").write_text("id\n2\n")
    code, rows, err = backfill(
        tmp_path, folder, "daily-copy", "--from", "2026-11-01", "--to", "2026-11-03",
        "-p", f"data_dir={data}", "--reprocess", "failed",
    )  # fmt: skip
    assert code == 0, err + json.dumps(rows)
    assert [(r["action"], r["status"]) for r in rows] == [
        ("skip", "Skipped"), ("run", "Succeeded"), ("skip", "Skipped"),
    ]  # fmt: skip
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        assert ds.dataset(tmp_path / "out" / day).to_table().to_pylist() == [{"id": int(day[-1])}]

    code, rows, _ = backfill(
        tmp_path, folder, "daily-copy", "--from", "2026-11-01", "--to", "2026-11-03",
        "-p", f"data_dir={data}", "--dry-run", "--reprocess", "all", "--reverse",
    )  # fmt: skip
    assert code == 0
    assert [(r["run_date"], r["status"]) for r in rows] == [
        ("2026-11-03", "Planned"), ("2026-11-02", "Planned"), ("2026-11-01", "Planned"),
    ]  # fmt: skip


def test_a_backfill_reads_the_window_and_leaves_the_mark_alone(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    schema = pg_url.rpartition("%3D")[2]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as conn:
        conn.execute(f'set search_path to "{schema}"')
        conn.execute("create table events (id int primary key, at timestamptz not null)")
        conn.execute(
            "insert into events values (1, '2026-11-01 10:00+00'), (2, '2026-11-02 10:00+00'),"
            " (3, '2026-11-02 23:30+00'), (4, '2026-11-03 00:00+00')"
        )
    window = ", window_start=param('interval_start'), window_end=param('interval_end')"
    folder = project(tmp_path, INCREMENTAL.replace("{window}", window), "events")
    code, rows, err = backfill(
        tmp_path, folder, "events-window", "--from", "2026-11-01", "--to", "2026-11-02",
        "-p", f"pg_schema={pg_url.rpartition('%3D')[2]}",
    )  # fmt: skip
    assert code == 0, err
    assert [r["status"] for r in rows] == ["Succeeded", "Succeeded"]
    day1 = ds.dataset(tmp_path / "out" / "2026-11-01").to_table()["id"].to_pylist()
    day2 = ds.dataset(tmp_path / "out" / "2026-11-02").to_table()["id"].to_pylist()
    assert (sorted(day1), sorted(day2)) == ([1], [2, 3])  # [D 00:00, D+1 00:00) UTC
    assert not (tmp_path / "store" / "state").exists()


def test_a_backfill_of_a_source_that_would_move_its_mark_is_refused(tmp_path: Path) -> None:
    folder = project(tmp_path, INCREMENTAL.replace("{window}", ""), "events")
    code, rows, err = backfill(
        tmp_path, folder, "events-window", "--from", "2026-11-01", "--to", "2026-11-02"
    )
    assert (code, rows) == (2, None)
    assert err.strip() == (
        "ferry: pipeline 'events-window', step 'events': the source is incremental and its "
        "cursor reads no interval, so a backfill would read and move its high-water mark; set "
        "Cursor(window_start=param('interval_start'), window_end=param('interval_end'))"
    )


def test_bad_ranges_are_usage_errors() -> None:
    from workflows.discovery import EXAMPLES, get_pipeline

    pipeline = get_pipeline("orders-daily", [EXAMPLES])
    with pytest.raises(UsageError, match=r"--to 2026-11-01 is before --from 2026-11-03; swap"):
        plan_backfill(pipeline, date(2026, 11, 3), date(2026, 11, 1), existing=[])


APPENDING = """\
from workflows import (
    FilesExtract, ParquetDatasetLoad, Pipeline, RetryPolicy, Schedule, Source, SqlTableLoad,
    Target, param,
)

pipeline = Pipeline(
    name="daily-append",
    params={"data_dir": "data", "output_dir": "out", "pg_schema": "public"},
    retry=RetryPolicy(limit=0),
    schedule=Schedule(cron=["0 2 * * *"], timezone="Europe/Berlin"),
    steps=[
        Source(name="day", config=FilesExtract(
            path=f"{param('data_dir')}/{param('run_date')}.csv", format="csv",
            columns={"id": "int64"})),
        Target(name="lake", input="day", config=ParquetDatasetLoad(
            path=f"{param('output_dir')}/all", mode="append")),
        Target(name="table", input="day", config=SqlTableLoad(
            url="postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D"
            + param("pg_schema"),
            table="daily_ids", mode="append")),
    ],
)
"""


def test_reprocessing_intervals_appends_no_row_twice(tmp_path: Path, pg_url: str) -> None:
    """The same intervals backfilled again under new run ids: every row once, in both targets."""
    import psycopg

    schema = pg_url.rpartition("%3D")[2]
    folder = project(tmp_path, APPENDING, "appending")
    data = tmp_path / "data"
    data.mkdir()
    for day in ("2026-11-01", "2026-11-02"):
        (data / f"{day}.csv").write_text(f"id\n{day[-1]}1\n{day[-1]}2\n")
    for reprocess in ("none", "all"):
        code, rows, err = backfill(
            tmp_path, folder, "daily-append", "--from", "2026-11-01", "--to", "2026-11-02",
            "-p", f"data_dir={data}", "-p", f"pg_schema={schema}", "--reprocess", reprocess,
        )  # fmt: skip
        assert code == 0, err
        assert [r["status"] for r in rows] == ["Succeeded", "Succeeded"]

    assert sorted(ds.dataset(tmp_path / "out" / "all").to_table().column("id").to_pylist()) == [
        11, 12, 21, 22,
    ]  # fmt: skip
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as conn:
        found = conn.execute(f'select id from "{schema}".daily_ids order by id').fetchall()
    assert [r[0] for r in found] == [11, 12, 21, 22]
    listed = json.loads(ferry("runs", "--store", "store", "--output", "json", cwd=tmp_path).stdout)
    assert len(listed) == 4
