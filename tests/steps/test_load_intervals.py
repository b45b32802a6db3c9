"""Appends keyed by the data interval, and staging left by killed loads swept.

A new run of the same interval (``ferry backfill --reprocess``, a re-submitted day) must
not append that interval's rows again, even after the first run was killed in the
middle of publishing; and the staging a killed load leaves is cleared by the next
successful load of that target.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steps.runtime.load_identity import load_identity
from steps.runtime.process import this_host
from tests.conftest import run_step
from tests.steps.test_load_parquet import DAY1, DAY2, artifact, dataset_rows, visible_files
from tests.targets.sqlhelp import database_url, fetch, step_args, write_artifact

NOV_30 = ("2026-11-30T00:00:00+01:00", "2026-12-01T00:00:00+01:00")
DEC_01 = ("2026-12-01T00:00:00+01:00", "2026-12-02T00:00:00+01:00")


def interval_env(interval: tuple[str, str] | None) -> dict[str, str]:
    start, end = interval or ("", "")
    return {"FERRY_PARAM_interval_start": start, "FERRY_PARAM_interval_end": end}


def load_parquet(
    tmp_path: Path,
    source: str,
    run_id: str,
    config: dict[str, Any],
    interval: tuple[str, str] | None,
) -> subprocess.CompletedProcess[str]:
    result = run_step(
        "load-parquet",
        *("--pipeline", "demo", "--step", "publish", "--run-id", run_id),
        *("--store", str(tmp_path / "store"), "--input", f"daily={source}"),
        *("--config", json.dumps(config)),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs" / run_id), **interval_env(interval)},
    )
    assert result.returncode == 0, result.stderr
    return result


def staging_folders(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / ".out.ferry-staging").glob("*"))


def test_an_append_run_again_for_its_interval_replaces_that_interval(tmp_path: Path) -> None:
    target = tmp_path / "out"
    config = {"path": str(target), "partition_by": ["day"]}
    first, second = artifact(str(tmp_path / "a1"), DAY1), artifact(str(tmp_path / "a2"), DAY2)

    load_parquet(tmp_path, first, "run-1", config, NOV_30)
    load_parquet(tmp_path, first, "run-2", config, NOV_30)

    assert dataset_rows(str(target)) == [("d1", 1), ("d1", 2), ("d2", 3)]
    slug = load_identity("run-2", by_interval=True, environ=interval_env(NOV_30)).slug
    assert all(f"part-{slug}-publish-" in f for f in visible_files(target))
    commit = json.loads((target / "_ferry_commits" / slug / "publish.json").read_text())
    assert (commit["run_id"], commit["interval"], commit["rows"]) == ("run-2", list(NOV_30), 3)

    load_parquet(tmp_path, second, "run-3", config, DEC_01)
    assert dataset_rows(str(target)) == sorted(
        [("d1", 1), ("d1", 2), ("d2", 3), ("d2", 30), ("d3", 4)]
    )


def test_appends_without_an_interval_stay_one_load_per_run(tmp_path: Path) -> None:
    """An ordinary run is its own load: two runs append twice, as they always did."""
    target = tmp_path / "out"
    source = artifact(str(tmp_path / "a1"), DAY1)

    load_parquet(tmp_path, source, "run-1", {"path": str(target)}, None)
    load_parquet(tmp_path, source, "run-2", {"path": str(target)}, None)

    assert len(dataset_rows(str(target))) == 6


def test_killed_while_publishing_then_run_again_for_the_interval_duplicates_nothing(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out"
    config = {"path": str(target), "batch_size": 5, "max_rows_per_file": 5}
    base = artifact(str(tmp_path / "a0"), DAY1)
    load_parquet(tmp_path, base, "run-0", config, NOV_30)
    rows = [{"day": f"d{i % 7}", "n": i} for i in range(20_000)]
    source = artifact(str(tmp_path / "a1"), rows)
    slug = load_identity("x", by_interval=True, environ=interval_env(DEC_01)).slug
    plan = tmp_path / ".out.ferry-staging" / f"{slug}-publish" / "_publish.json"
    args = ["--pipeline", "demo", "--step", "publish", "--run-id", "run-1", "--store"]
    args += [str(tmp_path / "store"), "--input", f"daily={source}", "--config", json.dumps(config)]
    env = {**os.environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "o"), **interval_env(DEC_01)}
    process = subprocess.Popen(
        [sys.executable, "-m", "steps", "load-parquet", *args], stderr=subprocess.DEVNULL, env=env
    )
    first_moved = target / f"part-{slug}-publish-0.parquet"
    while process.poll() is None and not (plan.exists() and first_moved.exists()):
        pass
    process.kill()
    assert process.wait() == -9, "the load finished before it could be killed while publishing"
    published = [f for f in visible_files(target) if slug in f]
    assert 0 < len(published) < 4000, "the kill did not land in the middle of publishing"

    load_parquet(tmp_path, source, "run-2", config, DEC_01)

    assert len(dataset_rows(str(target))) == 3 + 20_000
    assert sorted(dataset_rows(str(target))) == sorted(
        [("d1", 1), ("d1", 2), ("d2", 3), *((r["day"], r["n"]) for r in rows)]
    )
    assert staging_folders(tmp_path) == []


def write_owner(folder: Path, *, step: str, pid: int, started: float) -> None:
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"day": ["d9"], "n": [9]}), folder / "part-x-publish-0.parquet")
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(started))
    owner = {"run_id": "x", "step": step, "host": this_host(), "pid": pid, "started_at": started_at}
    (folder / "_owner.json").write_text(json.dumps(owner))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_next_successful_load_sweeps_what_killed_loads_left(tmp_path: Path) -> None:
    area = tmp_path / ".out.ferry-staging"
    now = time.time()
    write_owner(area / "dead-publish", step="publish", pid=dead_pid(), started=now)
    write_owner(area / "alive-publish", step="publish", pid=os.getpid(), started=now)
    write_owner(area / "ancient-publish", step="publish", pid=os.getpid(), started=now - 2 * 86400)
    write_owner(area / "dead-other", step="other", pid=dead_pid(), started=now)
    for name, age in (("old-publish", 2 * 86400), ("new-publish", 0)):
        (area / name).mkdir()
        part = area / name / "part-0.parquet"
        pq.write_table(pa.table({"n": [1]}), part)
        os.utime(part, (now - age, now - age))

    result = load_parquet(
        tmp_path,
        artifact(str(tmp_path / "a1"), DAY1),
        "run-1",
        {"path": str(tmp_path / "out")},
        None,
    )

    assert staging_folders(tmp_path) == ["alive-publish", "dead-other", "new-publish"]
    swept = [json.loads(line) for line in result.stdout.splitlines() if "staging_swept" in line]
    assert sorted(swept[0]["folders"]) == ["ancient-publish", "dead-publish", "old-publish"]
    assert len(dataset_rows(str(tmp_path / "out"))) == 3


def test_a_leftover_publish_plan_of_another_load_is_carried_out(tmp_path: Path) -> None:
    """A killed load that had begun publishing committed to it: its plan is finished."""
    target = tmp_path / "out"
    folder = tmp_path / ".out.ferry-staging" / "run-9-publish"
    write_owner(folder, step="publish", pid=dead_pid(), started=time.time())
    commit = {"format": "ferry-load/1", "run_id": "run-9", "step": "publish", "rows": 1}
    plan = {
        "remove": [],
        "move": ["part-x-publish-0.parquet"],
        "commit": commit,
        "commit_path": ["_ferry_commits", "run-9", "publish.json"],
    }
    (folder / "_publish.json").write_text(json.dumps(plan))

    load_parquet(
        tmp_path, artifact(str(tmp_path / "a1"), DAY1), "run-1", {"path": str(target)}, None
    )

    assert ("d9", 9) in dataset_rows(str(target))
    assert json.loads((target / "_ferry_commits" / "run-9" / "publish.json").read_text()) == commit
    assert staging_folders(tmp_path) == []


def test_a_killed_load_leaves_no_staging_after_the_next_run(tmp_path: Path) -> None:
    """The 7 MB left by a killed load: gone once the next run's load succeeds."""
    target = tmp_path / "out"
    source = artifact(str(tmp_path / "a1"), [{"day": "d1", "n": i} for i in range(20_000)])
    args = ["--pipeline", "demo", "--step", "publish", "--run-id", "run-1", "--store"]
    config = json.dumps({"path": str(target), "batch_size": 10, "max_rows_per_file": 10})
    args += [str(tmp_path / "store"), "--input", f"daily={source}", "--config", config]
    env = {**os.environ, "FERRY_OUTPUTS_DIR": str(tmp_path / "o")}
    process = subprocess.Popen(
        [sys.executable, "-m", "steps", "load-parquet", *args], stderr=subprocess.DEVNULL, env=env
    )
    while process.poll() is None and not any(tmp_path.rglob("part-run-1-publish-*.parquet")):
        pass
    process.kill()
    assert process.wait() == -9
    assert staging_folders(tmp_path) == ["run-1-publish"]

    load_parquet(
        tmp_path, artifact(str(tmp_path / "a2"), DAY2), "run-2", {"path": str(target)}, None
    )

    assert staging_folders(tmp_path) == []
    assert dataset_rows(str(target)) == [("d2", 30), ("d3", 4)]


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_a_sql_append_of_an_interval_run_again_loads_nothing_twice(
    request: pytest.FixtureRequest, tmp_path: Path, dialect: str
) -> None:
    url = database_url(request, dialect, tmp_path)
    source = write_artifact(tmp_path / "a1", pa.table({"id": [1, 2, 3]}))
    config = {"url": url, "table": "interval_orders", "mode": "append"}

    def load(run_id: str, interval: tuple[str, str] | None) -> subprocess.CompletedProcess[str]:
        args = step_args(
            "load-sql", "to-db", tmp_path / "store", config, run_id=run_id, inputs=[f"src={source}"]
        )
        outputs = tmp_path / "outputs" / run_id
        result = run_step(*args, env={"FERRY_OUTPUTS_DIR": str(outputs), **interval_env(interval)})
        assert result.returncode == 0, result.stderr
        return result

    load("run-1", NOV_30)
    load("run-2", NOV_30)
    assert fetch(url, "SELECT count(*) FROM interval_orders") == [(3,)]
    warning = (tmp_path / "outputs" / "run-2" / "warning").read_text()
    assert warning == (
        f"table 'interval_orders': interval {NOV_30[0]} to {NOV_30[1]} was already appended "
        "(3 rows) by an earlier run of this step; nothing was loaded again, so no row is "
        "duplicated; to load the interval anew, delete its rows first or use mode upsert"
    )

    load("run-3", DEC_01)
    load("run-4", None)
    assert fetch(url, "SELECT count(*) FROM interval_orders") == [(9,)]
