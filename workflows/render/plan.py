"""The step plan: a validated pipeline as the list of steps the workflow runs.

This is where pipeline nodes become step invocations: which kind, which config,
which inputs, whether it writes an artifact, which retry/resources/deadline apply,
and the ``commit-state`` step that incremental sources need. The manifest builders
only translate the plan to Hera objects.
"""

import json
import re
from dataclasses import dataclass

from steps.contract import PARTITIONS_OUTPUT
from steps.runtime.config import StepConfig
from steps.runtime.load_identity import INTERVAL_PARAMETERS
from steps.runtime.parameters import placeholder
from workflows.partitions import lister_name
from workflows.pipeline import (
    PARAM_REFERENCE,
    AnyNode,
    Pipeline,
    Resources,
    RetryPolicy,
    Source,
    Target,
)
from workflows.render.fanout import FanOut, fill_partition_placeholders, plan_fanout

COMMIT_STATE_STEP = "commit-state"
"""Name of the step that advances incremental high-water marks after all targets."""


@dataclass(frozen=True)
class PlannedStep:
    """One step of the workflow: one DAG task running one container template."""

    name: str
    kind: str
    config_json: str
    parameters: list[str]
    inputs: list[str]
    dependencies: list[str]
    writes_output: bool
    retry: RetryPolicy
    resources: Resources | None
    """The step's or the pipeline's own; None: the workflow's ``templateDefaults`` apply."""
    tmp_size_limit: str
    active_deadline_seconds: int
    config: StepConfig
    cache: bool | int = False
    """The node's ``cache``: True, a TTL in seconds, or False (not cached)."""
    schedule_json: str | None = None
    """The pipeline's schedule as JSON, for a step of a scheduled pipeline that uses the
    interval: it works the interval out from Argo's scheduled time
    (``steps.runtime.scheduled_interval``)."""
    fanout: FanOut | None = None
    """How the step fans out over its partitions; None: one task, one pod."""
    extra_outputs: tuple[str, ...] = ()
    """Output parameters besides those every step writes (``partitions`` of a lister)."""


def default_resources(pipeline: Pipeline) -> Resources:
    """What a step without its own resources gets: the pipeline's, else Ferry's defaults."""
    return pipeline.resources or Resources()


def config_json(config: StepConfig) -> tuple[str, list[str]]:
    """The ``--config`` value and the workflow parameters it uses.

    Each ``param(NAME)`` becomes the placeholder ``${param:NAME}``, which the step fills
    in from ``FERRY_PARAM_NAME`` after parsing the JSON (``steps.runtime.parameters``):
    Argo substitutes ``{{...}}`` as raw text, so a value spliced into the JSON could
    change its shape. The JSON is compact and stable across renders: keys in the
    model's field order and mappings in the order they were defined, not sorted,
    because some mappings are ordered on purpose (a CSV's declared ``columns``).
    """
    used: list[str] = []

    def to_placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in used:
            used.append(match.group(1))
        return placeholder(match.group(1))

    text = json.dumps(
        config.model_dump(mode="json", by_alias=True),
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return PARAM_REFERENCE.sub(to_placeholder, text), sorted(used)


def _planned(pipeline: Pipeline, node: AnyNode) -> PlannedStep:
    config = pipeline.step_config(node)
    inputs = node.upstream()
    text, parameters = config_json(config)
    if isinstance(node, Target):
        # An append is keyed by the run's data interval when it has one, so a target
        # always gets it (steps.runtime.load_identity).
        parameters = sorted({*parameters, *INTERVAL_PARAMETERS})
    text, fields = fill_partition_placeholders(text)
    fanout = plan_fanout({n.name: n.partitions for n in pipeline.nodes()}, node.name, fields)
    return PlannedStep(
        name=node.name,
        kind=config.KIND,
        config_json=text,
        parameters=parameters,
        schedule_json=_schedule_json(pipeline, parameters),
        inputs=inputs,
        dependencies=[*inputs, *([fanout.lister] if fanout and fanout.lister else [])],
        writes_output=not isinstance(node, Target),
        retry=node.retry or pipeline.retry,
        resources=node.resources or pipeline.resources,
        tmp_size_limit=(node.resources or default_resources(pipeline)).tmp_size_limit,
        active_deadline_seconds=(
            pipeline.active_deadline_seconds
            if node.active_deadline_seconds is None
            else node.active_deadline_seconds
        ),
        config=config,
        cache=node.cache,
        fanout=fanout,
    )


def _lister(pipeline: Pipeline, node: AnyNode) -> PlannedStep | None:
    """The step listing ``node``'s partitions at run time, or None for none such."""
    from steps.partitions.config import ListPartitions
    from steps.partitions.spec import FromStep

    spec = node.partitions
    if spec is None or not spec.LISTED_AT_RUN_TIME:
        return None
    config = ListPartitions.model_validate({"spec": spec.model_dump()})
    text, parameters = config_json(config)
    inputs = [spec.step] if isinstance(spec, FromStep) else []
    return PlannedStep(
        name=lister_name(node.name),
        kind=config.KIND,
        config_json=text,
        parameters=parameters,
        inputs=inputs,
        dependencies=inputs,
        writes_output=False,
        retry=node.retry or pipeline.retry,
        resources=pipeline.resources,
        tmp_size_limit=default_resources(pipeline).tmp_size_limit,
        active_deadline_seconds=pipeline.active_deadline_seconds,
        config=config,
        extra_outputs=(PARTITIONS_OUTPUT,),
    )


def _schedule_json(pipeline: Pipeline, parameters: list[str]) -> str | None:
    if pipeline.schedule is None or not set(parameters) & set(INTERVAL_PARAMETERS):
        return None
    schedule = {"cron": list(pipeline.schedule.cron), "timezone": pipeline.schedule.timezone}
    return json.dumps(schedule, separators=(",", ":"))


def _commit_state(pipeline: Pipeline, cursor_sources: list[str]) -> PlannedStep:
    from steps.state.config import CommitState

    config = CommitState(sources=cursor_sources)
    text, parameters = config_json(config)
    return PlannedStep(
        name=COMMIT_STATE_STEP,
        kind=config.KIND,
        config_json=text,
        parameters=parameters,
        inputs=cursor_sources,
        dependencies=[t.name for t in pipeline.of_kind(Target)],
        writes_output=False,
        retry=pipeline.retry,
        resources=pipeline.resources,
        tmp_size_limit=default_resources(pipeline).tmp_size_limit,
        active_deadline_seconds=pipeline.active_deadline_seconds,
        config=config,
    )


def plan_steps(pipeline: Pipeline) -> list[PlannedStep]:
    """Every step in definition order, plus ``commit-state`` when a source is incremental."""
    steps: list[PlannedStep] = []
    for node in pipeline.nodes():
        lister = _lister(pipeline, node)
        steps += [lister] if lister else []
        steps.append(_planned(pipeline, node))
    cursor_sources = [s.name for s in pipeline.of_kind(Source) if s.config.incremental_cursor()]
    if cursor_sources:
        steps.append(_commit_state(pipeline, cursor_sources))
    return steps
