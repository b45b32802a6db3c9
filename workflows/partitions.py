"""Partition fan-out in a pipeline: the ``partition()`` reference and the definition checks.

A node with ``partitions=`` runs once per partition (``docs/pipelines.md``,
"Partitions"). Its config reads the partition through ``partition("field")``, which
is Argo's ``{{item.field}}``; the renderer turns it into a parameter placeholder, so an
item value never enters ``--config`` as text. The spec models themselves live in
``steps.partitions.spec``, shared with the step that lists partitions at run time.
"""

import re

from steps.partitions.spec import (
    AnyPartitionSpec,
    DateRange,
    FileGlob,
    FromStep,
    KeyRanges,
    PartitionList,
    SameAs,
)
from workflows.errors import DefinitionError
from workflows.graph import downstream_of

__all__ = [
    "DateRange",
    "FileGlob",
    "FromStep",
    "KeyRanges",
    "PartitionList",
    "SameAs",
    "partition",
]

PARTITION_REFERENCE = re.compile(r"\{\{\s*item\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
"""What :func:`partition` writes, ``{{item.FIELD}}``; group 1 is the field."""

LISTER_SUFFIX = "-partitions"
"""A step partitioned over a run-time list gets a step ``<name>-partitions`` listing it."""


def partition(field: str) -> str:
    """The reference to a field of the current partition, for use inside any config string.

    ``key`` names the partition; the other fields depend on the partitioning:
    ``value`` (PartitionList, FromStep), ``path`` (FileGlob), ``start``/``end``
    (DateRange), ``lower``/``upper`` (KeyRanges).

    Example:
        >>> partition("path")
        '{{item.path}}'
    """
    return "{{item." + field + "}}"


def lister_name(step: str) -> str:
    """The name of the step that lists ``step``'s partitions at run time."""
    return step + LISTER_SUFFIX


def origin_spec(
    specs: dict[str, AnyPartitionSpec | None], step: str
) -> tuple[str, AnyPartitionSpec] | None:
    """The step whose partitioning ``step`` follows (itself unless same-as), with its spec."""
    seen = {step}
    spec = specs.get(step)
    while isinstance(spec, SameAs):
        step = spec.step
        if step in seen:
            return None
        seen.add(step)
        spec = specs.get(step)
    return None if spec is None else (step, spec)


def item_fields(spec: AnyPartitionSpec) -> tuple[str, ...]:
    """The fields ``partition()`` may name under ``spec`` (an origin, not a same-as)."""
    return ("key", *spec.FIELDS)


def check_partitions(
    pipeline: str,
    graph: dict[str, list[str]],
    specs: dict[str, AnyPartitionSpec | None],
    references: dict[str, set[str]],
    restrictions: dict[str, str | None],
) -> None:
    """Check every node's ``partitions`` against the graph; DefinitionError on the first problem.

    Args:
        pipeline: the pipeline's name, for messages.
        graph: step -> the steps it reads.
        specs: step -> its ``partitions`` (None: not partitioned).
        references: step -> the item fields its config uses through ``partition()``.
        restrictions: step -> why it cannot be partitioned (caching, a cursor), or None.
    """
    for step, spec in specs.items():
        if spec is not None:
            _check_spec(pipeline, graph, specs, step, spec, restrictions.get(step))
    for step, fields in references.items():
        found = origin_spec(specs, step)
        if found is None:
            if fields:
                raise DefinitionError(
                    pipeline,
                    step,
                    "config",
                    f"uses partition({sorted(fields)[0]!r}) but the step is not partitioned; "
                    "set partitions= or remove the reference",
                )
            continue
        allowed = item_fields(found[1])
        unknown = sorted(fields - set(allowed))
        if unknown:
            raise DefinitionError(
                pipeline,
                step,
                "config",
                f"partition({unknown[0]!r}) is not a field of {found[1].kind!r} partitions; "
                f"use one of {', '.join(allowed)}",
            )


def _check_spec(
    pipeline: str,
    graph: dict[str, list[str]],
    specs: dict[str, AnyPartitionSpec | None],
    step: str,
    spec: AnyPartitionSpec,
    restriction: str | None,
) -> None:
    if restriction:
        raise DefinitionError(pipeline, step, "partitions", restriction)
    if spec.LISTED_AT_RUN_TIME and lister_name(step) in graph:
        raise DefinitionError(
            pipeline,
            lister_name(step),
            "name",
            f"step name {lister_name(step)!r} is taken by the step listing {step!r}'s "
            "partitions; rename one of them",
        )
    if isinstance(spec, SameAs):
        if spec.step not in graph[step]:
            inputs = ", ".join(graph[step]) or "none"
            raise DefinitionError(
                pipeline,
                step,
                "partitions.step",
                f"same-as {spec.step!r} must be one of the step's inputs ({inputs})",
            )
        if origin_spec(specs, spec.step) is None:
            raise DefinitionError(
                pipeline,
                step,
                "partitions.step",
                f"same-as {spec.step!r}, which is not partitioned; partition {spec.step!r} "
                "or partition this step on its own",
            )
    if isinstance(spec, FromStep):
        if spec.step not in graph:
            raise DefinitionError(
                pipeline, step, "partitions.step", f"from-step {spec.step!r} is not a step"
            )
        if spec.step == step or spec.step in downstream_of(graph, [step]):
            raise DefinitionError(
                pipeline,
                step,
                "partitions.step",
                f"from-step {spec.step!r} runs after this step; name a step upstream of it",
            )
