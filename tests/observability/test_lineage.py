"""OpenLineage events of a run: START and COMPLETE or FAIL per step, as the spec defines them."""

import uuid
from typing import Any

import pytest

from steps.runtime.lineage import pipeline_run_uuid, run_uuid
from steps.runtime.lineage_datasets import Dataset, http_dataset, location_dataset, table_dataset
from tests.observability.conftest import ObservedRun
from tests.observability.openlineage_model import rebuild

DEMO_STEPS = ["customers", "daily-revenue", "orders", "orders-checked", "revenue-dataset"]


def _pruned(value: Any) -> Any:
    """``value`` without empty dicts and lists (the client serialises its empty defaults)."""
    if isinstance(value, dict):
        pruned = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _events(run: ObservedRun, step: str) -> list[dict[str, Any]]:
    return [e for e in run.events if e["job"]["name"].endswith(f".{step}")]


def test_every_event_is_a_valid_openlineage_run_event(demo_run: ObservedRun) -> None:
    assert demo_run.returncode == 0, demo_run.stderr
    assert len(demo_run.events) == 2 * len(DEMO_STEPS)
    for event in demo_run.events:
        assert _pruned(rebuild(event)) == event


def test_each_step_sends_start_then_complete_for_one_run(demo_run: ObservedRun) -> None:
    run_id = demo_run.record["run_id"]
    for step in DEMO_STEPS:
        start, complete = _events(demo_run, step)
        assert [start["eventType"], complete["eventType"]] == ["START", "COMPLETE"]
        assert start["job"] == complete["job"]
        assert start["job"]["namespace"] == "analytics"
        assert start["job"]["name"] == f"orders-daily.{step}"
        assert start["run"]["runId"] == complete["run"]["runId"] == run_uuid(run_id, step, 0)
        assert uuid.UUID(start["run"]["runId"]).version == 5
        parent = start["run"]["facets"]["parent"]
        assert parent["run"] == {"runId": pipeline_run_uuid(run_id)}
        assert parent["job"] == {"namespace": "analytics", "name": "orders-daily"}


def test_datasets_name_sources_artifacts_and_targets(demo_run: ObservedRun) -> None:
    run_id = demo_run.record["run_id"]
    tasks = {t["name"]: t for t in demo_run.record["tasks"]}
    store = demo_run.record["store"]
    artifact = {n: Dataset("file", f"{store}/artifacts/{run_id}/{n}") for n in DEMO_STEPS}

    def names(docs: list[dict[str, Any]]) -> list[Dataset]:
        return [Dataset(d["namespace"], d["name"]) for d in docs]

    _, orders = _events(demo_run, "orders")
    assert names(orders["inputs"]) == [Dataset("file", orders["inputs"][0]["name"])]
    assert orders["inputs"][0]["name"].endswith("/data/orders/*.csv")
    assert names(orders["outputs"]) == [artifact["orders"]]
    stats = orders["outputs"][0]["outputFacets"]["outputStatistics"]
    assert stats["rowCount"] == tasks["orders"]["rows_out"]
    columns = [f["name"] for f in orders["outputs"][0]["facets"]["schema"]["fields"]]
    assert columns[:3] == ["order_id", "customer_id", "order_ts"]

    start, complete = _events(demo_run, "daily-revenue")
    assert names(start["inputs"]) == [artifact["customers"], artifact["orders-checked"]]
    assert "facets" not in start["outputs"][0]  # the output's columns are known once committed
    assert names(complete["outputs"]) == [artifact["daily-revenue"]]

    _, load = _events(demo_run, "revenue-dataset")
    assert names(load["inputs"]) == [artifact["daily-revenue"]]
    (target,) = load["outputs"]
    assert target["namespace"] == "file" and target["name"].endswith("/out/daily_revenue")
    assert (
        target["outputFacets"]["outputStatistics"]["rowCount"]
        == tasks["revenue-dataset"]["rows_out"]
    )
    assert target["facets"]["schema"] == load["inputs"][0]["facets"]["schema"]


def test_the_api_key_is_a_bearer_token_and_in_no_event(demo_run: ObservedRun) -> None:
    assert {h["Authorization"] for h in demo_run.lineage_headers} == {"Bearer lineage-key-123"}
    assert all("lineage-key-123" not in str(e) for e in demo_run.events)


def test_a_failing_step_sends_fail_with_its_error(failed_run: ObservedRun) -> None:
    start, fail = _events(failed_run, "orders-checked")
    assert [start["eventType"], fail["eventType"]] == ["START", "FAIL"]
    assert start["run"]["runId"] == fail["run"]["runId"]
    error = fail["run"]["facets"]["errorMessage"]
    assert error["programmingLanguage"] == "python"
    assert error["message"].startswith("quality score 0.9940 is below threshold 0.9990")
    assert _pruned(rebuild(fail)) == fail
    assert [e["eventType"] for e in _events(failed_run, "orders")] == ["START", "COMPLETE"]
    assert _events(failed_run, "daily-revenue") == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://user:pw@api.example.test:8443/v1/orders?status=open&api_key=s3cr3t&token=t",
            Dataset("https://api.example.test:8443", "/v1/orders?status=open"),
        ),
        ("http://127.0.0.1:8080/orders", Dataset("http://127.0.0.1:8080", "/orders")),
        (
            "https://api.example.test/x?Signature=abc&X-Amz-Credential=c&page=2",
            Dataset("https://api.example.test", "/x?page=2"),
        ),
    ],
)
def test_http_datasets_carry_no_credentials(url: str, expected: Dataset) -> None:
    assert http_dataset(url) == expected


def test_table_and_location_datasets_follow_the_naming_spec() -> None:
    assert table_dataset("postgresql://etl@db.internal:5433/shop", "orders") == Dataset(
        "postgres://db.internal:5433", "shop.public.orders"
    )
    assert table_dataset("postgresql://db.internal/shop", "sales.orders") == Dataset(
        "postgres://db.internal:5432", "shop.sales.orders"
    )
    assert table_dataset("mysql://root@127.0.0.1:3306/test", "orders") == Dataset(
        "mysql://127.0.0.1:3306", "test.orders"
    )
    assert location_dataset("s3://lake/raw/orders/") == Dataset("s3://lake", "raw/orders")
    assert location_dataset("/data/orders.csv") == Dataset("file", "/data/orders.csv")
