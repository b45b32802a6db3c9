"""``withItems`` and ``withParam`` locally: parsing the fan-out, expanding it, folding it back.

As Argo does it (``workflow/controller/dag.go`` ``expandTask`` and ``operator.go``
``processItem``): a task with ``withItems`` or ``withParam`` becomes one child task
per item, named ``task(0:item)``; in the task, ``{{item}}`` is a string item itself,
a number or bool as text, an object or list as compact JSON, and ``{{item.field}}``
an object's field. A child's name shows the item: ``task(1:b)`` for a string,
``task(0:key:a,path:x)`` for an object (its ``field:value`` pairs, sorted). The task
may sit in a DAG template of its own with ``parallelism`` (a fan-out template, as the
renderer makes them), which bounds how many children run at once.

The task succeeds when every child did; its record holds one record per child, and
its row counts are theirs summed.
"""

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from workflows.runner import scopes
from workflows.runner.errors import Problems
from workflows.runner.manifest import ContainerTemplate, FanOut, Task
from workflows.runner.record import TaskRecord, TaskStatus
from workflows.runner.variables import substitute, tags

FAN_OUT_KEYS = ("withItems", "withParam")
"""The task fields that expand a task; ``withSequence`` is refused by the whitelist."""


class ExpansionError(Exception):
    """The items of a fanned-out task could not be worked out (e.g. withParam is no list)."""


def is_fan_out(raw_task: Mapping[str, Any]) -> bool:
    """Whether a DAG task expands over items."""
    return any(key in raw_task for key in FAN_OUT_KEYS)


def is_fan_out_template(template: Mapping[str, Any]) -> bool:
    """Whether a DAG template is a fan-out template: exactly one task, which expands."""
    tasks = (template.get("dag") or {}).get("tasks") or []
    return len(tasks) == 1 and is_fan_out(tasks[0])


def item_scope(raw_task: Mapping[str, Any]) -> frozenset[str]:
    """The ``item`` tags a fanned-out task uses (in scope only there); none for other tasks."""
    if not is_fan_out(raw_task):
        return frozenset()
    return frozenset(
        name for name in tags(json.dumps(raw_task)) if name == "item" or name.startswith("item.")
    )


def fan_out_of(
    raw_task: Mapping[str, Any],
    path: str,
    parallelism: int | None,
    group_inputs: dict[str, str],
    found: Problems,
) -> FanOut:
    """The :class:`FanOut` of a task with ``withItems`` or ``withParam`` (not both)."""
    if "withItems" in raw_task and "withParam" in raw_task:
        found.add(path, "has both withItems and withParam; use one")
    items = raw_task.get("withItems")
    if items is not None and not isinstance(items, list):
        found.add(f"{path}.withItems", "must be a list")
        items = []
    param = raw_task.get("withParam")
    if param is not None and not isinstance(param, str):
        found.add(f"{path}.withParam", "must be a string (a JSON list once filled in)")
        param = None
    return FanOut(
        items=None if items is None else tuple(items),
        with_param=param,
        parallelism=parallelism,
        group_inputs=group_inputs,
    )


def group_task(
    outer: Mapping[str, Any],
    group: Mapping[str, Any],
    path: str,
    group_path: str,
    containers: Mapping[str, ContainerTemplate],
    parameter_names: set[str],
    found: Problems,
) -> tuple[Mapping[str, Any], dict[str, str], int | None]:
    """Check a call of a fan-out template; its inner task, its input values, its parallelism."""
    inner = group["dag"]["tasks"][0]
    declared = [str(p.get("name")) for p in (group.get("inputs") or {}).get("parameters") or []]
    given = {
        str(p.get("name")): str(p.get("value", ""))
        for p in (outer.get("arguments") or {}).get("parameters") or []
    }
    for name in given:
        if name not in declared:
            found.add(f"{path}.arguments", f"template {group.get('name')!r} has no input {name!r}")
    for name in declared:
        if name not in given:
            found.add(
                path, f"input parameter {name!r} of template {group.get('name')!r} gets no value"
            )
    inner_path = f"{group_path}.dag.tasks[0]"
    for key in ("dependencies", "depends"):
        if key in inner:
            found.add(f"{inner_path}.{key}", "a fan-out template's one task has no dependencies")
    if inner.get("template") not in containers:
        found.add(f"{inner_path}.template", "must name a container template")
    scope = (
        scopes.workflow_scope(parameter_names)
        | {f"inputs.parameters.{name}" for name in declared}
        | item_scope(inner)
    )
    scopes.check_tags(dict(inner), inner_path, scope, found)
    parallelism = group.get("parallelism")
    return inner, given, int(parallelism) if isinstance(parallelism, int) else None


def _field_text(value: object) -> str:
    """A field of an object item as ``{{item.field}}`` renders it (Go's ``%v`` of an Item)."""
    if isinstance(value, str):
        return value
    return _json(value)


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def item_values(item: object) -> tuple[dict[str, str], str]:
    """The ``item`` tags of one item, and what its child's name shows of it."""
    if isinstance(item, dict):
        values = {f"item.{k}": _field_text(v) for k, v in item.items()}
        values["item"] = _json(item)
        described = ",".join(sorted(f"{k}:{_field_text(v)}" for k, v in item.items()))
        return values, described
    if isinstance(item, list):
        return {"item": _json(item)}, _json(item)
    if isinstance(item, bool):
        text = "true" if item else "false"
        return {"item": text}, text
    if isinstance(item, str):
        return {"item": item}, item
    if isinstance(item, int | float):
        return {"item": _json(item)}, _json(item)
    raise ExpansionError(f"item {item!r} is not a string, number, bool, list or object")


def child_name(task: str, index: int, described: str) -> str:
    """Argo's node name of item ``index``: ``task(index:item)``, parentheses dropped."""
    return f"{task}({index}:{described.replace('(', '').replace(')', '')})"


def expand(task: Task, values: Mapping[str, str]) -> list[tuple[Task, str]]:
    """The child tasks of a fanned-out task (with their item, as ``{{item}}``), in item order.

    Raises:
        ExpansionError: ``withParam`` is not a JSON list once filled in.
    """
    fanout = task.fanout
    assert fanout is not None
    scope = dict(values)
    scope.update(
        {f"inputs.parameters.{k}": substitute(v, values) for k, v in fanout.group_inputs.items()}
    )
    items: list[object] | tuple[object, ...] | None = fanout.items
    if items is None:
        text = substitute(fanout.with_param or "", scope)
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            short = " ".join(text.split())[:200]
            raise ExpansionError(f"withParam value could not be parsed as a JSON list: {short}")
        items = parsed
    children = []
    for index, item in enumerate(items):
        item_tags, described = item_values(item)
        arguments = {k: substitute(v, {**scope, **item_tags}) for k, v in task.arguments.items()}
        child = Task(child_name(task.name, index, described), task.template, (), arguments)
        children.append((child, item_tags["item"]))
    return children


class FanOuts:
    """The fanned-out tasks of a run whose partitions are not all done yet."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}
        self.parent_of: dict[str, str] = {}
        """Partition task name -> the fanned-out task it belongs to."""

    def expand(
        self,
        task: Task,
        parent: TaskRecord,
        values: Mapping[str, str],
        log_uri: Callable[[str], str],
    ) -> list[Task]:
        """Record ``task``'s partitions in ``parent``; the children that still have to run.

        Partitions ``parent`` already holds as succeeded (a resumed run) are kept.

        Raises:
            ExpansionError: the items could not be worked out.
        """
        children = expand(task, values)
        kept = {c.name: c for c in parent.partitions if c.status is TaskStatus.SUCCEEDED}
        parent.partitions = [
            kept.get(child.name)
            or TaskRecord(
                name=child.name, template=child.template, log=log_uri(child.name), item=item
            )
            for child, item in children
        ]
        self.tasks[task.name] = task
        todo = [child for child, _ in children if child.name not in kept]
        for child in todo:
            self.parent_of[child.name] = task.name
        return todo

    def room(self, running: set[str]) -> dict[str, int]:
        """Fanned-out task -> how many more of its partitions may start (its parallelism)."""
        room: dict[str, int] = {}
        for name, task in self.tasks.items():
            limit = task.fanout.parallelism if task.fanout else None
            if limit is not None:
                busy = sum(1 for c in running if self.parent_of.get(c) == name)
                room[name] = limit - busy
        return room

    def finished(self, pending: list[Task], running: set[str]) -> list[str]:
        """The fanned-out tasks none of whose partitions is pending or running, now forgotten."""
        outstanding = {self.parent_of[t.name] for t in pending if t.name in self.parent_of}
        outstanding |= {self.parent_of[n] for n in running if n in self.parent_of}
        done = [name for name in self.tasks if name not in outstanding]
        for name in done:
            del self.tasks[name]
        return done


def fold(parent: TaskRecord, now: datetime) -> None:
    """Set a fanned-out task's outcome and row counts from its partitions' records."""
    children = parent.partitions
    statuses = [c.status for c in children]
    if all(s is TaskStatus.SUCCEEDED for s in statuses):
        parent.status = TaskStatus.SUCCEEDED
    elif TaskStatus.ERROR in statuses and TaskStatus.FAILED not in statuses:
        parent.status = TaskStatus.ERROR
    else:
        parent.status = TaskStatus.FAILED
    parent.finished = now
    if parent.started:
        parent.duration_seconds = (now - parent.started).total_seconds()
    parent.attempts = sum(c.attempts for c in children)
    parent.rows_in = _sum([c.rows_in for c in children])
    parent.rows_out = _sum([c.rows_out for c in children])
    parent.rows_rejected = _sum([c.rows_rejected for c in children])
    passed, rejected = parent.rows_out or 0, parent.rows_rejected or 0
    parent.quality_score = passed / (passed + rejected) if passed + rejected else 1.0
    input_rows: dict[str, int] = {}
    for child in children:
        for name, count in child.input_rows.items():
            input_rows[name] = input_rows.get(name, 0) + count
    parent.input_rows = input_rows
    warnings = [f"{c.name}: {c.warning}" for c in children if c.warning]
    parent.warning = "; ".join(warnings) or None
    failed = next((c for c in children if c.status in (TaskStatus.FAILED, TaskStatus.ERROR)), None)
    parent.exit_code = failed.exit_code if failed else 0
    parent.reason = f"partition {failed.name}: {failed.reason}" if failed else None
    parent.not_retried = failed.not_retried if failed else None


def _sum(counts: list[int | None]) -> int | None:
    known = [c for c in counts if c is not None]
    return sum(known) if known else None
