"""``ferry backfill --submit`` against a loopback HTTP server posing as the Kubernetes API.

The server keeps the Workflows it was sent, reports each as Running for a few reads and
then final (Failed for the day listed in ``fail_days``), and counts how many were
unfinished at once, so the ``--parallel`` bound is checked, not assumed.
"""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.e2e.ferry_cli import ferry
from tests.e2e.test_backfill import DAILY, project

API = "/apis/argoproj.io/v1alpha1/namespaces/etl"
PARAMETERS = ["store", "run_date", "interval_start", "interval_end", "data_dir", "output_dir"]
TEMPLATE = {
    "kind": "WorkflowTemplate",
    "metadata": {"name": "daily-copy", "namespace": "etl"},
    "spec": {"arguments": {"parameters": [{"name": n} for n in PARAMETERS]}},
}


@dataclass
class Cluster:
    fail_days: set[str] = field(default_factory=set)
    earlier: list[dict[str, Any]] = field(default_factory=list)
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    final: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    most_unfinished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def phase(self, name: str) -> str:
        """Running for 3 reads, and until a second Workflow exists (bounded by 500 reads)."""
        self.reads[name] = self.reads.get(name, 0) + 1
        if self.reads[name] < 3 or (len(self.created) < 2 and self.reads[name] < 500):
            return "Running"
        params = {
            p["name"]: p["value"] for p in self.created[name]["spec"]["arguments"]["parameters"]
        }
        self.final[name] = "Failed" if params["run_date"] in self.fail_days else "Succeeded"
        return self.final[name]

    def unfinished(self) -> int:
        finished = ("Succeeded", "Failed")
        return sum(1 for n in self.created if self.final.get(n) not in finished)


def handler(cluster: Cluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            with cluster.lock:
                cluster.requests.append(("GET", self.path))
                if url.path == f"{API}/workflowtemplates/daily-copy":
                    return self.reply(200, TEMPLATE)
                if url.path == f"{API}/workflows":
                    selector = parse_qs(url.query).get("labelSelector", [""])[0]
                    assert selector == "workflows.argoproj.io/workflow-template=daily-copy"
                    return self.reply(200, {"items": cluster.earlier})
                name = url.path.rpartition("/")[2]
                if name in cluster.created:
                    status = {"phase": cluster.phase(name)}
                    return self.reply(200, {**cluster.created[name], "status": status})
            self.reply(404, {"kind": "Status", "message": "not found", "code": 404})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with cluster.lock:
                cluster.requests.append(("POST", self.path))
                name = f"{body['metadata']['generateName']}{len(cluster.created):05d}"
                body["metadata"]["name"] = name
                cluster.created[name] = body
                cluster.most_unfinished = max(cluster.most_unfinished, cluster.unfinished())
            self.reply(201, body)

    return Handler


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Cluster, Path]]:
    state = Cluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "etl"}}
                ],
                "current-context": "c",
            }
        )
    )
    try:
        yield state, kubeconfig
    finally:
        server.shutdown()
        server.server_close()


def submit(tmp_path: Path, kubeconfig: Path, *args: str) -> tuple[int, Any, str]:
    folder = project(tmp_path, DAILY, "daily")
    result = ferry(
        "backfill", "daily-copy", "--pipelines", str(folder), "--from", "2026-11-01",
        "--to", "2026-11-03", "--submit", "--kubeconfig", str(kubeconfig),
        "--poll-interval", "0.01", *args, cwd=tmp_path,
    )  # fmt: skip
    out = result.stdout
    parsed = json.loads(out) if "--output" in args and out.strip() else out
    return result.returncode, parsed, result.stderr


def parameters(workflow: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}


def test_one_workflow_per_interval_at_most_parallel_unfinished(
    tmp_path: Path, cluster: tuple[Cluster, Path]
) -> None:
    state, kubeconfig = cluster
    state.fail_days = {"2026-11-02"}
    code, rows, err = submit(
        tmp_path, kubeconfig, "--parallel", "2", "-p", "data_dir=s3://in", "--output", "json"
    )

    assert code == 1, err
    assert [(r["run_date"], r["status"]) for r in rows] == [
        ("2026-11-01", "Succeeded"), ("2026-11-02", "Failed"), ("2026-11-03", "Succeeded"),
    ]  # fmt: skip
    assert sorted(r["run_id"] for r in rows) == sorted(state.created)
    assert state.most_unfinished == 2
    sent = sorted((parameters(w) for w in state.created.values()), key=lambda p: p["run_date"])
    assert sent[0] == {
        "data_dir": "s3://in",
        "interval_end": "2026-11-01T02:00:00+01:00",
        "interval_start": "2026-10-31T02:00:00+01:00",
        "run_date": "2026-11-01",
    }
    workflow = next(iter(state.created.values()))
    assert workflow["spec"]["workflowTemplateRef"] == {"name": "daily-copy"}
    assert workflow["metadata"]["labels"] == {
        "workflows.argoproj.io/workflow-template": "daily-copy"
    }
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            "ferry: 1 of 3 interval runs of daily-copy did not succeed: 2026-11-02 (Failed)"
        )
    )


def test_reprocess_reads_the_earlier_workflows_on_the_cluster(
    tmp_path: Path, cluster: tuple[Cluster, Path]
) -> None:
    state, kubeconfig = cluster

    def earlier(name: str, day: str, start: str, end: str, phase: str) -> dict[str, Any]:
        params = {"run_date": day, "interval_start": start, "interval_end": end}
        return {
            "metadata": {"name": name, "creationTimestamp": "2026-11-20T10:00:00Z"},
            "spec": {
                "arguments": {"parameters": [{"name": k, "value": v} for k, v in params.items()]}
            },
            "status": {"phase": phase},
        }

    nov_1, nov_2 = "2026-11-01T02:00:00+01:00", "2026-11-02T02:00:00+01:00"
    state.earlier = [
        earlier("d1", "2026-11-01", "2026-10-31T02:00:00+01:00", nov_1, "Succeeded"),
        earlier("d2", "2026-11-02", nov_1, nov_2, "Failed"),
    ]

    code, rows, err = submit(tmp_path, kubeconfig, "--reprocess", "failed", "--output", "json")

    assert code == 0, err
    assert [(r["action"], r["status"], r["earlier_run_id"]) for r in rows] == [
        ("skip", "Skipped", "d1"), ("run", "Succeeded", "d2"), ("run", "Succeeded", None),
    ]  # fmt: skip
    assert sorted(parameters(w)["run_date"] for w in state.created.values()) == [
        "2026-11-02", "2026-11-03",
    ]  # fmt: skip


def test_dry_run_prints_the_workflows_and_sends_nothing(
    tmp_path: Path, cluster: tuple[Cluster, Path]
) -> None:
    state, kubeconfig = cluster
    code, out, err = submit(tmp_path, kubeconfig, "--dry-run", "--reprocess", "all")

    assert code == 0, err
    documents = list(yaml.safe_load_all(out))
    assert [parameters(d)["run_date"] for d in documents] == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-03",
    ]
    assert {d["metadata"]["namespace"] for d in documents} == {"etl"}
    assert state.requests == []


def test_a_parameter_the_installed_template_lacks_is_refused(
    tmp_path: Path, cluster: tuple[Cluster, Path]
) -> None:
    state, kubeconfig = cluster
    code, _, err = submit(tmp_path, kubeconfig, "-p", "colour=red")

    assert code == 2
    assert err.strip() == (
        "ferry: -p colour: WorkflowTemplate 'daily-copy' in namespace 'etl' has no parameter "
        f"'colour'; it has: {', '.join(PARAMETERS)}"
    )
    assert not state.created
