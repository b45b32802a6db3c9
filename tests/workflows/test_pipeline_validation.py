"""Every definition error: exact message, pipeline/step/field named, exit code 2."""

import pytest
from pipeline_fakes import FakeExtract, FakeLoad, minimal

from steps.checks.config import NotNull, SqlRule, Unique
from workflows import Checks, Pipeline, Schedule, Source, Target, Transform, param
from workflows.errors import EXIT_USAGE, DefinitionError
from workflows.validation import validate_pipeline


def error_of(pipeline: Pipeline) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        validate_pipeline(pipeline)
    assert info.value.exit_code == EXIT_USAGE
    return info.value


def test_a_valid_pipeline_passes() -> None:
    validate_pipeline(minimal())


def test_no_sources() -> None:
    err = error_of(minimal(sources=[], checks=[]))
    assert str(err) == ("pipeline 'p', field 'steps': the pipeline has no Source; add at least one")


def test_no_targets() -> None:
    err = error_of(minimal(targets=[]))
    assert str(err) == ("pipeline 'p', field 'steps': the pipeline has no Target; add at least one")


@pytest.mark.parametrize("name", ["Orders", "orders_daily", "-orders", "orders-", "", "a" * 53])
def test_bad_pipeline_name(name: str) -> None:
    err = error_of(minimal(name=name))
    assert (err.pipeline, err.step, err.field) == (name, None, "name")
    assert str(err) == (
        f"pipeline {name!r}, field 'name': {name!r} is not a valid pipeline name; use lowercase "
        "letters, digits and '-', starting and ending with a letter or digit, at most 52 characters"
    )


def test_pipeline_name_of_52_characters_passes() -> None:
    validate_pipeline(minimal(name="a" * 52))


@pytest.mark.parametrize("name", ["Orders", "orders.raw", "a" * 64])
def test_bad_step_name(name: str) -> None:
    err = error_of(minimal(sources=[Source(name=name, config=FakeExtract(path="x"))], checks=[]))
    assert str(err) == (
        f"pipeline 'p', step {name!r}, field 'name': {name!r} is not a valid step name; use "
        "lowercase letters, digits and '-', starting and ending with a letter or digit, "
        "at most 63 characters"
    )


@pytest.mark.parametrize("name", ["main", "commit-state"])
def test_reserved_step_name(name: str) -> None:
    err = error_of(minimal(sources=[Source(name=name, config=FakeExtract(path="x"))], checks=[]))
    assert str(err) == (
        f"pipeline 'p', step {name!r}, field 'name': step name {name!r} is reserved by Ferry; "
        "choose another name"
    )


def test_duplicate_step_name() -> None:
    err = error_of(
        minimal(targets=[Target(name="orders", input="orders", config=FakeLoad(path="o"))])
    )
    assert str(err) == (
        "pipeline 'p', step 'orders', field 'name': step name 'orders' is used twice; "
        "step names must be unique"
    )


def test_source_with_a_load_config() -> None:
    err = error_of(minimal(sources=[Source(name="orders", config=FakeLoad(path="x"))]))
    assert str(err) == (
        "pipeline 'p', step 'orders', field 'config': a Source needs an extract config, "
        "got FakeLoad (kind 'load-fake')"
    )


def test_target_with_an_extract_config() -> None:
    err = error_of(
        minimal(targets=[Target(name="out", input="orders", config=FakeExtract(path="x"))])
    )
    assert str(err) == (
        "pipeline 'p', step 'out', field 'config': a Target needs a load config, "
        "got FakeExtract (kind 'extract-fake')"
    )


def test_unknown_input() -> None:
    err = error_of(minimal(targets=[Target(name="out", input="ordrs", config=FakeLoad(path="o"))]))
    assert str(err) == (
        "pipeline 'p', step 'out', field 'input': unknown input 'ordrs'; "
        "did you mean 'orders'? known steps: orders, orders-checked"
    )


def test_unknown_transform_input() -> None:
    err = error_of(
        minimal(transform=Transform(name="t", inputs=["orders", "nope"], sql="select 1"))
    )
    assert str(err) == (
        "pipeline 'p', step 't', field 'inputs': unknown input 'nope'; "
        "known steps: orders, orders-checked, t"
    )


def test_transform_without_inputs() -> None:
    err = error_of(minimal(transform=Transform(name="t", inputs=[], sql="select 1")))
    assert (
        str(err) == "pipeline 'p', step 't', field 'inputs': a Transform needs at least one input"
    )


def test_input_listed_twice() -> None:
    err = error_of(
        minimal(transform=Transform(name="t", inputs=["orders", "orders"], sql="select 1"))
    )
    assert str(err) == "pipeline 'p', step 't', field 'inputs': an input is listed twice"


def test_reading_a_target() -> None:
    err = error_of(
        minimal(
            targets=[
                Target(name="out", input="orders", config=FakeLoad(path="o")),
                Target(name="out2", input="out", config=FakeLoad(path="o")),
            ]
        )
    )
    assert str(err) == (
        "pipeline 'p', step 'out2', field 'input': input 'out' is a Target, "
        "which has no output to read"
    )


def test_cycle_is_named() -> None:
    rules = [NotNull(column="id")]
    err = error_of(
        minimal(
            checks=[
                Checks(name="a", input="c", rules=rules),
                Checks(name="b", input="a", rules=rules),
                Checks(name="c", input="b", rules=rules),
            ],
            targets=[Target(name="out", input="c", config=FakeLoad(path="o"))],
        )
    )
    assert str(err) == (
        "pipeline 'p', step 'a', field 'input': steps form a cycle: a -> b -> c -> a; break it"
    )


def test_self_cycle() -> None:
    err = error_of(minimal(checks=[Checks(name="a", input="a", rules=[NotNull(column="id")])]))
    assert str(err) == "pipeline 'p', step 'a', field 'input': steps form a cycle: a -> a; break it"


def test_rule_on_undeclared_column() -> None:
    checks = [Checks(name="orders-checked", input="orders", rules=[Unique(columns=["id", "y"])])]
    err = error_of(minimal(checks=checks))
    assert str(err) == (
        "pipeline 'p', step 'orders-checked', field 'rules[0]': column 'y' is not among the "
        "columns of 'orders'; its columns: id, x"
    )


def test_rule_on_undeclared_column_through_a_checks_chain() -> None:
    checks = [
        Checks(name="orders-checked", input="orders", rules=[NotNull(column="id")]),
        Checks(
            name="again", input="orders-checked", rules=[NotNull(column="x"), NotNull(column="z")]
        ),
    ]
    err = error_of(minimal(checks=checks))
    assert str(err) == (
        "pipeline 'p', step 'again', field 'rules[1]': column 'z' is not among the "
        "columns of 'orders-checked'; its columns: id, x"
    )


def test_rule_columns_unchecked_when_source_declares_none() -> None:
    sources = [Source(name="orders", config=FakeExtract(path="in"))]
    validate_pipeline(
        minimal(
            sources=sources,
            checks=[
                Checks(name="orders-checked", input="orders", rules=[NotNull(column="anything")])
            ],
        )
    )


def test_sql_predicate_columns_are_not_checked() -> None:
    rule = SqlRule(name="positive", predicate="y > 0")
    validate_pipeline(minimal(checks=[Checks(name="orders-checked", input="orders", rules=[rule])]))


def test_checks_without_rules() -> None:
    err = error_of(minimal(checks=[Checks(name="orders-checked", input="orders", rules=[])]))
    assert str(err) == (
        "pipeline 'p', step 'orders-checked', field 'rules': invalid step config at rules: "
        "List should have at least 1 item after validation, not 0"
    )


def test_empty_transform_sql() -> None:
    err = error_of(minimal(transform=Transform(name="t", inputs=["orders"], sql="")))
    assert str(err) == (
        "pipeline 'p', step 't', field 'sql': invalid step config at sql: "
        "String should have at least 1 character"
    )


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_check_threshold_outside_0_1(threshold: float) -> None:
    checks = [
        Checks(
            name="orders-checked", input="orders", rules=[NotNull(column="id")], threshold=threshold
        )
    ]
    err = error_of(minimal(checks=checks))
    assert str(err) == (
        f"pipeline 'p', step 'orders-checked', field 'threshold': {threshold} is outside 0..1; "
        "use a share such as 0.95"
    )


def test_pipeline_quality_threshold_outside_0_1() -> None:
    err = error_of(minimal(quality_threshold=95.0))
    assert str(err) == (
        "pipeline 'p', field 'quality_threshold': 95.0 is outside 0..1; use a share such as 0.95"
    )


@pytest.mark.parametrize("cron", ["0 2 * *", "every day", "0 2 * * * *"])
def test_bad_cron(cron: str) -> None:
    err = error_of(minimal(schedule=Schedule(cron=["0 1 * * *", cron])))
    assert str(err) == (
        f"pipeline 'p', field 'schedule.cron[1]': {cron!r} is not a 5-field cron expression, "
        "e.g. '0 2 * * *'"
    )


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("99 2 * * *", "minute value 99 is out of range 0-59"),
        ("61 2 * * *", "minute value 61 is out of range 0-59"),
        ("0 24 * * *", "hour value 24 is out of range 0-23"),
        ("0 2 0 * *", "day of month value 0 is out of range 1-31"),
        ("0 2 * 13 *", "month value 13 is out of range 1-12"),
        ("0 2 * * 8", "day of week value 8 is out of range 0-6"),
        ("0-70 2 * * *", "minute value 70 is out of range 0-59"),
        ("x 2 * * *", "minute field 'x' is not valid (values 0-59)"),
    ],
)
def test_bad_cron_field_is_named(cron: str, problem: str) -> None:
    err = error_of(minimal(schedule=Schedule(cron=["0 1 * * *", cron])))
    assert str(err) == (
        f"pipeline 'p', field 'schedule.cron[1]': {cron!r} is not a valid cron expression: "
        f"{problem}; e.g. '0 2 * * *'"
    )


def test_no_cron() -> None:
    err = error_of(minimal(schedule=Schedule(cron=[])))
    assert str(err) == "pipeline 'p', field 'schedule.cron': no cron expression; give at least one"


@pytest.mark.parametrize("timezone", ["Europe/Berlln", "CEST", "../etc/passwd", ""])
def test_unknown_timezone(timezone: str) -> None:
    err = error_of(minimal(schedule=Schedule(cron=["0 2 * * *"], timezone=timezone)))
    assert str(err) == (
        f"pipeline 'p', field 'schedule.timezone': {timezone!r} is not an IANA timezone, "
        "e.g. 'Europe/Berlin' or 'UTC'"
    )


def test_unknown_parameter_in_config() -> None:
    sources = [Source(name="orders", config=FakeExtract(path=f"{param('data_dir')}/x"))]
    err = error_of(minimal(sources=sources, checks=[]))
    assert str(err) == (
        "pipeline 'p', step 'orders', field 'config': unknown parameter 'data_dir' in "
        "{{workflow.parameters.data_dir}}; known: interval_end, interval_start, run_date, store; "
        "declare it in Pipeline.params"
    )


def test_unknown_parameter_in_transform_sql() -> None:
    sql = "select * from orders where d = '{{workflow.parameters.day}}'"
    err = error_of(minimal(transform=Transform(name="t", inputs=["orders"], sql=sql)))
    assert str(err) == (
        "pipeline 'p', step 't', field 'config': unknown parameter 'day' in "
        "{{workflow.parameters.day}}; known: interval_end, interval_start, run_date, store; "
        "declare it in Pipeline.params"
    )


def test_declared_and_builtin_parameters_pass() -> None:
    path = f"{param('data_dir')}/{param('run_date')}/{param('store')}"
    sources = [Source(name="orders", config=FakeExtract(path=path))]
    validate_pipeline(minimal(sources=sources, checks=[], params={"data_dir": "data"}))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("store", "parameter 'store' is built in; set Pipeline.store instead"),
        ("run_date", "parameter 'run_date' is built in; pass it at run time instead"),
        ("data-dir", "parameter name 'data-dir' is not an identifier; use letters, digits and '_'"),
    ],
)
def test_bad_parameter_names(name: str, message: str) -> None:
    err = error_of(minimal(params={name: "x"}))
    assert str(err) == f"pipeline 'p', field 'params': {message}"


def test_bad_label_key() -> None:
    err = error_of(minimal(labels={"team name": "x"}))
    assert (
        str(err) == "pipeline 'p', field 'labels': 'team name' is not a valid Kubernetes label key"
    )


def test_bad_label_value() -> None:
    err = error_of(minimal(labels={"team": "data eng"}))
    assert str(err) == (
        "pipeline 'p', field 'labels': value 'data eng' of label 'team' is not a valid "
        "Kubernetes label value"
    )


def test_parameter_default_referencing_a_parameter() -> None:
    err = error_of(minimal(params={"out": f"{param('run_date')}/out"}))
    assert str(err) == (
        "pipeline 'p', field 'params': the default of parameter 'out' references another "
        "parameter, which Argo does not resolve reliably; write the value itself"
    )


def test_cycle_through_the_transform_names_its_inputs() -> None:
    transform = Transform(name="t", inputs=["a"], sql="select 1")
    checks = [
        Checks(name="x", input="t", rules=[NotNull(column="id")]),
        Checks(name="a", input="t", rules=[NotNull(column="id")]),
    ]
    err = error_of(minimal(checks=checks, transform=transform))
    assert str(err) == (
        "pipeline 'p', step 't', field 'inputs': steps form a cycle: t -> a -> t; break it"
    )


def test_cron_times_shifted_by_dst_are_warnings_not_errors() -> None:
    from datetime import date

    from workflows.validation import definition_warnings

    pipeline = minimal(schedule=Schedule(cron=["30 2 * * *"], timezone="Europe/Berlin"))
    validate_pipeline(pipeline)
    assert definition_warnings(pipeline, date(2026, 1, 1)) == [
        "schedule '30 2 * * *': 2026-03-29 02:30 in Europe/Berlin does not exist (clocks jump "
        "forward); Argo skips it; move it out of the changed hour or use timezone 'UTC'",
        "schedule '30 2 * * *': 2026-10-25 02:30 in Europe/Berlin happens twice (clocks go "
        "back); Argo may run it twice; move it out of the changed hour or use timezone 'UTC'",
    ]
    safe = minimal(schedule=Schedule(cron=["0 3 * * *"], timezone="Europe/Berlin"))
    assert definition_warnings(safe, date(2026, 1, 1)) == []
    assert definition_warnings(minimal(schedule=Schedule(cron=["30 2 * * *"]))) == []


def test_a_cached_target_is_refused() -> None:
    target = Target(name="out", input="orders", config=FakeLoad(path="o"), cache=True)
    err = error_of(minimal(targets=[target]))
    assert (err.step, err.field) == ("out", "cache")
    assert str(err) == (
        "pipeline 'p', step 'out', field 'cache': a Target cannot be cached: a load must write "
        "on every run; cache the step that feeds it instead"
    )


def test_a_source_without_freshness_needs_a_ttl() -> None:
    cached = Source(name="orders", config=FakeExtract(path="in", columns=["id", "x"]), cache=True)
    err = error_of(minimal(sources=[cached]))
    assert (err.step, err.field) == ("orders", "cache")
    assert "give a TTL in seconds instead (cache=3600)" in str(err)
    ttl = Source(name="orders", config=FakeExtract(path="in", columns=["id", "x"]), cache=60)
    validate_pipeline(minimal(sources=[ttl]))


def test_an_incremental_source_cannot_be_cached() -> None:
    config = FakeExtract(path="in", columns=["id", "x"], cursor="x")
    err = error_of(minimal(sources=[Source(name="orders", config=config, cache=60)]))
    assert "an incremental source cannot be cached" in str(err)


def test_a_cache_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="cache TTL 0 must be a positive number of seconds"):
        Checks(name="c", input="orders", rules=[NotNull(column="id")], cache=0)
