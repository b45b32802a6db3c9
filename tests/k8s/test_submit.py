"""``ferry submit`` against a loopback HTTP server posing as the Kubernetes API."""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

API = "/apis/argoproj.io/v1alpha1/namespaces"
TEMPLATE = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "WorkflowTemplate",
    "metadata": {"name": "orders-daily", "namespace": "etl"},
    "spec": {"arguments": {"parameters": [{"name": "store"}, {"name": "run_date"}]}},
}


@dataclass
class FakeKubernetes:
    """Answers the few API calls ferry submit makes and records every request."""

    phases: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, Any, str]] = field(default_factory=list)
    created: dict[str, Any] = field(default_factory=dict)


def _handler(state: FakeKubernetes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            state.requests.append(
                (self.command, self.path, body, self.headers.get("Authorization", ""))
            )
            return body

        def do_GET(self) -> None:
            self._record()
            if self.path == f"{API}/etl/workflowtemplates/orders-daily":
                self._reply(200, TEMPLATE)
            elif self.path == f"{API}/etl/workflows/orders-daily-x7k2p" and state.created:
                phase = state.phases.pop(0) if state.phases else "Running"
                status = {"phase": phase}
                if phase == "Failed":
                    status["message"] = "child 'orders' failed"
                self._reply(200, {**state.created, "status": status})
            else:
                self._reply(
                    404,
                    {
                        "kind": "Status",
                        "status": "Failure",
                        "reason": "NotFound",
                        "message": "not found",
                        "code": 404,
                    },
                )

        def do_POST(self) -> None:
            body = self._record()
            if self.path != f"{API}/etl/workflows":
                self._reply(404, {"kind": "Status", "message": "not found", "code": 404})
                return
            stored = json.loads(json.dumps(body))
            stored["metadata"]["name"] = body["metadata"]["generateName"] + "x7k2p"
            state.created = stored
            self._reply(201, stored)

    return Handler


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[tuple[FakeKubernetes, Path]]:
    state = FakeKubernetes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "loop",
                        "cluster": {"server": f"http://127.0.0.1:{server.server_port}"},
                    }
                ],
                "users": [{"name": "ci", "user": {"token": "ci-token"}}],
                "contexts": [
                    {
                        "name": "loop",
                        "context": {"cluster": "loop", "user": "ci", "namespace": "etl"},
                    },
                    {
                        "name": "other",
                        "context": {"cluster": "loop", "user": "ci", "namespace": "elsewhere"},
                    },
                ],
                "current-context": "other",
            }
        )
    )
    try:
        yield state, kubeconfig
    finally:
        server.shutdown()
        server.server_close()


def ferry(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "ferry"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **(env or {})},
    )


def test_submit_posts_the_workflow_argo_submit_from_would_create(
    kube: tuple[FakeKubernetes, Path],
) -> None:
    state, kubeconfig = kube
    result = ferry(
        "submit",
        "orders-daily",
        "-p",
        "run_date=2026-11-01",
        "-p",
        "store=s3://b/x",
        "--kubeconfig",
        str(kubeconfig),
        "--context",
        "loop",
        env={"FERRY_ARGO_UI_URL": "https://argo.example.com/"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "submitted workflow orders-daily-x7k2p in namespace etl",
        "argo ui: https://argo.example.com/workflows/etl/orders-daily-x7k2p",
    ]
    (get, post) = state.requests
    assert get[:2] == ("GET", f"{API}/etl/workflowtemplates/orders-daily")
    assert post[0:2] == ("POST", f"{API}/etl/workflows")
    assert post[3] == "Bearer ci-token"
    assert post[2] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": "orders-daily-",
            "namespace": "etl",
            "labels": {"workflows.argoproj.io/workflow-template": "orders-daily"},
        },
        "spec": {
            "workflowTemplateRef": {"name": "orders-daily"},
            "arguments": {
                "parameters": [
                    {"name": "run_date", "value": "2026-11-01"},
                    {"name": "store", "value": "s3://b/x"},
                ]
            },
        },
    }


def test_wait_follows_phases_and_exits_0_on_success(kube: tuple[FakeKubernetes, Path]) -> None:
    state, kubeconfig = kube
    state.phases = ["Pending", "Running", "Running", "Succeeded"]
    result = ferry(
        "submit",
        "orders-daily",
        "-n",
        "etl",
        "--wait",
        "--poll-interval",
        "0.01",
        "--kubeconfig",
        str(kubeconfig),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "orders-daily-x7k2p: Pending",
        "orders-daily-x7k2p: Running",
        "orders-daily-x7k2p: Succeeded",
    ]
    gets = [r for r in state.requests if r[1] == f"{API}/etl/workflows/orders-daily-x7k2p"]
    assert len(gets) == 4


def test_wait_exits_1_with_argo_message_on_failure(kube: tuple[FakeKubernetes, Path]) -> None:
    state, kubeconfig = kube
    state.phases = ["Running", "Failed"]
    result = ferry(
        "submit",
        "orders-daily",
        "-n",
        "etl",
        "--wait",
        "--poll-interval",
        "0.01",
        "--kubeconfig",
        str(kubeconfig),
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ferry: workflow 'orders-daily-x7k2p' in namespace 'etl' ended Failed: "
        "child 'orders' failed; "
        "see `argo get -n etl orders-daily-x7k2p` and `argo logs -n etl orders-daily-x7k2p`"
    )


def test_wait_timeout_exits_1(kube: tuple[FakeKubernetes, Path]) -> None:
    _, kubeconfig = kube
    result = ferry(
        "submit",
        "orders-daily",
        "-n",
        "etl",
        "--wait",
        "--poll-interval",
        "0.05",
        "--timeout",
        "1",
        "--kubeconfig",
        str(kubeconfig),
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ferry: workflow 'orders-daily-x7k2p' in namespace 'etl' is still Running after 1s; "
        "follow it with `argo watch -n etl orders-daily-x7k2p`"
    )


def test_unknown_template_exits_2_and_creates_nothing(kube: tuple[FakeKubernetes, Path]) -> None:
    state, kubeconfig = kube
    result = ferry("submit", "orders-dayly", "-n", "etl", "--kubeconfig", str(kubeconfig))
    assert result.returncode == 2
    port = kubeconfig.read_text().split("127.0.0.1:")[1].split()[0]
    assert result.stderr.strip() == (
        "ferry: WorkflowTemplate 'orders-dayly' not found in namespace 'etl' at "
        f"http://127.0.0.1:{port}; "
        "install it with the Helm chart or pass --namespace"
    )
    assert [r[0] for r in state.requests] == ["GET"]


def test_unknown_parameter_exits_2_and_creates_nothing(kube: tuple[FakeKubernetes, Path]) -> None:
    state, kubeconfig = kube
    result = ferry(
        "submit", "orders-daily", "-n", "etl", "-p", "rundate=x", "--kubeconfig", str(kubeconfig)
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ferry: -p rundate: WorkflowTemplate 'orders-daily' in namespace 'etl' has no parameter "
        "'rundate'; it has: store, run_date"
    )
    assert [r[0] for r in state.requests] == ["GET"]


def test_dry_run_prints_yaml_without_contacting_the_api(kube: tuple[FakeKubernetes, Path]) -> None:
    state, kubeconfig = kube
    result = ferry(
        "submit",
        "orders-daily",
        "-p",
        "run_date=2026-11-01",
        "--dry-run",
        "--kubeconfig",
        str(kubeconfig),
    )
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout) == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": "orders-daily-",
            "namespace": "elsewhere",
            "labels": {"workflows.argoproj.io/workflow-template": "orders-daily"},
        },
        "spec": {
            "workflowTemplateRef": {"name": "orders-daily"},
            "arguments": {"parameters": [{"name": "run_date", "value": "2026-11-01"}]},
        },
    }
    assert state.requests == []


def test_dry_run_without_kubeconfig_uses_default_namespace(tmp_path: Path) -> None:
    result = ferry(
        "submit", "customer-quality", "--dry-run", "--kubeconfig", str(tmp_path / "absent")
    )
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["metadata"]["namespace"] == "default"
    assert "arguments" not in yaml.safe_load(result.stdout)["spec"]


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("run_date", "ferry: -p 'run_date' is not NAME=VALUE; write e.g. -p run_date=2026-11-01"),
        ("=x", "ferry: -p '=x' is not NAME=VALUE; write e.g. -p run_date=2026-11-01"),
    ],
)
def test_bad_parameter_exits_2(param: str, message: str) -> None:
    result = ferry("submit", "orders-daily", "--dry-run", "-p", param)
    assert result.returncode == 2
    assert result.stderr.strip() == message


def test_repeated_parameter_exits_2() -> None:
    result = ferry("submit", "orders-daily", "--dry-run", "-p", "a=1", "-p", "a=2")
    assert result.returncode == 2
    assert result.stderr.strip() == "ferry: -p a is given twice; give each parameter once"


def test_missing_kubeconfig_exits_2(tmp_path: Path) -> None:
    result = ferry("submit", "orders-daily", "--kubeconfig", str(tmp_path / "absent"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"ferry: cannot use kubeconfig {tmp_path / 'absent'}: ")
    assert result.stderr.strip().endswith("; pass --kubeconfig/--context")


def test_unreachable_api_exits_1(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    result = ferry("submit", "orders-daily", "--kubeconfig", str(kubeconfig))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"ferry: cannot reach the Kubernetes API at http://127.0.0.1:{port} (MaxRetryError); "
        "check the cluster and --context/--kubeconfig"
    )


def test_help_has_an_example() -> None:
    result = ferry("submit", "--help")
    assert result.returncode == 0
    assert (
        "Example:\n    ferry submit orders-daily -n ferry-dev -p run_date=2026-11-01 --wait"
        in result.stdout
    )
