"""Step caching in the harness: a hit adopts the entry, a TTL expires, a failure stores nothing."""

import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.store import open_location
from tests.conftest import run_step

ORDERS = pa.record_batch({"id": [1, 2, 3], "amount": [10, 20, 30]})


def make_input(store: str) -> str:
    uri = f"{store}/artifacts/r0/orders"
    writer = ArtifactWriter(open_location(uri), pipeline="p", step="orders", run_id="r0")
    writer.write(ORDERS)
    writer.commit()
    return uri


def transform(
    store: str, outputs: Path, run_id: str, sql: str, *cache: str, **env: str
) -> tuple[Any, str]:
    out = f"{store}/artifacts/{run_id}/big"
    result = run_step(
        "transform",
        *("--pipeline", "p", "--step", "big", "--run-id", run_id, "--store", store),
        *("--input", f"orders={store}/artifacts/r0/orders", "--output", out),
        *("--config", json.dumps({"sql": sql}), *cache),
        env={"FERRY_OUTPUTS_DIR": str(outputs), **env},
    )
    return result, out


def events(stdout: str) -> list[str]:
    return [json.loads(line)["event"] for line in stdout.splitlines() if line.startswith("{")]


SQL = "select * from orders where amount > 15 order by id"


def test_a_hit_adopts_the_entry_with_its_own_manifest_and_reports_the_source_run(
    tmp_path: Path,
) -> None:
    store = str(tmp_path / "store")
    make_input(store)
    first, _ = transform(store, tmp_path / "o1", "r1", SQL, "--cache")
    assert first.returncode == 0, first.stderr
    assert "step_cache_stored" in events(first.stdout)
    assert (tmp_path / "o1" / "cached").read_text() == ""
    second, out = transform(store, tmp_path / "o2", "r2", SQL, "--cache")
    assert second.returncode == 0, second.stderr
    assert "step_cached" in events(second.stdout)
    cached = json.loads((tmp_path / "o2" / "cached").read_text())
    assert cached["run_id"] == "r1" and len(cached["key"]) == 64
    assert (tmp_path / "o2" / "rows_out").read_text() == "2"
    reader = ArtifactReader(open_location(out), "big")
    assert reader.manifest["run_id"] == "r2"
    assert reader.manifest["cached_from"] == {"key": cached["key"], "run_id": "r1"}
    assert reader.dataset().to_table().column("id").to_pylist() == [2, 3]
    entry = tmp_path / "store" / "cache" / "p" / "big" / cached["key"] / "_manifest.json"
    assert json.loads(entry.read_text())["cache"]["run_id"] == "r1"


def test_a_ttl_expires(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    make_input(store)
    first, _ = transform(store, tmp_path / "o1", "r1", SQL, "--cache-ttl", "1")
    assert first.returncode == 0, first.stderr
    fresh, _ = transform(store, tmp_path / "o2", "r2", SQL, "--cache-ttl", "1")
    # the second run may start after the second has passed on a slow machine
    assert "step_cached" in events(fresh.stdout) or "step_cache_stored" in events(fresh.stdout)
    time.sleep(1.1)
    late, _ = transform(store, tmp_path / "o3", "r3", SQL, "--cache-ttl", "1")
    assert late.returncode == 0, late.stderr
    assert "step_cached" not in events(late.stdout)
    assert (tmp_path / "o3" / "cached").read_text() == ""


def test_no_cache_env_neither_looks_up_nor_stores(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    make_input(store)
    result, _ = transform(store, tmp_path / "o1", "r1", SQL, "--cache", FERRY_NO_CACHE="1")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "store" / "cache").exists()


def test_a_failed_step_writes_no_cache_entry(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    make_input(store)
    result, _ = transform(store, tmp_path / "o1", "r1", "select nope from orders", "--cache")
    assert result.returncode != 0
    assert "step_failed" in events(result.stdout)
    assert not (tmp_path / "store" / "cache").exists()


def test_a_changed_input_is_a_miss(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    make_input(store)
    assert transform(store, tmp_path / "o1", "r1", SQL, "--cache")[0].returncode == 0
    writer = ArtifactWriter(
        open_location(f"{store}/artifacts/r0/orders"), pipeline="p", step="orders", run_id="r0"
    )
    writer.write(pa.record_batch({"id": [1, 2, 3], "amount": [10, 20, 31]}))
    writer.commit()
    again, _ = transform(store, tmp_path / "o2", "r2", SQL, "--cache")
    assert again.returncode == 0, again.stderr
    assert "step_cached" not in events(again.stdout)


def test_a_cached_check_brings_its_report_along(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    make_input(store)
    config = json.dumps({"rules": [{"rule": "not_null", "column": "id"}]})

    def check(run_id: str) -> Path:
        out = f"{store}/artifacts/{run_id}/checked"
        result = run_step(
            "check",
            *("--pipeline", "p", "--step", "checked", "--run-id", run_id, "--store", store),
            *("--input", f"orders={store}/artifacts/r0/orders", "--output", out),
            *("--config", config, "--cache"),
            env={"FERRY_OUTPUTS_DIR": str(tmp_path / run_id)},
        )
        assert result.returncode == 0, result.stderr
        return Path(out)

    first, second = check("r1"), check("r2")
    assert (tmp_path / "r2" / "cached").read_text() != ""
    assert (second / "report.json").read_bytes() == (first / "report.json").read_bytes()
