"""Faults: the connection dies mid-load; a run fails between its two targets."""

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import run_step
from tests.targets.sqlhelp import (
    execute,
    fetch,
    last_error,
    ledger,
    read_artifact,
    step_args,
    write_artifact,
)

ROWS = 400_000


def _load(tmp_path: Path, artifact: str, config: dict[str, Any]):
    args = step_args("load-sql", "to-db", tmp_path / "store", config, inputs=[f"src={artifact}"])
    return run_step(*args, env={"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")})


def _kill_when_sending(url: str, table: str, finished: threading.Event) -> bool:
    """Kill the loading session once its bulk statement runs; True when it was killed."""
    deadline = time.monotonic() + 60
    while not finished.is_set() and time.monotonic() < deadline:
        if url.startswith("postgresql"):
            killed = fetch(
                url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE query LIKE 'COPY \"{table}\"%' AND pid <> pg_backend_pid()",
            )
        else:
            ids = fetch(
                url,
                "SELECT ID FROM information_schema.PROCESSLIST "
                f"WHERE INFO LIKE 'INSERT INTO `{table}`%'",
            )
            for (session,) in ids:
                execute(url, f"KILL {session}")
            killed = ids
        if killed:
            return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_connection_dropped_mid_load_commits_nothing_and_rerun_is_exact(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("pg_url" if dialect == "postgresql" else "mysql_url")
    table = f"faulty_{uuid.uuid4().hex[:8]}"
    execute(
        url,
        f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, name VARCHAR(40))",
        f"INSERT INTO {table} VALUES (-1, 'before')",
    )
    data = pa.table(
        {
            "id": pa.array(range(ROWS), pa.int64()),
            "name": pa.array([f"name-{i}" for i in range(ROWS)]),
        }
    )
    artifact = write_artifact(tmp_path / "a1", data)
    config = {"url": url, "table": table, "batch_size": 5_000}

    finished = threading.Event()
    outcome: dict[str, Any] = {}

    def load_in_background() -> None:
        outcome["result"] = _load(tmp_path, artifact, config)
        finished.set()

    loader = threading.Thread(target=load_in_background)
    loader.start()
    killed = _kill_when_sending(url, table, finished)
    loader.join()
    assert killed, "the load finished before its session could be killed"
    result = outcome["result"]
    assert result.returncode == 1
    assert last_error(result.stderr).startswith(
        f"ferry: pipeline 'demo', step 'to-db': loading table '{table}' on "
    )
    assert fetch(url, f"SELECT count(*) FROM {table}") == [(1,)]
    assert ledger(url) == []

    rerun = _load(tmp_path, artifact, config)
    assert rerun.returncode == 0, rerun.stderr
    assert fetch(url, f"SELECT count(*), count(DISTINCT id) FROM {table}") == [(ROWS + 1, ROWS + 1)]
    assert ledger(url) == [("demo", "to-db", "run-1", table, ROWS)]


def _run_pipeline(
    tmp_path: Path, run_id: str, source_url: str, targets: dict[str, str]
) -> list[int]:
    """extract (incremental) -> load into each target (upsert) -> commit-state, stopping at
    the first failing step like the workflow does; returns the exit codes in order."""
    store = tmp_path / "store"
    out = tmp_path / "artifacts" / run_id / "events"
    env = {"FERRY_OUTPUTS_DIR": str(tmp_path / "outputs")}
    extract = {
        "url": source_url,
        "table": "events",
        "cursor": {"field": "updated", "initial_value": 1},
    }
    codes = [
        run_step(
            *step_args("extract-sql", "events", store, extract, run_id=run_id, output=out), env=env
        ).returncode
    ]
    for name, url in targets.items():
        if codes[-1] != 0:
            return codes
        config = {"url": url, "table": "events", "mode": "upsert", "key": ["id"]}
        args = step_args("load-sql", name, store, config, run_id=run_id, inputs=[f"events={out}"])
        codes.append(run_step(*args, env=env).returncode)
    if codes[-1] == 0:
        commit = step_args(
            "commit-state",
            "commit-state",
            store,
            {"sources": ["events"]},
            run_id=run_id,
            inputs=[f"events={out}"],
        )
        codes.append(run_step(*commit, env=env).returncode)
    return codes


@pytest.mark.slow
def test_failed_second_target_keeps_the_mark_and_rerun_has_no_duplicates(
    pg_url: str, tmp_path: Path
) -> None:
    execute(
        pg_url,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated INTEGER)",
        "INSERT INTO events VALUES (1, 1), (2, 2), (3, 3)",
    )
    target1 = f"sqlite://{tmp_path / 'target1.db'}"
    target2 = f"sqlite://{tmp_path / 'not-yet' / 'target2.db'}"
    state = tmp_path / "store" / "state" / "demo" / "events.json"

    assert _run_pipeline(tmp_path, "run-1", pg_url, {"t1": target1, "t2": target2}) == [0, 0, 1]
    assert not state.exists()
    assert sorted(fetch(target1, "SELECT id FROM events")) == [(1,), (2,), (3,)]

    execute(pg_url, "INSERT INTO events VALUES (4, 4)")
    (tmp_path / "not-yet").mkdir()
    assert _run_pipeline(tmp_path, "run-2", pg_url, {"t1": target1, "t2": target2}) == [0, 0, 0, 0]
    table, _ = read_artifact(tmp_path / "artifacts" / "run-2" / "events")
    assert sorted(table.column("id").to_pylist()) == [1, 2, 3, 4], "same window read again"
    for target in (target1, target2):
        assert sorted(fetch(target, "SELECT id, updated FROM events")) == [
            (i, i) for i in range(1, 5)
        ]
    assert json.loads(state.read_text())["value"] == 4

    assert _run_pipeline(tmp_path, "run-3", pg_url, {"t1": target1}) == [0, 0, 0]
    table, _ = read_artifact(tmp_path / "artifacts" / "run-3" / "events")
    assert table.num_rows == 0
