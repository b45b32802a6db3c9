"""``ferry run``: render a pipeline's Workflow and execute that manifest locally."""

from pathlib import Path
from typing import TYPE_CHECKING

import click

from workflows.cli.options import echo_run, pipelines_option, store_option
from workflows.errors import RunFailed, UsageError

if TYPE_CHECKING:
    from workflows.runner.triggered import Resolve, TriggerTarget


def parse_parameters(items: tuple[str, ...]) -> dict[str, str]:
    """``-p name=value`` options as a dict; a usage error for anything else."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"-p {item!r}: expected name=value, e.g. -p run_date=2026-11-01")
        values[name] = value
    return values


def _manifest_for(
    pipeline: str | None, manifest: Path | None, paths: tuple[str, ...]
) -> tuple["TriggerTarget", "Resolve"]:
    """The Workflow to run (with its name and import folders) and how to find trigger targets."""
    from workflows.runner.triggered import TriggerTarget

    if (pipeline is None) == (manifest is None):
        raise UsageError("name a PIPELINE or pass --manifest FILE (one of the two)")
    if manifest is not None:
        if paths:
            raise UsageError(
                "--pipelines has no effect with --manifest (the manifest is already "
                "rendered); drop --pipelines, or name a PIPELINE instead of --manifest"
            )
        from workflows.runner import load_manifest_file

        target = TriggerTarget(load_manifest_file(manifest), str(manifest))
        return target, lambda name: _rendered_next_to(manifest, name)
    from workflows.discovery import find_pipeline, find_pipelines
    from workflows.render import render_pipelines

    assert pipeline is not None
    search = list(paths) if paths else None
    found = find_pipelines(search)
    find_pipeline(pipeline, search)  # the message naming close matches
    pipelines = {name: one.pipeline for name, one in found.items()}

    def resolve(name: str) -> TriggerTarget:
        if name not in found:
            raise UsageError(
                f"a dependency trigger starts pipeline {name!r}, which is not among the "
                "discovered pipelines; add its folder to --pipelines, or run with --no-triggers"
            )
        workflow = render_pipelines(pipelines, [name])[name].workflow
        return TriggerTarget(workflow, name, [found[name].folder])

    first = render_pipelines(pipelines, [pipeline])[pipeline].workflow
    return TriggerTarget(first, pipeline, [found[pipeline].folder]), resolve


def _rendered_next_to(manifest: Path, name: str) -> "TriggerTarget":
    """The WorkflowTemplate ``name`` as ``ferry render`` wrote it beside ``manifest``'s folder."""
    from workflows.render.output import WORKFLOW_TEMPLATE_FILE
    from workflows.runner import load_manifest_file
    from workflows.runner.triggered import TriggerTarget

    path = manifest.parent.parent / name / WORKFLOW_TEMPLATE_FILE
    if not path.is_file():
        raise UsageError(
            f"--manifest {manifest}: a dependency trigger creates a Workflow from "
            f"WorkflowTemplate {name!r}, but {path} does not exist; render that pipeline "
            "into the same folder, or run with --no-triggers"
        )
    return TriggerTarget(load_manifest_file(path), str(path))


@click.command("run")
@click.argument("pipeline", required=False)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a workflow parameter (repeatable); overrides the manifest's value.",
)
@store_option("Where artifacts, state and run records go; also the 'store' parameter.")
@click.option(
    "--parallelism",
    type=click.IntRange(min=1),
    default=None,
    help="Most steps at once (default: one per CPU, capped by spec.parallelism).",
)
@pipelines_option
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Run this rendered workflow.yaml (or workflowtemplate.yaml) instead of a pipeline.",
)
@click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: summary table on stdout (one per run, triggered runs too); json: the run "
    "record of this pipeline's run as one JSON document on stdout (a run it triggered is "
    "named by its trigger task's created_run and recorded in the store).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Run every step, cached ones too, and write no cache entries (FERRY_NO_CACHE=1).",
)
@click.option(
    "--no-triggers",
    is_flag=True,
    help="Run this pipeline alone: its dependency triggers (pipelines that run after it) "
    "are recorded Skipped.",
)
def run(
    pipeline: str | None,
    params: tuple[str, ...],
    store: str,
    parallelism: int | None,
    paths: tuple[str, ...],
    manifest: Path | None,
    output: str,
    no_cache: bool,
    no_triggers: bool,
) -> None:
    """Run a pipeline on this machine by executing its rendered Workflow manifest.

    The pipeline is validated and rendered to the same Workflow that `argo submit`
    gets; that manifest is then executed: each step a `python -m steps` subprocess,
    in dependency order, independent steps in parallel, with the manifest's retries
    and deadlines. Anything in the manifest the local runner cannot honour is
    refused up front. Progress goes to stderr; the run record to
    STORE/runs/<pipeline>/<run-id>/run.json. Ctrl-C or SIGTERM stops the running
    steps and records the run as Failed; a store that fills up mid-run stops it too.
    One run of a pipeline at a time per local store. The manifest's exit handler runs
    after the steps; a pipeline that runs after this one (a dependency trigger,
    AfterPipeline) runs next on the same store, recorded as its own run
    (`--no-triggers` skips it; with --manifest its workflowtemplate.yaml is taken
    from the folder beside the manifest's). Exit 0 every run succeeded, 1 a run
    failed or stopped, 2 bad usage (nothing started).

    \b
    Example:
      ferry run orders-daily --pipelines workflows.pipelines -p run_date=2026-11-01
      ferry run orders-daily --pipelines my_pipelines/ --store s3://ferry/dev --output json
      ferry run --manifest rendered/orders-daily/workflow.yaml
      ferry run orders-daily --pipelines workflows.pipelines --no-cache
      ferry run orders-daily --pipelines workflows.pipelines --no-triggers
    """  # noqa: D301 (click needs a real \b)
    from workflows.warmstart.starts import WARM_STARTS

    values = parse_parameters(params)
    # the fork server does the steps' imports on the other core while this process
    # imports the runner and renders the pipeline
    WARM_STARTS.want(1)
    try:
        from workflows.runner import RunStatus
        from workflows.runner.triggered import run_with_triggers

        first, resolve = _manifest_for(pipeline, manifest, paths)
        records = run_with_triggers(
            first.manifest,
            source=first.source,
            resolve=None if no_triggers else resolve,
            parameters=values,
            python_path=first.python_path,
            store=store,
            parallelism=parallelism,
            no_cache=no_cache,
        )
    finally:
        WARM_STARTS.close()
    echo_run(records[0], output)
    if output != "json":
        for triggered in records[1:]:
            echo_run(triggered, output)
    for record in records:
        if record.status is not RunStatus.SUCCEEDED:
            outcome = record.status.value.lower()
            raise RunFailed(f"run {record.run_id} of {record.pipeline} {outcome}: {record.message}")
