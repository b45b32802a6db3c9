from pathlib import Path

import pytest
from runner_testkit import container, run, statuses, workflow

from workflows.runner.errors import ManifestRefused, Problems
from workflows.runner.retry import (
    AttemptPhase,
    RetryPolicy,
    RetryStrategy,
    parse_duration,
    parse_retry_strategy,
)
from workflows.runner.retry_expression import LastRetry, parse_retry_expression


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


RENDERED_EXPRESSION = "lastRetry.exitCode not in ['2', '3']"


@pytest.mark.parametrize(
    ("code", "attempts", "not_retried"),
    [(1, 3, None), (2, 1, "bad usage or config"), (3, 1, "data rejected")],
)
def test_the_rendered_expression_retries_only_what_may_pass(
    store: Path, marks: Path, code: int, attempts: int, not_retried: str | None
) -> None:
    retry = {
        "limit": 2,
        "retryPolicy": "Always",
        "expression": RENDERED_EXPRESSION,
        "backoff": {"duration": "10ms"},
    }
    template = container(
        "checked", "--exit", str(code), "--message", "checked: bad", retryStrategy=retry
    )
    record, view = run(workflow([template]), store, marks)

    checked = record.task("checked")
    assert (checked.status.value, checked.attempts, checked.exit_code) == ("Failed", attempts, code)
    assert checked.not_retried == not_retried
    if not_retried:
        assert f"✖ checked failed ({not_retried}, not retried): checked: bad" in view
    else:
        assert "✖ checked failed after 3 attempts: checked: bad" in view


def test_an_expression_without_policy_retries_errors_too(store: Path, marks: Path) -> None:
    retry = {"limit": 1, "expression": RENDERED_EXPRESSION}
    record, _ = run(
        workflow([container("silent", outputs=("rows_in",), retryStrategy=retry)]), store, marks
    )

    assert (record.task("silent").status.value, record.task("silent").attempts) == ("Error", 2)


def test_an_expression_on_the_status_declines_by_exit_code(store: Path, marks: Path) -> None:
    retry = {"limit": 2, "expression": "lastRetry.status == 'Error' || lastRetry.exitCode == '7'"}
    record, view = run(
        workflow([container("flaky", "--fail-first", "9", retryStrategy=retry)]), store, marks
    )

    assert record.task("flaky").attempts == 1
    assert "✖ flaky failed (exit code 1, not retried): flaky: failing attempt 1 on purpose" in view


@pytest.mark.parametrize(
    ("expression", "detail"),
    [
        ("asInt(lastRetry.exitCode) > 1", "'asInt' is not supported "
         "(only lastRetry.exitCode and lastRetry.status)"),
        ("lastRetry.exitCode == 3", "3 is a number; lastRetry values are strings in Argo, "
         "write '3'"),
        ("lastRetry.duration < 120", "'lastRetry.duration' is not supported "
         "(only lastRetry.exitCode and lastRetry.status)"),
        ("lastRetry.exitCode != '3' and lastRetry.exitCode != '2'", "'and' is not supported there"),
        ("lastRetry.exitCode not in ['2', '3'", "the expression ends early"),
        ("lastRetry.status matches 'Err.*'", "operator 'matches' is not supported"),
        ("", "the expression is empty"),
    ],
)  # fmt: skip
def test_other_expressions_are_refused_by_name(
    store: Path, marks: Path, expression: str, detail: str
) -> None:
    retry = {"limit": 1, "expression": expression}

    with pytest.raises(ManifestRefused) as caught:
        run(workflow([container("a", retryStrategy=retry)]), store, marks)

    assert str(caught.value) == (
        "manifest: the local runner refuses this manifest: spec.templates[1].retryStrategy."
        f"expression: {expression!r} is not supported by the local runner ({detail}); it "
        "evaluates only lastRetry.exitCode or lastRetry.status compared with quoted strings by "
        "==, !=, in [...] or not in [...], joined by && or ||"
    )
    assert not marks.exists()


@pytest.mark.parametrize(
    ("phase", "exit_code", "retried"),
    [
        (AttemptPhase.FAILED, 1, True),
        (AttemptPhase.FAILED, 2, False),
        (AttemptPhase.FAILED, 3, False),
        (AttemptPhase.FAILED, -9, True),
        (AttemptPhase.ERROR, None, True),
        (AttemptPhase.ERROR, 0, True),
    ],
)
def test_rendered_expression_sees_exit_codes_as_argo_does(
    phase: AttemptPhase, exit_code: int | None, retried: bool
) -> None:
    strategy = RetryStrategy(
        2, RetryPolicy.ALWAYS, 0.0, 1.0, None, parse_retry_expression(RENDERED_EXPRESSION)
    )

    assert strategy.expression_allows(phase, exit_code) is retried


@pytest.mark.parametrize(
    ("phase", "exit_code", "variables"),
    [
        (AttemptPhase.FAILED, 3, ("3", "Failed")),
        (AttemptPhase.FAILED, -9, ("137", "Failed")),
        (AttemptPhase.ERROR, None, ("-1", "Error")),
    ],
)
def test_last_retry_variables_are_strings_like_argos(
    phase: AttemptPhase, exit_code: int | None, variables: tuple[str, str]
) -> None:
    last = LastRetry.of(phase.value, exit_code)

    assert (last.exit_code, last.status) == variables


def test_backoff_cap_bounds_each_wait_as_argo_does() -> None:
    # Argo (workflow/controller/operator.go): timeToWait = duration * factor^(n-1), set
    # to backoff.cap when longer; cap is no time budget, unlike maxDuration.
    found = Problems()
    strategy = parse_retry_strategy(
        {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "cap": "25s"}}, "r", found
    )

    assert not found.items and strategy is not None
    assert [strategy.delay_before_retry(n) for n in (1, 2, 3, 4)] == [10.0, 20.0, 25.0, 25.0]
    assert strategy.within_max_duration(elapsed=10_000.0, delay=25.0)


def test_a_capped_retry_waits_the_cap(store: Path, marks: Path) -> None:
    retry = {"limit": 2, "backoff": {"duration": "200ms", "factor": "10", "cap": "300ms"}}
    record, view = run(
        workflow([container("flaky", "--fail-first", "2", retryStrategy=retry)]), store, marks
    )

    assert record.task("flaky").status.value == "Succeeded"
    first, second, third = attempt_times(marks, "flaky")
    assert second - first >= 0.2 and 0.3 <= third - second < 1.5
    assert "retry 2/2 in 0.3s" in view


def test_a_bad_cap_is_refused_by_path() -> None:
    found = Problems()
    parse_retry_strategy({"limit": 1, "backoff": {"duration": "1s", "cap": "soon"}}, "r", found)

    assert found.items == ["r.backoff.cap: 'soon' is not a duration like '10s', '100ms' or '1m30s'"]
