"""The ``orders-api`` example end to end through ``ferry run``: incremental and exactly once.

Real services only: the demo API in-process on a free port, a PostgreSQL database of
the test's own seeded with ``orders_api_customers.sql``, ``ferry run`` as a
subprocess. Expected rows come from the demo API's generator and the seeded
customers table, joined here in plain Python, never from Ferry's own output.
"""

import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
import yaml

from steps.incremental.state import write_state
from steps.runtime.store import open_location
from tests.conftest import service_unavailable
from tests.e2e.ferry_cli import ferry as run_ferry
from workflows.demo_api import make_server, serve_in_thread
from workflows.render import render_pipeline

pytestmark = pytest.mark.slow

PIPELINE = "orders-api"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
CUSTOMERS_SQL = Path(__file__).resolve().parents[2] / "workflows/pipelines/orders_api_customers.sql"
TOKEN = "e2e-demo-token"
SEED = 7
FIRST_ORDERS = 1_000
MORE_ORDERS = 1_250
COLUMNS = (
    "order_id",
    "customer_id",
    "customer_name",
    "customer_country",
    "status",
    "amount",
    "currency",
    "updated_at",
    "order_date",
)

Row = tuple[Any, ...]


def ferry(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``ferry ARGS`` with the demo API token and the (empty) PostgreSQL password set."""
    env = {"FERRY_DEMO_API_TOKEN": TOKEN, "FERRY_PG_PASSWORD": ""}
    return run_ferry(*args, cwd=cwd, env=env, timeout=120)


@contextmanager
def demo_api(orders: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The demo API serving ``orders`` orders: its ``host:port`` and the orders it serves."""
    server = make_server(port=0, orders=orders, seed=SEED, token=TOKEN)
    serve_in_thread(server)
    try:
        yield server.base_url.removeprefix("http://"), server.orders
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database seeded with the example's customers; dropped afterwards."""
    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        service_unavailable("PostgreSQL on 127.0.0.1:5432")
    name = f"ferry_e2e_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            with psycopg.connect(database_url(name), autocommit=True) as conn:
                conn.execute(CUSTOMERS_SQL.read_text(encoding="utf-8"))
            yield name
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def database_url(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def sql(database: str, statement: str) -> list[Row]:
    import psycopg

    with psycopg.connect(database_url(database), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def expected_rows(orders: list[dict[str, Any]], database: str) -> list[Row]:
    """The enriched rows of ``orders``: a left join with the seeded customers, by order_id."""
    customers = {c: (n, k) for c, n, k in sql(database, "select * from customers")}
    rows = []
    for order in orders:
        name, country = customers.get(order["customer_id"], (None, None))
        updated_at = datetime.fromisoformat(order["updated_at"])
        rows.append(
            (
                order["order_id"],
                order["customer_id"],
                name,
                country,
                order["status"],
                Decimal(str(order["amount"])),
                order["currency"],
                updated_at,
                updated_at.date(),
            )
        )
    return sorted(rows)


def table_rows(database: str) -> list[Row]:
    return sql(database, f"select {', '.join(COLUMNS)} from orders_enriched order by order_id")


def dataset_rows(output_dir: Path) -> list[Row]:
    table = ds.dataset(output_dir / "orders_enriched", format="parquet", partitioning="hive")
    rows = [
        (*(r[c] for c in COLUMNS[:-1]), date.fromisoformat(str(r["order_date"])))
        for r in table.to_table().to_pylist()
    ]
    return sorted(rows)


def state_file(store: Path) -> Path:
    return store / "state" / PIPELINE / "orders.json"


def parameters(address: str, database: str, output_dir: Path) -> list[str]:
    return [
        "-p",
        f"api_address={address}",
        "-p",
        f"pg_database={database}",
        "-p",
        f"output_dir={output_dir}",
    ]


def run_pipeline(address: str, database: str, output_dir: Path, store: Path) -> dict[str, Any]:
    result = ferry(
        "run",
        PIPELINE,
        "--pipelines",
        "workflows.pipelines",
        *parameters(address, database, output_dir),
        "--store",
        str(store),
        "--output",
        "json",
        cwd=store.parent,
    )
    assert result.returncode == 0, result.stderr
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def run_failing(
    manifest: Path, address: str, database: str, output_dir: Path, store: Path
) -> dict[str, Any]:
    """A run of ``manifest`` that must fail (exit 1); both targets start together."""
    result = ferry(
        "run",
        "--manifest",
        str(manifest),
        *parameters(address, database, output_dir),
        "--store",
        str(store),
        "--parallelism",
        "4",
        "--output",
        "json",
        cwd=store.parent,
    )
    assert result.returncode == 1, result.stderr
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def tasks(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in record["tasks"]}


@dataclass(frozen=True)
class Snapshot:
    """What one run left behind: its record, both targets' rows and the state file."""

    record: dict[str, Any]
    table: list[Row]
    dataset: list[Row]
    state: dict[str, Any]
    expected: list[Row]


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, Snapshot, Snapshot]:
    """Runs over FIRST_ORDERS orders, then MORE_ORDERS, then MORE_ORDERS again (nothing new)."""
    root = tmp_path_factory.mktemp("orders-api")
    store, output_dir = root / "store", root / "out"
    snapshots = []
    with fresh_database() as database:
        for count in (FIRST_ORDERS, MORE_ORDERS, MORE_ORDERS):
            with demo_api(count) as (address, orders):
                record = run_pipeline(address, database, output_dir, store)
            snapshots.append(
                Snapshot(
                    record=record,
                    table=table_rows(database),
                    dataset=dataset_rows(output_dir),
                    state=json.loads(state_file(store).read_text(encoding="utf-8")),
                    expected=expected_rows(orders, database),
                )
            )
    return snapshots[0], snapshots[1], snapshots[2]


def test_first_run_loads_exactly_the_api_orders(
    three_runs: tuple[Snapshot, Snapshot, Snapshot],
) -> None:
    first, _, _ = three_runs
    assert first.record["status"] == "Succeeded"
    steps = tasks(first.record)
    assert [t["status"] for t in steps.values()] == ["Succeeded"] * 7
    assert steps["orders"]["rows_in"] == FIRST_ORDERS
    assert steps["orders-checked"]["rows_rejected"] == 0
    assert first.table == first.expected
    assert first.dataset == first.expected
    unknown = [r for r in first.expected if r[1] > 48]
    assert unknown and all(r[2] is None and r[3] is None for r in unknown)
    assert first.state["value"] == max(r[7] for r in first.expected).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first.state["run_id"] == first.record["run_id"]


def test_second_run_fetches_only_the_new_orders(
    three_runs: tuple[Snapshot, Snapshot, Snapshot],
) -> None:
    _, second, _ = three_runs
    assert second.record["status"] == "Succeeded"
    steps = tasks(second.record)
    assert steps["orders"]["rows_in"] == MORE_ORDERS - FIRST_ORDERS
    assert steps["orders-table"]["rows_in"] == MORE_ORDERS - FIRST_ORDERS
    assert second.table == second.expected
    assert second.dataset == second.expected
    assert len({r[0] for r in second.dataset}) == MORE_ORDERS
    assert second.state["value"] == max(r[7] for r in second.expected).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert second.state["run_id"] == second.record["run_id"]


def test_a_run_with_nothing_new_loads_nothing_and_keeps_the_mark(
    three_runs: tuple[Snapshot, Snapshot, Snapshot],
) -> None:
    _, second, third = three_runs
    assert third.record["status"] == "Succeeded"
    steps = tasks(third.record)
    assert steps["orders"]["rows_in"] == 0
    assert steps["orders-table"]["rows_in"] == 0
    assert steps["orders-dataset"]["rows_in"] == 0
    assert third.table == second.table
    assert third.dataset == second.dataset
    assert third.state["value"] == second.state["value"]


def manifest_without_retries(folder: Path) -> Path:
    """The pipeline's rendered Workflow with retries off: a permanent fault only waits longer."""
    from workflows.discovery import EXAMPLES, get_pipeline

    workflow = render_pipeline(get_pipeline(PIPELINE, [EXAMPLES])).workflow
    for template in workflow["spec"]["templates"]:
        if "retryStrategy" in template:
            template["retryStrategy"]["limit"] = 0
    path = folder / "workflow.yaml"
    path.write_text(yaml.safe_dump(workflow), encoding="utf-8")
    return path


def test_a_failed_target_keeps_the_mark_and_the_rerun_delivers_each_order_once(
    tmp_path: Path,
) -> None:
    store, output_dir = tmp_path / "store", tmp_path / "out"
    manifest = manifest_without_retries(tmp_path)
    committed = 600
    with fresh_database() as database, demo_api(FIRST_ORDERS) as (address, orders):
        mark = orders[committed - 1]["updated_at"]
        write_state(
            open_location(str(state_file(store))), "orders", "updated_at", mark, "orders-api-past"
        )
        before = state_file(store).read_bytes()
        # the hand-written state has the mark but no boundary digests, so the order at
        # the mark (inclusive bound) comes once more: at-least-once, loads are upserts
        window = FIRST_ORDERS - committed + 1
        expected = expected_rows(orders[committed - 1 :], database)

        sql(database, "create view orders_enriched as select 1 as blocked")
        failed_table = run_failing(manifest, address, database, output_dir, store)
        steps = tasks(failed_table)
        assert steps["orders"]["rows_in"] == window
        assert steps["orders-table"]["status"] == "Failed"
        assert (
            "table 'orders_enriched' has no column(s) order_id" in steps["orders-table"]["reason"]
        )
        assert steps["orders-dataset"]["status"] == "Succeeded"
        assert steps["commit-state"]["status"] == "Omitted"
        assert state_file(store).read_bytes() == before
        assert dataset_rows(output_dir) == expected

        sql(database, "drop view orders_enriched")
        blocked_dir = tmp_path / "not-a-folder"
        blocked_dir.write_text("a file where the dataset folder should be", encoding="utf-8")
        failed_dataset = run_failing(manifest, address, database, blocked_dir, store)
        steps = tasks(failed_dataset)
        assert steps["orders"]["rows_in"] == window
        assert steps["orders-table"]["status"] == "Succeeded"
        assert steps["orders-dataset"]["status"] == "Failed"
        assert str(blocked_dir) in steps["orders-dataset"]["reason"]
        assert steps["commit-state"]["status"] == "Omitted"
        assert state_file(store).read_bytes() == before
        assert table_rows(database) == expected

        fixed = run_pipeline(address, database, output_dir, store)
        steps = tasks(fixed)
        assert steps["orders"]["rows_in"] == window
        assert steps["commit-state"]["status"] == "Succeeded"
        assert table_rows(database) == expected
        assert dataset_rows(output_dir) == expected
        state = json.loads(state_file(store).read_text(encoding="utf-8"))
        assert state["value"] == orders[-1]["updated_at"]
        assert state["run_id"] == fixed["run_id"]
