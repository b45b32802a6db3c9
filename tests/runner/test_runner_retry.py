from pathlib import Path

import pytest
from runner_testkit import container, run, statuses, workflow

from workflows.runner.retry import AttemptPhase, RetryPolicy, RetryStrategy, parse_duration


def attempt_times(marks: Path, name: str) -> list[float]:
    return [float(line) for line in (marks / f"{name}.attempts").read_text().splitlines()]


def test_retries_wait_the_backoff_and_then_succeed(store: Path, marks: Path) -> None:
    retry = {"limit": 2, "backoff": {"duration": "300ms", "factor": "2"}}
    record, view = run(
        workflow([container("flaky", "--fail-first", "2", retryStrategy=retry)]), store, marks
    )

    flaky = record.task("flaky")
    assert (flaky.status.value, flaky.attempts, flaky.exit_code, flaky.reason) == (
        "Succeeded",
        3,
        0,
        None,
    )
    first, second, third = attempt_times(marks, "flaky")
    assert second - first >= 0.3
    assert third - second >= 0.6
    assert "↻ flaky failed: flaky: failing attempt 1 on purpose; retry 1/2 in 0.3s" in view
    assert "↻ flaky failed: flaky: failing attempt 2 on purpose; retry 2/2 in 0.6s" in view
    assert "▶ flaky started (attempt 3)" in view


def test_retries_stop_at_the_limit_with_the_last_reason(store: Path, marks: Path) -> None:
    retry = {"limit": "1", "backoff": {"duration": "10ms"}}
    record, view = run(
        workflow([container("flaky", "--fail-first", "9", retryStrategy=retry)]), store, marks
    )

    flaky = record.task("flaky")
    assert (flaky.status.value, flaky.attempts, flaky.exit_code) == ("Failed", 2, 1)
    assert flaky.reason == "flaky: failing attempt 2 on purpose"
    assert "✖ flaky failed after 2 attempts: flaky: failing attempt 2 on purpose" in view


@pytest.mark.parametrize(
    ("policy", "attempts"),
    [("OnFailure", 2), ("Always", 2), ("OnError", 1), ("OnTransientError", 1)],
)
def test_a_non_zero_exit_is_a_failure_for_retry_policies(
    store: Path, marks: Path, policy: str, attempts: int
) -> None:
    retry = {"limit": 1, "retryPolicy": policy}
    record, _ = run(
        workflow([container("flaky", "--fail-first", "9", retryStrategy=retry)]), store, marks
    )

    assert record.task("flaky").attempts == attempts


@pytest.mark.parametrize(("policy", "attempts"), [("OnError", 2), ("Always", 2), ("OnFailure", 1)])
def test_a_missing_output_parameter_is_an_error_for_retry_policies(
    store: Path, marks: Path, policy: str, attempts: int
) -> None:
    template = container(
        "silent", outputs=("rows_in",), retryStrategy={"limit": 1, "retryPolicy": policy}
    )
    record, _ = run(workflow([template]), store, marks)

    silent = record.task("silent")
    assert (silent.status.value, silent.attempts) == ("Error", attempts)
    assert (
        silent.reason == "output parameter 'rows_in': the step wrote no /tmp/ferry/outputs/rows_in"
    )
    assert record.status.value == "Error"


def test_on_transient_error_retries_what_matches_the_pattern(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRANSIENT_ERROR_PATTERN", "failing attempt 1 ")
    retry = {"limit": 3, "retryPolicy": "OnTransientError"}
    record, _ = run(
        workflow([container("flaky", "--fail-first", "9", retryStrategy=retry)]), store, marks
    )

    assert record.task("flaky").attempts == 2
    assert record.task("flaky").reason == "flaky: failing attempt 2 on purpose"


def test_no_retry_once_backoff_would_pass_max_duration(store: Path, marks: Path) -> None:
    retry = {"limit": 5, "backoff": {"duration": "2s", "maxDuration": "1s"}}
    record, _ = run(
        workflow([container("flaky", "--fail-first", "9", retryStrategy=retry)]), store, marks
    )

    flaky = record.task("flaky")
    assert flaky.attempts == 1
    assert (
        flaky.reason
        == "flaky: failing attempt 1 on purpose (no retry: backoff maxDuration reached)"
    )


def test_retries_substitute_the_retry_number(store: Path, marks: Path) -> None:
    template = container(
        "flaky", "--fail-first", "1", "--", "{{retries}}", retryStrategy={"limit": 1}
    )
    record, _ = run(workflow([template]), store, marks)

    assert statuses(record) == {"flaky": "Succeeded"}
    assert (marks / "flaky.argv.json").read_text() == '["1"]'


def test_bad_retry_settings_are_refused(store: Path, marks: Path) -> None:
    retry = {"retryPolicy": "Sometimes", "backoff": {"duration": "10 parsecs", "factor": "x"}}

    with pytest.raises(Exception) as caught:
        run(workflow([container("a", retryStrategy=retry)]), store, marks)

    assert str(caught.value) == "manifest: the local runner refuses this manifest: " + "; ".join(
        [
            "spec.templates[1].retryStrategy.limit: is required by the local runner "
            "(without it Argo retries forever)",
            "spec.templates[1].retryStrategy.retryPolicy: 'Sometimes' is not one of "
            "Always, OnFailure, OnError, OnTransientError",
            "spec.templates[1].retryStrategy.backoff.duration: '10 parsecs' is not a duration "
            "like '10s', '100ms' or '1m30s'",
            "spec.templates[1].retryStrategy.backoff.factor: 'x' is not a number",
        ]
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10", 10.0), (5, 5.0), ("100ms", 0.1), ("1m30s", 90.0), ("1.5h", 5400.0), ("2m", 120.0)],
)
def test_go_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1d", "s", "10 s", "-1s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_backoff_grows_by_factor() -> None:
    strategy = RetryStrategy(3, RetryPolicy.ON_FAILURE, 10.0, 2.0, 60.0)

    assert [strategy.delay_before_retry(n) for n in (1, 2, 3)] == [10.0, 20.0, 40.0]
    assert strategy.within_max_duration(elapsed=30.0, delay=30.0)
    assert not strategy.within_max_duration(elapsed=30.1, delay=30.0)
    assert not strategy.should_retry(AttemptPhase.SUCCEEDED, "")
