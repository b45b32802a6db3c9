"""Rendering partitioned steps: a fan-out template per step and the steps that list partitions.

A partitioned step becomes three things in the manifest:

- its container template, taking each item field it uses as an input parameter
  (``partition_key``, ``partition_path``, ...) and passing it to the step as
  ``FERRY_PARAM_partition_<field>``, so an item value never enters ``--config`` as text;
- a DAG template ``<step>-each`` with Argo ``parallelism`` (a template field: a DAG
  task has none) whose one task expands the items with ``withItems`` (an explicit
  list) or ``withParam`` (the ``partitions`` output of the listing step);
- for partitions listed at run time, a ``<step>-partitions`` task running the
  ``partitions`` step kind.

Each partition writes its own artifact under ``<artifact>/partitions/<key>``; a reader
of the whole step gets their union (``steps.runtime.artifacts``).
"""

import re
from dataclasses import dataclass

from hera.workflows import DAG, Container, Parameter, Task

from steps.contract import PARTITION_PARAMETER_PREFIX, PARTITIONS_FOLDER, PARTITIONS_OUTPUT
from steps.partitions.spec import AnyPartitionSpec, PartitionList, SameAs
from steps.runtime.parameters import placeholder
from workflows.partitions import PARTITION_REFERENCE, lister_name, origin_spec

FANOUT_SUFFIX = "-each"
"""Name suffix of the DAG template that fans a step out over its partitions."""

PARTITIONS_INPUT = "partitions"
"""Input parameter of a fan-out template: the JSON list its task expands."""

KEY_PARAMETER = PARTITION_PARAMETER_PREFIX + "key"
"""The input parameter every partition's container gets: the partition's key."""


@dataclass(frozen=True)
class FanOut:
    """How one step fans out: over which items, how many at a time, reading what."""

    items: tuple[dict[str, str], ...] | None
    """The items of an explicit list (``withItems``); None: listed at run time."""
    lister: str | None
    """The task whose ``partitions`` output lists the items (``withParam``)."""
    parallelism: int
    fields: tuple[str, ...]
    """The item fields the step gets, ``key`` first."""
    partitionwise: tuple[str, ...]
    """Inputs read partition by partition (a same-as chain) instead of as a union."""

    @property
    def parameters(self) -> list[str]:
        """The container template's input parameters, one per item field."""
        return [PARTITION_PARAMETER_PREFIX + field for field in self.fields]


def fill_partition_placeholders(config_json: str) -> tuple[str, list[str]]:
    """``config_json`` with ``{{item.F}}`` as ``${param:partition_F}``, and the fields F."""
    used: list[str] = []

    def to_placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in used:
            used.append(match.group(1))
        return placeholder(PARTITION_PARAMETER_PREFIX + match.group(1))

    return PARTITION_REFERENCE.sub(to_placeholder, config_json), sorted(used)


def plan_fanout(
    specs: dict[str, AnyPartitionSpec | None], step: str, fields: list[str]
) -> FanOut | None:
    """The fan-out of ``step``, or None when it is not partitioned."""
    found = origin_spec(specs, step)
    spec = specs.get(step)
    if found is None or spec is None:
        return None
    origin, origin_of = found
    items = None
    if isinstance(origin_of, PartitionList):
        items = tuple({"key": v, "value": v} for v in origin_of.values)
    partitionwise = (spec.step,) if isinstance(spec, SameAs) else ()
    return FanOut(
        items=items,
        lister=None if items is not None else lister_name(origin),
        parallelism=spec.parallelism,
        fields=("key", *(f for f in fields if f != "key")),
        partitionwise=partitionwise,
    )


def partition_suffix() -> str:
    """What a partition's artifact URI adds to its step's: ``/partitions/<key>``."""
    return f"/{PARTITIONS_FOLDER}/{{{{inputs.parameters.{KEY_PARAMETER}}}}}"


def items_reference(fanout: FanOut) -> str:
    """The fan-out template's ``partitions`` argument: the lister's output (``withParam``)."""
    return "{{tasks." + str(fanout.lister) + ".outputs.parameters." + PARTITIONS_OUTPUT + "}}"


def item_arguments(fanout: FanOut) -> dict[str, str]:
    """The expanded task's arguments: each container input from its item field."""
    return {PARTITION_PARAMETER_PREFIX + field: "{{item." + field + "}}" for field in fanout.fields}


def fanout_template(step: str, fanout: FanOut, container: Container) -> DAG:
    """The DAG template ``<step>-each``: one task expanded over the items, ``parallelism`` bound."""
    expanded = Task(
        name=step,
        template=container,
        arguments=[Parameter(name=k, value=v) for k, v in item_arguments(fanout).items()],
        with_items=list(fanout.items) if fanout.items is not None else None,
        with_param=None if fanout.items is not None else "{{inputs.parameters.partitions}}",
    )
    inputs = [] if fanout.items is not None else [Parameter(name=PARTITIONS_INPUT)]
    return DAG(
        name=step + FANOUT_SUFFIX,
        inputs=inputs or None,
        parallelism=fanout.parallelism,
        tasks=[expanded],
    )


def fanout_task(step: str, fanout: FanOut, template: DAG, dependencies: list[str]) -> Task:
    """The main DAG's task of a partitioned step: it runs the step's fan-out template."""
    arguments = (
        []
        if fanout.items is not None
        else [Parameter(name=PARTITIONS_INPUT, value=items_reference(fanout))]
    )
    return Task(
        name=step,
        template=template,
        arguments=arguments or None,
        dependencies=dependencies or None,
    )
