"""Runs of the demo pipelines with traces and lineage sent to loopback receivers."""

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.ferry_cli import EXAMPLES, ferry
from tests.observability.receivers import (
    Received,
    ReceivedSpan,
    all_spans,
    lineage_consumer,
    otlp_collector,
)
from workflows.demo_data import generate

E2E_PIPELINES = str(Path(__file__).parent.parent / "e2e" / "pipelines")


@dataclass
class ObservedRun:
    """A finished ``ferry run`` and what the receivers got from it."""

    returncode: int
    record: dict[str, Any]
    stderr: str
    seconds: float
    spans: list[ReceivedSpan]
    events: list[dict[str, Any]]
    lineage_headers: list[dict[str, str]]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def observed_run(
    tmp: Path, pipeline: str, pipelines: str, env: dict[str, str], spans: Received, events: Received
) -> ObservedRun:
    data = tmp / "data"
    if not data.exists():
        generate(data, 2_000)
    params = ["-p", f"data_dir={data}"]
    if pipeline == "orders-daily":
        # the demo starts customer-quality after it; these tests observe one run
        params += ["-p", f"output_dir={tmp / 'out'}", "--no-triggers"]
    started = time.monotonic()
    result = ferry(
        "run",
        pipeline,
        "--pipelines",
        pipelines,
        *params,
        "--store",
        str(tmp / "store"),
        "--output",
        "json",
        cwd=tmp,
        env=env,
    )
    seconds = time.monotonic() - started
    return ObservedRun(
        returncode=result.returncode,
        record=json.loads(result.stdout),
        stderr=result.stderr,
        seconds=seconds,
        spans=all_spans(spans),
        events=list(events.bodies),
        lineage_headers=list(events.headers),
    )


@pytest.fixture(scope="package")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObservedRun]:
    """``orders-daily`` with an OTLP collector and an OpenLineage consumer on loopback."""
    tmp = tmp_path_factory.mktemp("observed")
    with otlp_collector() as (otlp, spans), lineage_consumer() as (lineage, events):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
            "OPENLINEAGE_URL": lineage,
            "OPENLINEAGE_API_KEY": "lineage-key-123",
            "OPENLINEAGE_NAMESPACE": "analytics",
        }
        yield observed_run(tmp, "orders-daily", EXAMPLES, env, spans, events)


@pytest.fixture(scope="package")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObservedRun]:
    """``strict-orders``, whose checks step rejects the data (exit 3), observed the same way."""
    tmp = tmp_path_factory.mktemp("observed-failure")
    with otlp_collector() as (otlp, spans), lineage_consumer() as (lineage, events):
        env = {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{otlp}/v1/traces",
            "OPENLINEAGE_URL": lineage,
        }
        yield observed_run(tmp, "strict-orders", E2E_PIPELINES, env, spans, events)
