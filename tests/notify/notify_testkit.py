"""Test kit for the notify tests: a real run's artifacts, the step, a secret webhook URL.

:func:`build_runs` runs real steps (``extract-files`` with a malformed value,
``check`` rejecting rows, ``transform``) as subprocesses into one store, for two
runs: ``r-ok`` (the check passes at 0.5, the transform runs) and ``r-failed`` (the
check fails its 0.9 threshold with exit 3, so the run stops there). :func:`notify`
runs ``python -m steps notify`` against them with the webhook URL in the environment.
"""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import run_step

ORDERS_CSV = (
    "order_id,amount,status\n"
    "1,10.5,shipped\n"
    "2,abc,shipped\n"  # amount does not parse: quarantined by the extract
    "3,7.25,pending\n"
    "4,,shipped\n"  # null amount: rejected by the check
    "5,3.0,bogus\n"  # unknown status: rejected by the check
    "6,1.0,shipped\n"
    "7,2.0,shipped\n"
    "8,4.0,pending\n"
)
COLUMNS = {"order_id": "int64", "amount": "float64", "status": "string"}
RULES = [
    {"rule": "not_null", "column": "amount"},
    {"rule": "accepted_values", "column": "status", "values": ["shipped", "pending"]},
]
PIPELINE = "orders-daily"
SECRET_PATH = "/hooks/T0SECRET42/B0SECRET42/xoxSecretToken42"
"""The webhook's path: like a Slack webhook's, it is the credential."""
SECRET_MARKERS = ("SECRET42", "xoxSecretToken42")


def _step(store: Path, run_id: str, kind: str, step: str, *args: str) -> None:
    result = run_step(
        kind,
        *("--pipeline", PIPELINE, "--step", step, "--run-id", run_id, "--store", str(store)),
        *args,
        env={"FERRY_OUTPUTS_DIR": str(store.parent / "outputs" / run_id / step)},
    )
    if result.returncode not in (0, 3):
        raise AssertionError(f"{kind} {step} exited {result.returncode}: {result.stderr}")


def build_runs(root: Path) -> Path:
    """Run extract, check (and transform) for runs ``r-ok`` and ``r-failed``; the store."""
    data = root / "data"
    data.mkdir()
    (data / "orders.csv").write_text(ORDERS_CSV)
    store = root / "store"
    for run_id, threshold in (("r-ok", 0.5), ("r-failed", 0.9)):
        artifacts = store / "artifacts" / run_id
        extract = {"path": str(data / "orders.csv"), "format": "csv", "columns": COLUMNS}
        _step(
            store,
            run_id,
            "extract-files",
            "orders",
            *("--output", str(artifacts / "orders")),
            *("--config", json.dumps({**extract, "on_bad_row": "quarantine"})),
        )
        _step(
            store,
            run_id,
            "check",
            "orders-checked",
            *("--input", f"orders={artifacts / 'orders'}"),
            *("--output", str(artifacts / "orders-checked")),
            *("--config", json.dumps({"rules": RULES, "threshold": threshold})),
        )
        if run_id == "r-ok":
            sql = 'select status, count(*) as n from "orders-checked" group by status'
            _step(
                store,
                run_id,
                "transform",
                "by-status",
                *("--input", f"orders-checked={artifacts / 'orders-checked'}"),
                *("--output", str(artifacts / "by-status")),
                *("--config", json.dumps({"sql": sql})),
            )
    return store


@dataclass(frozen=True)
class Notified:
    """One notify run: the process and its output parameters."""

    result: subprocess.CompletedProcess[str]
    outputs: dict[str, str]

    @property
    def events(self) -> list[dict[str, Any]]:
        """The step's JSON log lines."""
        return [json.loads(line) for line in self.result.stdout.splitlines() if line.strip()]

    def event(self, name: str) -> dict[str, Any]:
        """The one event called ``name``."""
        [found] = [e for e in self.events if e["event"] == name]
        return found


def notify(
    store: Path | str,
    outputs: Path,
    config: dict[str, Any],
    *,
    url: str | None,
    run_id: str = "r-ok",
    env: dict[str, str] | None = None,
) -> Notified:
    """``python -m steps notify`` for ``run_id`` in ``store`` (a folder or s3://) with
    ``FERRY_WEBHOOK_URL=url`` (not set when None)."""
    variables = {"FERRY_OUTPUTS_DIR": str(outputs), **(env or {})}
    if url is not None:
        variables["FERRY_WEBHOOK_URL"] = url
    result = run_step(
        "notify",
        *("--pipeline", PIPELINE, "--step", f"alert-{config.get('alert')}", "--run-id", run_id),
        *("--store", str(store), "--config", json.dumps(config)),
        env=variables,
    )
    written = {p.name: p.read_text() for p in outputs.iterdir()} if outputs.is_dir() else {}
    return Notified(result, written)


def leaked(notified: Notified, *bodies: bytes) -> list[str]:
    """Where a piece of the secret URL shows: stdout, stderr, an output or a body."""
    places = {
        "stdout": notified.result.stdout,
        "stderr": notified.result.stderr,
        **{f"output {k}": v for k, v in notified.outputs.items()},
        **{f"body {i}": b.decode("utf-8", "replace") for i, b in enumerate(bodies)},
    }
    return [where for where, text in places.items() if any(m in text for m in SECRET_MARKERS)]
