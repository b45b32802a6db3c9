"""A run's folder in the store: its record, the manifest it executed, its DAG, its artifacts.

A run folder holds ``run.json`` (the record), ``workflow.yaml`` (the manifest it
executed, whose DAG tasks and ``dependencies`` are the graph to draw) and
``logs/<task>.log``. A step's artifact (``_manifest.json`` with its data and
quarantine files, a checks step's ``report.json``) is where the manifest's
``--output`` argument for that task points.
"""

import re
from itertools import pairwise
from typing import Any

import yaml

from steps.runtime.store import Location, read_text
from workflows.runner.record import RunRecord, RunStatus, TaskRecord, abandoned_reason
from workflows.runner.run_store import MANIFEST_FILE, RUN_FILE, open_store

_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


class RunNotFound(LookupError):
    """No readable run record at the place named."""


def run_folder(store: Location, pipeline: str, run_id: str) -> Location:
    """The folder of run ``run_id`` of ``pipeline``."""
    return store.child("runs", pipeline, run_id)


def load_record(store: Location, pipeline: str, run_id: str) -> RunRecord:
    """The record of the run, ``Abandoned`` when it says ``Running`` but its runner is gone.

    Raises:
        RunNotFound: there is no such record, or it cannot be parsed.
    """
    loc = run_folder(store, pipeline, run_id).child(RUN_FILE)
    try:
        record = RunRecord.model_validate_json(read_text(loc))
    except FileNotFoundError:
        raise RunNotFound(f"no run {run_id!r} of pipeline {pipeline!r} in the store") from None
    except (OSError, ValueError) as err:
        first = " ".join(str(err).split())[:200]
        raise RunNotFound(f"{loc.uri}: cannot read the run record ({first})") from None
    reason = abandoned_reason(record)
    if reason is not None:
        record.status = RunStatus.ABANDONED
        record.message = reason
    return record


def load_manifest(store: Location, pipeline: str, run_id: str) -> dict[str, Any] | None:
    """The manifest the run executed, or None when the run kept none (or it is unreadable)."""
    loc = run_folder(store, pipeline, run_id).child(MANIFEST_FILE)
    try:
        manifest = yaml.safe_load(read_text(loc))
    except (OSError, yaml.YAMLError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _dag_tasks(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    spec = manifest.get("spec") or {}
    entry = spec.get("entrypoint")
    for template in spec.get("templates") or []:
        wanted = entry is None or (isinstance(template, dict) and template.get("name") == entry)
        if isinstance(template, dict) and "dag" in template and wanted:
            tasks = (template.get("dag") or {}).get("tasks") or []
            return [t for t in tasks if isinstance(t, dict) and "name" in t]
    return []


def _depends_names(expression: str, known: set[str]) -> list[str]:
    """Task names an Argo ``depends`` expression mentions (``a && (b.Failed || c)``)."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z]+)?", expression)
    names = [w.split(".")[0] for w in words]
    return list(dict.fromkeys(n for n in names if n in known))


def dag_graph(record: RunRecord, manifest: dict[str, Any] | None) -> dict[str, list[str]]:
    """Task name -> the tasks it waits for, from the manifest's DAG; the record's tasks.

    The record's tasks are the nodes: one the manifest does not name (or every task of
    a run without a manifest) gets no edges, and a manifest task the record lacks is
    left out.
    """
    graph: dict[str, list[str]] = {t.name: [] for t in record.tasks}
    for task in _dag_tasks(manifest) if manifest else []:
        name = str(task["name"])
        if name not in graph:
            continue
        deps = [str(d) for d in task.get("dependencies") or []]
        if isinstance(task.get("depends"), str):
            deps += _depends_names(task["depends"], set(graph))
        graph[name] = list(dict.fromkeys(d for d in deps if d in graph and d != name))
    return graph


def artifact_location(
    store: Location, record: RunRecord, task: TaskRecord, manifest: dict[str, Any] | None
) -> Location:
    """Where the task's artifact is: its template's ``--output``, else the default place.

    The default (``STORE/artifacts/<run-id>/<step>``) is where the renderer points every
    step; the manifest is asked first so a template that writes elsewhere is still found.
    """
    output = _output_argument(manifest, task.template) if manifest else None
    if output is not None:
        values = {f"workflow.parameters.{k}": v for k, v in record.parameters.items()}
        values["workflow.name"] = record.run_id
        resolved = _TEMPLATE_VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), output)
        if "{{" not in resolved:
            return open_store(resolved)
    return store.child("artifacts", record.run_id, task.name)


def _output_argument(manifest: dict[str, Any], template_name: str) -> str | None:
    for template in (manifest.get("spec") or {}).get("templates") or []:
        if isinstance(template, dict) and template.get("name") == template_name:
            args = (template.get("container") or {}).get("args") or []
            for flag, value in pairwise(args):
                if flag == "--output" and isinstance(value, str):
                    return value
    return None
