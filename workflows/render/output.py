"""Rendered documents: validate, build, serialise to stable YAML, write to files."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workflows.errors import UsageError
from workflows.pipeline import Pipeline
from workflows.render.alerts import alert_parts
from workflows.render.events import build_event_bindings
from workflows.render.exit_handler import ExitParts, dependency_trigger_parts
from workflows.render.manifests import (
    build_cron_workflow,
    build_workflow,
    build_workflow_template,
)
from workflows.triggers import AfterPipeline, check_dependency_triggers, dependents_of
from workflows.validation import validate_pipeline

HEADER = "# Rendered by `ferry render` from the pipeline definition; do not edit by hand.\n"

WORKFLOW_TEMPLATE_FILE = "workflowtemplate.yaml"
WORKFLOW_FILE = "workflow.yaml"
CRON_WORKFLOW_FILE = "cronworkflow.yaml"
EVENT_BINDING_FILE = "eventbinding.yaml"
"""The pipeline's WorkflowEventBindings, one YAML document per trigger."""


@dataclass(frozen=True)
class RenderedPipeline:
    """A pipeline's manifests: file name -> manifest dict."""

    pipeline: str
    documents: dict[str, dict[str, Any]]
    event_bindings: tuple[dict[str, Any], ...] = ()
    """WorkflowEventBindings, one per trigger; written together as ``eventbinding.yaml``."""

    @property
    def workflow(self) -> dict[str, Any]:
        """The self-contained Workflow (what ``ferry run`` and ``argo submit`` take)."""
        return self.documents[WORKFLOW_FILE]

    def files(self) -> dict[str, str]:
        """File name -> YAML text, exactly as written."""
        files = {name: to_yaml(doc) for name, doc in self.documents.items()}
        if self.event_bindings:
            files[EVENT_BINDING_FILE] = to_yaml_documents(self.event_bindings)
        return files


def to_yaml(document: dict[str, Any]) -> str:
    """Stable YAML: sorted keys, block style, no line wrapping, a do-not-edit header."""
    body = yaml.safe_dump(
        document,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )
    return HEADER + body


def to_yaml_documents(documents: tuple[dict[str, Any], ...]) -> str:
    """Several documents in one stable YAML text, each after a ``---`` line."""
    bodies = [to_yaml(doc).removeprefix(HEADER) for doc in documents]
    return HEADER + "".join(f"---\n{body}" for body in bodies)


def render_pipeline(
    pipeline: Pipeline, dependents: Sequence[tuple[str, AfterPipeline]] = ()
) -> RenderedPipeline:
    """Validate a pipeline and build its manifests; raise DefinitionError when invalid.

    Args:
        pipeline: the pipeline.
        dependents: (downstream pipeline, its trigger) of every pipeline that runs after
            this one; their triggers render into this pipeline's exit handler. Use
            :func:`render_pipelines` to find them among all pipelines.
    """
    validate_pipeline(pipeline)
    parts = _exit_parts(pipeline, dependents)
    documents = {
        WORKFLOW_TEMPLATE_FILE: build_workflow_template(pipeline, parts),
        WORKFLOW_FILE: build_workflow(pipeline, parts),
    }
    cron = build_cron_workflow(pipeline)
    if cron is not None:
        documents[CRON_WORKFLOW_FILE] = cron
    return RenderedPipeline(
        pipeline=pipeline.name,
        documents=documents,
        event_bindings=tuple(build_event_bindings(pipeline)),
    )


def _exit_parts(pipeline: Pipeline, dependents: Sequence[tuple[str, AfterPipeline]]) -> ExitParts:
    triggers = dependency_trigger_parts(pipeline, list(dependents))
    alerts = alert_parts(pipeline)
    return ExitParts(
        tasks=triggers.tasks + alerts.tasks,
        templates=triggers.templates + alerts.templates,
        hooks={**triggers.hooks, **alerts.hooks},
    )


def render_pipelines(
    pipelines: Mapping[str, Pipeline], names: Iterable[str] | None = None
) -> dict[str, RenderedPipeline]:
    """Check the dependency triggers of all pipelines, render the named ones (or all).

    The triggers of every pipeline are needed to render one: an ``AfterPipeline``
    renders into its upstream's exit handler.

    Raises:
        DefinitionError: a rendered pipeline is invalid, a trigger names an unknown
            upstream or parameter, or the triggers form a cycle.
    """
    check_dependency_triggers(pipelines)
    selected = sorted(pipelines) if names is None else list(names)
    return {
        name: render_pipeline(pipelines[name], dependents_of(name, pipelines)) for name in selected
    }


def write_rendered(pipeline: Pipeline, out_dir: str | Path) -> list[Path]:
    """Render a pipeline into ``<out_dir>/<pipeline>/``; return the files written."""
    return write_files(render_pipeline(pipeline), out_dir)


def write_files(rendered: RenderedPipeline, out_dir: str | Path) -> list[Path]:
    """Write already rendered manifests into ``<out_dir>/<pipeline>/``; return the files.

    Taking rendered (so validated) pipelines lets a caller validate every pipeline
    before writing any file. Files of a previous render that the pipeline no longer
    produces (e.g. the CronWorkflow after its schedule was removed) are deleted, so
    the folder always matches the definition.

    Raises:
        UsageError: the folder cannot be created or written (exit 2).
    """
    folder = Path(out_dir) / rendered.pipeline
    try:
        return _write_folder(rendered, folder)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise UsageError(
            f"cannot write rendered manifests to folder {str(folder)!r}: {reason}; "
            "pass --out a folder you can write to"
        ) from None


def _write_folder(rendered: RenderedPipeline, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(rendered.files().items()):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    files = rendered.files()
    for stale in (WORKFLOW_TEMPLATE_FILE, WORKFLOW_FILE, CRON_WORKFLOW_FILE, EVENT_BINDING_FILE):
        if stale not in files:
            (folder / stale).unlink(missing_ok=True)
    return written
