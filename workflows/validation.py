"""Definition-time checks of a pipeline, so a bad pipeline fails at ``ferry render``.

Each check raises :class:`workflows.errors.DefinitionError` naming the pipeline, the
step and the field; the first problem found is reported. Checks run in an order
where each may rely on the previous ones (e.g. inputs exist before cycles are
searched).
"""

import difflib
import re
from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from steps.runtime.config import StepConfig
from workflows.alerts import check_alerts
from workflows.definition_yaml import yaml_location
from workflows.errors import DefinitionError
from workflows.graph import find_cycle
from workflows.partitions import PARTITION_REFERENCE, check_partitions
from workflows.pipeline import (
    BUILTIN_PARAMS,
    PARAM_REFERENCE,
    AnyNode,
    Checks,
    Pipeline,
    PythonStep,
    Source,
    Target,
)
from workflows.triggers import check_triggers

MAX_PIPELINE_NAME = 52
"""Argo appends ``-<unix time>`` (11 characters) to a CronWorkflow's runs; 52 + 11 = 63."""

MAX_STEP_NAME = 63
"""A DNS-1123 label."""

RESERVED_STEP_NAMES = ("main", "commit-state")
"""``main`` is the DAG template; ``commit-state`` is added for incremental sources."""

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
)
"""Name and allowed numbers of each of the 5 cron fields, in order, as Argo reads them."""
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def validate_pipeline(pipeline: Pipeline) -> None:
    """Check a pipeline definition; raise DefinitionError on the first problem.

    For a YAML definition the error also names the file and line of the field.
    """
    try:
        _validate(pipeline)
    except DefinitionError as err:
        location = yaml_location(pipeline, err.step, err.field)
        if location is None or err.location is not None:
            raise
        raise err.at(location) from None


def definition_warnings(pipeline: Pipeline, today: date | None = None) -> list[str]:
    """Problems that do not stop a pipeline but should be fixed: DST-shifted cron times.

    Checked over the coming year from ``today`` (default: the current day).
    """
    if pipeline.schedule is None:
        return []
    from workflows.intervals import dst_warnings

    return dst_warnings(pipeline.schedule, today or date.today())


def _validate(pipeline: Pipeline) -> None:
    _check_names(pipeline)
    _check_not_empty(pipeline)
    _check_kinds(pipeline)
    _check_inputs(pipeline)
    _check_cycles(pipeline)
    _check_thresholds(pipeline)
    _check_step_configs(pipeline)
    _check_python_functions(pipeline)
    _check_rule_columns(pipeline)
    _check_target_columns(pipeline)
    _check_incremental_loads(pipeline)
    _check_cache(pipeline)
    _check_partitions(pipeline)
    _check_schedule(pipeline)
    _check_params(pipeline)
    check_triggers(pipeline)
    check_alerts(pipeline)
    _check_labels(pipeline)


def _check_names(pipeline: Pipeline) -> None:
    p = pipeline.name
    if not _DNS_LABEL.match(p) or len(p) > MAX_PIPELINE_NAME:
        raise DefinitionError(
            p,
            None,
            "name",
            f"{p!r} is not a valid pipeline name; use lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {MAX_PIPELINE_NAME} characters",
        )
    seen: set[str] = set()
    for node in pipeline.nodes():
        name = node.name
        if not _DNS_LABEL.match(name) or len(name) > MAX_STEP_NAME:
            raise DefinitionError(
                p,
                name,
                "name",
                f"{name!r} is not a valid step name; use lowercase letters, digits and '-', "
                f"starting and ending with a letter or digit, at most {MAX_STEP_NAME} characters",
            )
        if name in RESERVED_STEP_NAMES:
            raise DefinitionError(
                p, name, "name", f"step name {name!r} is reserved by Ferry; choose another name"
            )
        if name in seen:
            raise DefinitionError(
                p, name, "name", f"step name {name!r} is used twice; step names must be unique"
            )
        seen.add(name)


def _check_not_empty(pipeline: Pipeline) -> None:
    if not pipeline.of_kind(Source):
        raise DefinitionError(
            pipeline.name, None, "steps", "the pipeline has no Source; add at least one"
        )
    if not pipeline.of_kind(Target):
        raise DefinitionError(
            pipeline.name, None, "steps", "the pipeline has no Target; add at least one"
        )


def _check_kinds(pipeline: Pipeline) -> None:
    """A Source runs an extract config, a Target a load config: asked of the config's role."""
    for node in pipeline.of_kind(Source) + pipeline.of_kind(Target):
        config = node.config
        if config.ROLE != node.ROLE:
            wanted = "an extract" if isinstance(node, Source) else "a load"
            raise DefinitionError(
                pipeline.name,
                node.name,
                "config",
                f"a {type(node).__name__} needs {wanted} config, got {type(config).__name__} "
                f"(kind {config.KIND!r})",
            )


def _input_field(node: AnyNode) -> str:
    return node.INPUT_FIELD or "input"


def _check_inputs(pipeline: Pipeline) -> None:
    nodes = {n.name: n for n in pipeline.nodes()}
    readable = sorted(n for n, v in nodes.items() if not isinstance(v, Target))
    for node in pipeline.nodes():
        upstream = node.upstream()
        if node.INPUT_FIELD == "inputs" and not upstream:
            raise DefinitionError(
                pipeline.name,
                node.name,
                "inputs",
                f"a {type(node).__name__} needs at least one input",
            )
        for name in upstream:
            if name not in nodes:
                close = difflib.get_close_matches(name, readable, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise DefinitionError(
                    pipeline.name,
                    node.name,
                    _input_field(node),
                    f"unknown input {name!r}; {hint}known steps: {', '.join(readable)}",
                )
            if isinstance(nodes[name], Target):
                raise DefinitionError(
                    pipeline.name,
                    node.name,
                    _input_field(node),
                    f"input {name!r} is a Target, which has no output to read",
                )
        if len(set(upstream)) != len(upstream):
            raise DefinitionError(
                pipeline.name, node.name, _input_field(node), "an input is listed twice"
            )


def _check_cycles(pipeline: Pipeline) -> None:
    cycle = find_cycle(pipeline.graph())
    if cycle is None:
        return
    first = next(n for n in pipeline.nodes() if n.name == cycle[0])
    raise DefinitionError(
        pipeline.name,
        cycle[0],
        _input_field(first),
        "steps form a cycle: " + " -> ".join(reversed(cycle)) + "; break it",
    )


def _check_thresholds(pipeline: Pipeline) -> None:
    if not 0.0 <= pipeline.quality_threshold <= 1.0:
        raise DefinitionError(
            pipeline.name,
            None,
            "quality_threshold",
            f"{pipeline.quality_threshold} is outside 0..1; use a share such as 0.95",
        )
    for check in pipeline.of_kind(Checks):
        if check.threshold is not None and not 0.0 <= check.threshold <= 1.0:
            raise DefinitionError(
                pipeline.name,
                check.name,
                "threshold",
                f"{check.threshold} is outside 0..1; use a share such as 0.95",
            )


def _check_step_configs(pipeline: Pipeline) -> None:
    """Build the configs of the nodes that make theirs, so the step would accept them."""
    for node in pipeline.nodes():
        if isinstance(node, Checks):
            _built(pipeline, node.name, "rules", partial(node.step_config, 0.0))
        elif not isinstance(node, Source | Target):
            _built(pipeline, node.name, _CONFIG_FIELD[node.kind], node.step_config)


def _check_python_functions(pipeline: Pipeline) -> None:
    """A Python step's function must import and take its inputs (and params, if given).

    The module is imported as the step will import it; discovery has put the
    pipeline's own folder on the import path, as the local runner does for its steps.
    """
    from steps.python_step import check_function

    for node in pipeline.of_kind(PythonStep):
        try:
            check_function(node.function, len(node.inputs), has_params=bool(node.params))
        except ValueError as err:
            raise DefinitionError(pipeline.name, node.name, "function", str(err)) from None


_CONFIG_FIELD = {"transform": "sql", "python": "function"}
"""The field to name when a node's built config is refused."""


def _built(pipeline: Pipeline, step: str, field: str, build: Callable[[], StepConfig]) -> None:
    try:
        build()
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DefinitionError(
            pipeline.name, step, field, f"invalid step config at {where}: {first['msg']}"
        ) from None


def _declared_columns(nodes: dict[str, AnyNode], name: str) -> list[str] | None:
    """Columns a step's output is known to have, or None where only running it would tell.

    Sources and Python steps may declare theirs, checks pass their input's on, a SQL
    transform's are known only to DuckDB.
    """
    node = nodes[name]
    if isinstance(node, Checks):
        return _declared_columns(nodes, node.input)
    if isinstance(node, Target):
        return None
    config = node.config if isinstance(node, Source) else node.step_config()
    return config.declared_columns()


def _missing_column(
    pipeline: Pipeline, node: AnyNode, field: str, columns: list[str], upstream: str
) -> None:
    declared = _declared_columns({n.name: n for n in pipeline.nodes()}, upstream)
    if declared is None:
        return
    for column in columns:
        if column not in declared:
            close = difflib.get_close_matches(column, declared, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise DefinitionError(
                pipeline.name,
                node.name,
                field,
                f"column {column!r} is not among the columns of {upstream!r}; {hint}"
                f"its columns: {', '.join(declared)}",
            )


def _check_rule_columns(pipeline: Pipeline) -> None:
    for check in pipeline.of_kind(Checks):
        for index, rule in enumerate(check.rules):
            _missing_column(pipeline, check, f"rules[{index}]", rule.columns(), check.input)


def _check_target_columns(pipeline: Pipeline) -> None:
    """A load's partition and key columns must be in its input, where its columns are known."""
    for target in pipeline.of_kind(Target):
        for field, columns in target.config.input_columns().items():
            _missing_column(pipeline, target, f"config.{field}", columns, target.input)


def _incremental_sources(nodes: dict[str, AnyNode], name: str) -> list[str]:
    """Incremental sources whose rows reach step ``name``."""
    node = nodes[name]
    if isinstance(node, Source):
        return [name] if node.config.incremental_cursor() is not None else []
    return [s for up in node.upstream() for s in _incremental_sources(nodes, up)]


def _check_incremental_loads(pipeline: Pipeline) -> None:
    """Refuse a target that duplicates re-delivered rows when an incremental source feeds it.

    The high-water mark advances only after every target committed, so a run that
    fails after loading some targets re-extracts the same window next time; only a
    target that replaces re-delivered rows (upsert / merge by key) stays exactly-once.
    Each load config says itself whether it does (``redelivery_problem``).
    """
    nodes = {n.name: n for n in pipeline.nodes()}
    for target in pipeline.of_kind(Target):
        problem = target.config.redelivery_problem()
        if problem is None:
            continue
        sources = _incremental_sources(nodes, target.input)
        if sources:
            raise DefinitionError(
                pipeline.name,
                target.name,
                "config.mode",
                f"fed by incremental source {sources[0]!r}, whose window a failed run "
                f"re-delivers: {problem}",
            )


def _check_cache(pipeline: Pipeline) -> None:
    """Refuse caching where reusing an earlier result would be wrong.

    A load must write every run (a cached load would skip the write), an incremental
    source reads a window that moves with its cursor state, and a source that cannot
    tell when its data changed (SQL, HTTP) needs a TTL to ever see new rows.
    """
    for node in pipeline.nodes():
        if node.cache is False:
            continue
        if isinstance(node, Target):
            raise DefinitionError(
                pipeline.name,
                node.name,
                "cache",
                "a Target cannot be cached: a load must write on every run; "
                "cache the step that feeds it instead",
            )
        if isinstance(node, Source) and node.config.incremental_cursor() is not None:
            raise DefinitionError(
                pipeline.name,
                node.name,
                "cache",
                "an incremental source cannot be cached: its window moves with the cursor "
                "state; drop cache, or drop the cursor",
            )
        if isinstance(node, Source) and node.cache is True and not node.config.DECLARES_FRESHNESS:
            raise DefinitionError(
                pipeline.name,
                node.name,
                "cache",
                f"a {node.config.KIND} source cannot tell when its data changed, so cache=True "
                "would never read new rows; give a TTL in seconds instead (cache=3600)",
            )


def _partition_restriction(pipeline: Pipeline, node: AnyNode) -> str | None:
    if node.cache is not False:
        return "a partitioned step cannot be cached yet; remove cache= or partitions="
    if pipeline.step_config(node).incremental_cursor() is not None:
        return (
            "an incremental source cannot be partitioned (its mark is one value per step); "
            "remove the cursor or partitions="
        )
    return None


def _check_partitions(pipeline: Pipeline) -> None:
    references = {
        node.name: {
            field
            for text in _config_strings(pipeline.step_config(node).model_dump(mode="json"))
            for field in PARTITION_REFERENCE.findall(text)
        }
        for node in pipeline.nodes()
    }
    check_partitions(
        pipeline.name,
        pipeline.graph(),
        {node.name: node.partitions for node in pipeline.nodes()},
        references,
        {n.name: _partition_restriction(pipeline, n) for n in pipeline.nodes() if n.partitions},
    )


def _check_schedule(pipeline: Pipeline) -> None:
    schedule = pipeline.schedule
    if schedule is None:
        return
    from croniter import croniter

    if not schedule.cron:
        raise DefinitionError(
            pipeline.name, None, "schedule.cron", "no cron expression; give at least one"
        )
    for index, expression in enumerate(schedule.cron):
        if len(expression.split()) != 5:
            problem = f"{expression!r} is not a 5-field cron expression, e.g. '0 2 * * *'"
        elif not croniter.is_valid(expression):
            problem = (
                f"{expression!r} is not a valid cron expression: {_cron_field_problem(expression)}"
                "; e.g. '0 2 * * *'"
            )
        else:
            continue
        raise DefinitionError(pipeline.name, None, f"schedule.cron[{index}]", problem)
    try:
        ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DefinitionError(
            pipeline.name,
            None,
            "schedule.timezone",
            f"{schedule.timezone!r} is not an IANA timezone, e.g. 'Europe/Berlin' or 'UTC'",
        ) from None


def _cron_field_problem(expression: str) -> str:
    """Which of the 5 fields croniter refuses, so the user need not guess from the whole line.

    Each field is tried alone (the others ``*``); a number outside the field's range is
    named, any other refusal quotes the field.
    """
    from croniter import croniter

    fields = expression.split()
    for position, (name, low, high) in enumerate(_CRON_FIELDS):
        alone = ["*"] * 5
        alone[position] = fields[position]
        if croniter.is_valid(" ".join(alone)):
            continue
        values = [item.partition("/")[0] for item in fields[position].split(",")]
        for number in (int(n) for value in values for n in re.findall(r"\d+", value)):
            if not low <= number <= high:
                return f"{name} value {number} is out of range {low}-{high}"
        return f"{name} field {fields[position]!r} is not valid (values {low}-{high})"
    return "its fields do not combine into a valid schedule"


def _config_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _config_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _config_strings(item)


def _check_params(pipeline: Pipeline) -> None:
    for name in pipeline.params:
        if name in BUILTIN_PARAMS:
            raise DefinitionError(
                pipeline.name,
                None,
                "params",
                f"parameter {name!r} is built in; set Pipeline.{name} instead"
                if name == "store"
                else f"parameter {name!r} is built in; pass it at run time instead",
            )
        if not _PARAM_NAME.match(name):
            raise DefinitionError(
                pipeline.name,
                None,
                "params",
                f"parameter name {name!r} is not an identifier; use letters, digits and '_'",
            )
    for name, default in pipeline.params.items():
        if PARAM_REFERENCE.search(default):
            raise DefinitionError(
                pipeline.name,
                None,
                "params",
                f"the default of parameter {name!r} references another parameter, which Argo "
                "does not resolve reliably; write the value itself",
            )
    known = set(pipeline.parameter_defaults())
    for node in pipeline.nodes():
        for text in _config_strings(pipeline.step_config(node).model_dump(mode="json")):
            for ref in PARAM_REFERENCE.findall(text):
                if ref not in known:
                    raise DefinitionError(
                        pipeline.name,
                        node.name,
                        "config",
                        f"unknown parameter {ref!r} in {{{{workflow.parameters.{ref}}}}}; "
                        f"known: {', '.join(sorted(known))}; declare it in Pipeline.params",
                    )
    for node in pipeline.nodes():
        _check_sql_parameters(pipeline, node)


_QUOTED_PARAM = re.compile(r"""(['"])""" + PARAM_REFERENCE.pattern + r"\1")


def _check_sql_parameters(pipeline: Pipeline, node: AnyNode) -> None:
    """A parameter in SQL arrives as a quoted string literal: quoting it again is a mistake.

    The step fills ``param(x)`` in as ``'value'`` so that no value can change the
    statement; ``'{param("x")}'`` would become ``''value''``.
    """
    from steps.runtime.parameters import sql_texts

    config = pipeline.step_config(node)
    for path, text in sql_texts(config.model_dump(mode="json"), config.SQL_FIELDS):
        quoted = _QUOTED_PARAM.search(text)
        if quoted:
            name = quoted.group(2)
            raise DefinitionError(
                pipeline.name,
                node.name,
                path,
                f"parameter {name!r} is quoted in SQL; the step passes it as a quoted string "
                f"literal already, so write {{{{workflow.parameters.{name}}}}} without quotes, "
                f"e.g. cast({{{{workflow.parameters.{name}}}}} as date)",
            )


def _check_labels(pipeline: Pipeline) -> None:
    for key, value in pipeline.labels.items():
        if not _LABEL_KEY.match(key) or len(key.rpartition("/")[2]) > 63:
            raise DefinitionError(
                pipeline.name, None, "labels", f"{key!r} is not a valid Kubernetes label key"
            )
        if not _LABEL_VALUE.match(value) or len(value) > 63:
            raise DefinitionError(
                pipeline.name,
                None,
                "labels",
                f"value {value!r} of label {key!r} is not a valid Kubernetes label value",
            )
