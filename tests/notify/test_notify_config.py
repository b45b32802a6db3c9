"""The ``notify`` config: every bad input refused with exit 2 and its exact message, and
the Secret the renderer maps into the webhook variable."""

import json
from pathlib import Path
from typing import Any

import pytest

from steps.databases.config import SecretRef
from steps.notify.config import NotifyConfig
from steps.runtime.config import SecretEnv
from steps.runtime.harness import main
from tests.conftest import run_step

BASE = {"alert": "failure", "workflow_status": "Failed"}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-alert": (
        {**BASE, "alert": "slow"},
        "at alert: Input should be 'failure', 'quality', 'sla' or 'rejected_share'",
    ),
    "no-status": (
        {"alert": "failure"},
        "at workflow_status: Field required",
    ),
    "empty-status": (
        {**BASE, "workflow_status": ""},
        "at workflow_status: String should have at least 1 character",
    ),
    "failure-with-threshold": (
        {**BASE, "threshold": 0.5},
        "at (config): Value error, the failure alert takes no threshold; remove it",
    ),
    "quality-without-threshold": (
        {**BASE, "alert": "quality"},
        "at (config): Value error, the quality alert needs threshold: the minimum quality "
        "score (0..1) of any checks step",
    ),
    "rejected-share-over-1": (
        {**BASE, "alert": "rejected_share", "threshold": 5},
        "at (config): Value error, threshold 5 of the rejected_share alert is not between 0 "
        "and 1: the maximum share (0..1) of rejected rows over rows in",
    ),
    "quality-below-0": (
        {**BASE, "alert": "quality", "threshold": -0.1},
        "at (config): Value error, threshold -0.1 of the quality alert is not between 0 and "
        "1: the minimum quality score (0..1) of any checks step",
    ),
    "sla-without-duration": (
        {**BASE, "alert": "sla", "threshold": 60},
        "at (config): Value error, the sla alert needs duration_seconds: pass Argo's "
        "{{workflow.duration}}",
    ),
    "sla-zero": (
        {**BASE, "alert": "sla", "threshold": 0, "duration_seconds": "5"},
        "at (config): Value error, threshold 0 of the sla alert must be over 0",
    ),
    "failures-not-json": (
        {**BASE, "failures": "{{workflow.failures}}"},
        "at failures: Value error, failures is not JSON (Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1)); pass Argo's {{workflow.failures}} as it is",
    ),
    "failures-not-a-list": (
        {**BASE, "failures": '{"displayName": "orders"}'},
        "at failures: Value error, failures is not a JSON list of objects (displayName, "
        "message, ...); pass Argo's {{workflow.failures}} as it is",
    ),
    "duration-not-a-number": (
        {**BASE, "duration_seconds": "{{workflow.duration}}"},
        "at duration_seconds: Value error, duration_seconds '{{workflow.duration}}' is not a "
        "number of seconds; pass Argo's {{workflow.duration}}",
    ),
    "duration-negative": (
        {**BASE, "duration_seconds": "-3"},
        "at duration_seconds: Value error, duration_seconds '-3' is not a number of seconds; "
        "pass Argo's {{workflow.duration}}",
    ),
    "bad-env-name": (
        {**BASE, "webhook_env": "hook-url"},
        "at webhook_env: Value error, webhook_env 'hook-url' is not an environment variable name",
    ),
    "bad-format": (
        {**BASE, "format": "teams"},
        "at format: Input should be 'json' or 'slack'",
    ),
    "zero-attempts": (
        {**BASE, "max_attempts": 0},
        "at max_attempts: Input should be greater than or equal to 1",
    ),
    "zero-timeout": (
        {**BASE, "timeout_seconds": 0},
        "at timeout_seconds: Input should be greater than 0",
    ),
    "unknown-field": (
        {**BASE, "webhook_url": "http://127.0.0.1/hook"},
        "at webhook_url: Extra inputs are not permitted",
    ),
}

ARGS = ("--pipeline", "p", "--step", "alert", "--run-id", "r1")


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_config_is_refused_with_exit_2(
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, message = BAD[case]
    monkeypatch.setenv("FERRY_OUTPUTS_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("FERRY_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    code = main(["notify", *ARGS, "--store", str(tmp_path), "--config", json.dumps(config)])
    assert code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"ferry: pipeline 'p', step 'alert': invalid notify config {message}"


def test_a_bad_config_exits_2_from_the_command_line(tmp_path: Path) -> None:
    result = run_step(
        "notify",
        *ARGS,
        *("--store", str(tmp_path), "--config", json.dumps({**BASE, "threshold": 0.5})),
        env={"FERRY_OUTPUTS_DIR": str(tmp_path / "out"), "FERRY_WEBHOOK_URL": "http://x/h"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "ferry: pipeline 'p', step 'alert': invalid notify config at (config): Value error, "
        "the failure alert takes no threshold; remove it"
    )


def test_the_webhook_secret_is_rendered_into_webhook_env() -> None:
    config = NotifyConfig(
        alert="failure",
        workflow_status="{{workflow.status}}",
        webhook_env="ORDERS_WEBHOOK_URL",
        webhook_secret=SecretRef(name="ferry-alerts", key="slack-url"),
    )
    assert config.secret_envs() == [
        SecretEnv(env="ORDERS_WEBHOOK_URL", secret_name="ferry-alerts", secret_key="slack-url")
    ]
    assert NotifyConfig(alert="failure", workflow_status="Failed").secret_envs() == []


def test_argo_gives_null_failures_when_nothing_failed() -> None:
    config = NotifyConfig(alert="failure", workflow_status="Succeeded", failures="null")
    assert config.failure_entries() == []
    assert config.duration() is None


@pytest.mark.parametrize("text", ["", "null", '"null"', "[]", '"[]"'])
def test_nothing_failed_in_every_spelling_argo_and_the_runner_use(text: str) -> None:
    config = NotifyConfig(alert="failure", workflow_status="Succeeded", failures=text)
    assert config.failure_entries() == []


def test_go_escapes_in_argo_quoted_failures_are_read() -> None:
    """``strconv.Quote`` writes a non-printable character beyond U+FFFF as ``\\U000e0001``,
    an escape JSON does not have; the rest of its quoting is JSON's."""
    entries = [{"displayName": "orders", "message": "tag \U000e0001 here"}]
    raw = json.dumps(entries, ensure_ascii=False)
    quoted = '"' + raw.replace("\\", "\\\\").replace('"', '\\"') + '"'
    quoted = quoted.replace("\U000e0001", "\\U000e0001")
    config = NotifyConfig(alert="failure", workflow_status="Failed", failures=quoted)
    assert config.failure_entries() == entries
