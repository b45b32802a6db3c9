"""commit-state: the high-water mark moves to what the source's manifest says, atomically.

The step runs in this process through the same harness; the subprocess path is
covered by the SQL source and fault tests.
"""

import json
from pathlib import Path

import pyarrow as pa
import pytest

from tests.targets.sqlhelp import (
    StepRun,
    events,
    last_error,
    run_in_process,
    step_args,
    write_artifact,
)


@pytest.fixture(autouse=True)
def outputs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRY_OUTPUTS_DIR", str(tmp_path / "outputs"))


def commit(
    tmp_path: Path, sources: list[str], inputs: list[str], capsys: pytest.CaptureFixture[str]
) -> StepRun:
    args = step_args(
        "commit-state",
        "commit-state",
        tmp_path / "store",
        {"sources": sources},
        run_id="run-7",
        inputs=inputs,
    )
    return run_in_process(args, capsys)


def test_writes_each_source_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_artifact(
        tmp_path / "a",
        pa.table({"x": [1]}),
        step="orders",
        cursor={"field": "updated_at", "value": "2024-05-01 10:00:00"},
    )
    b = write_artifact(
        tmp_path / "b", pa.table({"x": [1]}), step="users", cursor={"field": "id", "value": 42}
    )
    result = commit(tmp_path, ["orders", "users"], [f"orders={a}", f"users={b}"], capsys)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "store" / "state" / "demo"
    orders = json.loads((folder / "orders.json").read_text())
    assert {k: orders[k] for k in ("source", "field", "value", "run_id")} == {
        "source": "orders",
        "field": "updated_at",
        "value": "2024-05-01 10:00:00",
        "run_id": "run-7",
    }
    assert json.loads((folder / "users.json").read_text())["value"] == 42
    assert sorted(p.name for p in folder.iterdir()) == ["orders.json", "users.json"]
    assert [(tmp_path / "outputs" / n).read_text() for n in ("rows_in", "rows_out")] == ["0", "0"]


def test_no_value_yet_leaves_no_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_artifact(
        tmp_path / "a",
        pa.table({"x": pa.array([], pa.int64())}),
        cursor={"field": "id", "value": None},
    )
    result = commit(tmp_path, ["orders"], [f"orders={a}"], capsys)
    assert result.returncode == 0, result.stderr
    assert events(result.stdout, "state_unchanged")[0]["source"] == "orders"
    assert not (tmp_path / "store" / "state").exists()


def test_source_without_cursor_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_artifact(tmp_path / "a", pa.table({"x": [1]}))
    result = commit(tmp_path, ["orders"], [f"orders={a}"], capsys)
    assert result.returncode == 1
    assert last_error(result.stderr) == (
        f"ferry: pipeline 'demo', step 'commit-state': input 'orders' at {a} carries no cursor in "
        "its manifest; only incremental sources (with a cursor) belong in commit-state sources"
    )


def test_source_not_passed_as_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = commit(tmp_path, ["orders"], [], capsys)
    assert result.returncode == 2
    assert last_error(result.stderr) == (
        "ferry: pipeline 'demo', step 'commit-state': step 'commit-state' has no input 'orders' "
        "(inputs: none)"
    )


def test_mark_and_boundary_digests_are_stored_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ["00" * 16, "ff" * 16]
    cursor = {"field": "id", "value": 9, "kind": "int", "digest_columns": ["id"], "keys": keys,
              "keys_count": 2, "boundary_duplicates": 0}  # fmt: skip
    a = write_artifact(tmp_path / "a", pa.table({"id": [9]}), cursor=cursor)
    result = commit(tmp_path, ["orders"], [f"orders={a}"], capsys)
    assert result.returncode == 0, result.stderr
    assert events(result.stdout, "state_committed")[0]["keys"] == 2
    state = json.loads((tmp_path / "store" / "state" / "demo" / "orders.json").read_text())
    assert {k: state[k] for k in ("format", "value", "kind", "digest_columns", "keys")} == {
        "format": "ferry-cursor/2",
        "value": 9,
        "kind": "int",
        "digest_columns": ["id"],
        "keys": keys,
    }


def test_explicit_window_leaves_the_state_byte_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_artifact(tmp_path / "a", pa.table({"x": [1]}), cursor={"field": "id", "value": 3})
    assert commit(tmp_path, ["orders"], [f"orders={first}"], capsys).returncode == 0
    path = tmp_path / "store" / "state" / "demo" / "orders.json"
    before = path.read_bytes()
    window = {"field": "id", "value": 99, "stateless": True, "window": {"start": 50, "end": 100}}
    backfill = write_artifact(tmp_path / "b", pa.table({"x": [1]}), cursor=window)
    result = commit(tmp_path, ["orders"], [f"orders={backfill}"], capsys)
    assert result.returncode == 0, result.stderr
    [unchanged] = events(result.stdout, "state_unchanged")
    assert unchanged["reason"] == "explicit window"
    assert path.read_bytes() == before


def test_unreadable_state_names_the_file(tmp_path: Path) -> None:
    from steps.incremental.state import read_state
    from steps.runtime.errors import StepError
    from steps.runtime.store import open_location

    path = tmp_path / "orders.json"
    path.write_text('{"source": "orders", "field": "id", "value": [1]}')
    with pytest.raises(StepError, match=r"is unreadable \(value \[1\] is not a number or text\)"):
        read_state(open_location(str(path)), "orders", "id")


@pytest.mark.parametrize("count", [3, 1500])
def test_state_round_trips_inline_and_side_file_on_s3(s3_bucket: str, count: int) -> None:
    from steps.incremental.state import KeySet, read_state, write_state
    from steps.runtime.store import exists, open_location

    loc = open_location(f"{s3_bucket}/shop/state/demo/orders.json")
    digests = [i.to_bytes(16, "big") for i in range(count)]
    keys = KeySet(columns=["id", "updated"], digests=digests)
    first = write_state(loc, "orders", "updated", 7, "r1", kind="int", keys=keys)
    again = write_state(loc, "orders", "updated", 8, "r2", kind="int", keys=keys)
    state = read_state(loc, "orders", "updated")
    assert state is not None
    assert (state.value, state.kind, state.keys.digests) == (8, "int", digests)
    assert (first.keys_file is None) == (count <= 1000)
    if first.keys_file is not None:
        folder = open_location(f"{s3_bucket}/shop/state/demo")
        assert again.keys_file is not None and exists(folder.child(again.keys_file))
        assert not exists(folder.child(first.keys_file))
