"""Incremental extract-sql over real databases: inclusive bound, boundary de-duplication,
lag, explicit windows and NULL cursors, each step run as ``python -m steps``.

The cycle every test drives is the pipeline's: extract, then ``commit-state`` with
the extract's artifact as input, then rows arrive, then the next run.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_step
from tests.targets.sqlhelp import (
    DIALECTS,
    StepRun,
    database_url,
    events,
    execute,
    last_error,
    read_artifact,
    run_in_process,
    step_args,
)


class Runs:
    """Extract and commit-state runs of source ``events`` in one store."""

    def __init__(self, tmp_path: Path, config: dict[str, Any]) -> None:
        self.tmp_path = tmp_path
        self.store = tmp_path / "store"
        self.config = config
        self.state = self.store / "state" / "demo" / "events.json"
        self.count = 0

    def extract(self, **cursor_changes: Any) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
        """One extract run: its rows (sorted by id), manifest and stdout."""
        self.count += 1
        run_id = f"run-{self.count}"
        config = dict(self.config)
        config["cursor"] = {**config["cursor"], **cursor_changes}
        out = self.tmp_path / "artifacts" / run_id / "events"
        args = step_args("extract-sql", "events", self.store, config, run_id=run_id, output=out)
        outputs = self.tmp_path / f"outputs-{run_id}"
        result = run_step(*args, env={"FERRY_OUTPUTS_DIR": str(outputs)})
        assert result.returncode == 0, result.stderr
        table, manifest = read_artifact(out)
        assert (outputs / "rows_in").read_text() == str(table.num_rows)
        self.last = out
        return sorted(table.to_pylist(), key=lambda r: r["id"]), manifest, result.stdout

    def commit(self) -> str:
        """commit-state for the last extract; its stdout."""
        args = step_args(
            "commit-state",
            "commit-state",
            self.store,
            {"sources": ["events"]},
            run_id=f"run-{self.count}",
            inputs=[f"events={self.last}"],
        )
        result = run_step(*args, env={"FERRY_OUTPUTS_DIR": str(self.tmp_path / "outputs-c")})
        assert result.returncode == 0, result.stderr
        return result.stdout

    def stored(self) -> dict[str, Any]:
        return json.loads(self.state.read_text())


def duplicates(stdout: str) -> int:
    [event] = events(stdout, "cursor_boundary_duplicates")
    return int(event["rows"])


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [r["id"] for r in rows]


KEYED = {"field": "updated", "primary_key": ["id"]}


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = database_url(request, request.param, tmp_path)
    execute(
        url,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, note VARCHAR(20), updated INTEGER)",
        "INSERT INTO events VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30), (4, 'd', 30)",
    )
    return url


def test_rows_arriving_at_the_mark_after_a_run_come_next_run_once(db: str, tmp_path: Path) -> None:
    runs = Runs(tmp_path, {"url": db, "table": "events", "cursor": KEYED})
    rows, manifest, out = runs.extract()
    assert ids(rows) == [1, 2, 3, 4]
    assert manifest["cursor"]["value"] == 30 and manifest["cursor"]["keys_count"] == 2
    assert duplicates(out) == 0
    runs.commit()
    assert runs.stored()["value"] == 30 and runs.stored()["digest_columns"] == ["id", "updated"]

    execute(db, "INSERT INTO events VALUES (5, 'e', 30), (6, 'f', 30), (7, 'g', 40)")
    rows, manifest, out = runs.extract()
    assert ids(rows) == [5, 6, 7]  # 3 and 4 share the mark and were delivered: dropped
    assert duplicates(out) == 2
    assert manifest["cursor"]["boundary_duplicates"] == 2
    runs.commit()
    assert (runs.stored()["value"], runs.stored()["keys_count"]) == (40, 1)

    execute(db, "INSERT INTO events VALUES (8, 'h', 40)")
    rows, _, out = runs.extract()
    assert ids(rows) == [8]
    assert duplicates(out) == 1
    runs.commit()
    rows, manifest, out = runs.extract()
    assert rows == [] and manifest["cursor"]["value"] == 40 and duplicates(out) == 2


def test_updated_row_at_the_mark_is_a_new_version(db: str, tmp_path: Path) -> None:
    """The digest covers key and cursor value: an update that moves the cursor comes again."""
    runs = Runs(tmp_path, {"url": db, "table": "events", "cursor": KEYED})
    runs.extract()
    runs.commit()
    execute(db, "UPDATE events SET updated = 31, note = 'D' WHERE id = 4")
    rows, _, out = runs.extract()
    assert rows == [{"id": 4, "note": "D", "updated": 31}]
    assert duplicates(out) == 1


def test_without_primary_key_all_columns_identify_a_row(pg_url: str, tmp_path: Path) -> None:
    execute(
        pg_url,
        "CREATE TABLE events (id INTEGER, note TEXT, updated INTEGER)",
        "INSERT INTO events VALUES (1, 'a', 10), (2, NULL, 20)",
    )
    runs = Runs(tmp_path, {"url": pg_url, "table": "events", "cursor": {"field": "updated"}})
    runs.extract()
    runs.commit()
    assert runs.stored()["digest_columns"] == ["id", "note", "updated"]
    execute(pg_url, "INSERT INTO events VALUES (2, 'x', 20), (3, NULL, 20)")
    rows, _, out = runs.extract()
    assert rows == [{"id": 2, "note": "x", "updated": 20}, {"id": 3, "note": None, "updated": 20}]
    assert duplicates(out) == 1


def test_lag_rereads_late_rows_once(pg_url: str, tmp_path: Path) -> None:
    execute(
        pg_url,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated_at TIMESTAMPTZ)",
        "INSERT INTO events VALUES (1, '2026-11-01 10:00:00Z'), (2, '2026-11-01 10:30:00Z'), "
        "(3, '2026-11-01 11:00:00Z')",
    )
    cursor = {"field": "updated_at", "primary_key": ["id"], "lag": 3600}
    runs = Runs(tmp_path, {"url": pg_url, "table": "events", "cursor": cursor})
    rows, manifest, _ = runs.extract()
    assert ids(rows) == [1, 2, 3]
    assert manifest["cursor"]["value"] == "2026-11-01 11:00:00+00:00"
    assert manifest["cursor"]["kind"] == "timestamp"
    assert manifest["cursor"]["keys_count"] == 3  # every row at or above 11:00 - 1 h
    runs.commit()

    execute(
        pg_url,
        "INSERT INTO events VALUES (4, '2026-11-01 10:15:00Z'), (5, '2026-11-01 09:00:00Z'), "
        "(6, '2026-11-01 11:00:00Z'), (7, '2026-11-01 12:00:00Z')",
    )
    rows, manifest, out = runs.extract()
    [started] = events(out, "extract_started")
    assert started["window"]["lower"] == "2026-11-01 10:00:00+00:00"
    assert ids(rows) == [4, 6, 7]  # 5 is later than the lag allows: not read
    assert duplicates(out) == 3
    assert manifest["cursor"]["keys_count"] == 3  # 3, 6, 7: at or above 12:00 - 1 h
    runs.commit()

    execute(pg_url, "INSERT INTO events VALUES (8, '2026-11-01 11:30:00Z')")
    rows, _, out = runs.extract()
    assert ids(rows) == [8]
    assert duplicates(out) == 3


def test_explicit_window_leaves_the_state_untouched(pg_url: str, tmp_path: Path) -> None:
    execute(
        pg_url,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated INTEGER)",
        "INSERT INTO events VALUES (1, 10), (2, 20), (3, 30), (4, 40)",
    )
    runs = Runs(tmp_path, {"url": pg_url, "table": "events", "cursor": {"field": "updated"}})
    runs.extract()
    runs.commit()
    before = runs.state.read_bytes()
    listing = sorted(p.name for p in runs.state.parent.iterdir())

    rows, manifest, out = runs.extract(window_start=10, window_end=30)
    assert ids(rows) == [1, 2]
    assert manifest["cursor"]["stateless"] is True
    assert manifest["cursor"]["window"] == {"start": 10, "end": 30}
    assert "keys" not in manifest["cursor"]
    assert events(out, "cursor_boundary_duplicates") == []
    committed = runs.commit()
    assert events(committed, "state_unchanged")[0]["reason"] == "explicit window"
    assert runs.state.read_bytes() == before
    assert sorted(p.name for p in runs.state.parent.iterdir()) == listing

    # the rendered template passes '' when no backfill window is given: incremental again
    execute(pg_url, "INSERT INTO events VALUES (5, 40)")
    rows, manifest, _ = runs.extract(window_start="", window_end="")
    assert ids(rows) == [5]
    assert "stateless" not in manifest["cursor"]


def test_window_from_workflow_parameters_text_on_a_numeric_column(
    pg_url: str, tmp_path: Path
) -> None:
    execute(
        pg_url,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated INTEGER)",
        "INSERT INTO events VALUES (1, 9), (2, 10), (3, 100)",
    )
    runs = Runs(tmp_path, {"url": pg_url, "table": "events", "cursor": {"field": "updated"}})
    rows, _, _ = runs.extract(window_start="9", window_end="100")
    assert ids(rows) == [1, 2]
    assert not runs.state.exists()


def test_null_cursors_are_skipped_and_counted(pg_url: str, tmp_path: Path) -> None:
    execute(
        pg_url,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated INTEGER)",
        "INSERT INTO events VALUES (1, 10), (2, NULL), (3, 30), (4, NULL)",
    )
    runs = Runs(tmp_path, {"url": pg_url, "table": "events", "cursor": {"field": "updated"}})
    rows, manifest, out = runs.extract()
    assert ids(rows) == [1, 3]
    assert events(out, "cursor_nulls_skipped")[0]["rows"] == 2
    assert manifest["cursor"]["nulls_skipped"] == 2
    runs.commit()
    execute(pg_url, "INSERT INTO events VALUES (5, NULL), (6, 40)")
    rows, manifest, out = runs.extract()
    assert ids(rows) == [6]
    assert events(out, "cursor_nulls_skipped")[0]["rows"] == 3
    assert manifest["cursor"]["nulls_skipped"] == 3


def test_a_large_boundary_goes_to_a_parquet_side_file(pg_url: str, tmp_path: Path) -> None:
    execute(
        pg_url,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, updated INTEGER)",
        "INSERT INTO events SELECT i, 7 FROM generate_series(1, 1500) AS i",
    )
    runs = Runs(tmp_path, {"url": pg_url, "table": "events", "cursor": KEYED})
    rows, manifest, _ = runs.extract()
    assert len(rows) == 1500
    assert manifest["cursor"]["keys_file"] == "cursor-keys.parquet"
    assert "keys" not in manifest["cursor"]
    runs.commit()
    state = runs.stored()
    assert state["keys_count"] == 1500 and "keys" not in state
    first_side = runs.state.parent / state["keys_file"]
    assert first_side.is_file()

    execute(pg_url, "INSERT INTO events VALUES (1501, 7)")
    rows, _, out = runs.extract()
    assert ids(rows) == [1501]
    assert duplicates(out) == 1500
    runs.commit()
    state = runs.stored()
    assert state["keys_count"] == 1501
    assert not first_side.exists()
    assert sorted(p.name for p in runs.state.parent.iterdir()) == [
        "events.json",
        state["keys_file"],
    ]


def in_process(
    tmp_path: Path, config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> StepRun:
    out = tmp_path / "artifacts" / "run-1" / "events"
    args = step_args("extract-sql", "events", tmp_path / "store", config, output=out)
    return run_in_process(args, capsys)


def test_primary_key_missing_from_declared_columns_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {
        "url": "postgresql://u@h/db",
        "table": "events",
        "columns": {"id": "int64", "updated": "int64"},
        "cursor": {"field": "updated", "primary_key": ["id", "tenant"]},
    }
    result = in_process(tmp_path, config, capsys)
    assert result.returncode == 2
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'events': invalid extract-sql config at (config): Value "
        "error, cursor primary_key column(s) 'tenant' not among the declared columns"
    )


def test_primary_key_missing_from_the_result_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'x.db'}"
    execute(
        url, "CREATE TABLE events (id INTEGER, updated INTEGER)", "INSERT INTO events VALUES (1, 1)"
    )
    state = tmp_path / "store" / "state" / "demo" / "events.json"
    state.parent.mkdir(parents=True)
    config = {"url": url, "table": "events", "cursor": {"field": "updated", "primary_key": ["key"]}}
    result = in_process(tmp_path, config, capsys)
    assert result.returncode == 2
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'events': cursor primary_key column(s) 'key' not in the "
        "result (columns: id, updated); fix cursor.primary_key"
    )


def test_lag_on_a_text_cursor_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'x.db'}"
    execute(
        url, "CREATE TABLE events (id INTEGER, code TEXT)", "INSERT INTO events VALUES (1, 'a')"
    )
    config = {"url": url, "table": "events", "cursor": {"field": "code", "lag": 5}}
    result = in_process(tmp_path, config, capsys)
    assert result.returncode == 2
    assert "cursor.lag needs a numeric, date or timestamp cursor" in last_error(result.stderr)


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ({"field": "u", "window_end": 5}, "window_end needs window_start"),
        ({"field": "u", "lag": -1}, "greater than or equal to 0"),
        ({"field": "u", "primary_key": ["a", "a"]}, "primary_key lists a column more than once"),
        ({"field": "u", "primary_key": []}, "at least 1 item"),
    ],
)
def test_cursor_config_errors(cursor: dict[str, Any], message: str) -> None:
    from pydantic import ValidationError

    from steps.extract.sql.config import SqlExtract

    with pytest.raises(ValidationError, match=message):
        SqlExtract(url="postgresql://u@h/db", table="t", cursor=cursor)
