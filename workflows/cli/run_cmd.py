"""``ferry run``: render a pipeline's Workflow and execute that manifest locally."""

from pathlib import Path
from typing import Any

import click

from workflows.cli.options import echo_run, pipelines_option, store_option
from workflows.errors import RunFailed, UsageError


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
) -> tuple[dict[str, Any], str, list[Path]]:
    """The Workflow to run, how to name it, and the folders its steps import from."""
    if (pipeline is None) == (manifest is None):
        raise UsageError("name a PIPELINE or pass --manifest FILE (one of the two)")
    if manifest is not None:
        if paths:
            raise UsageError(
                "--pipelines has no effect with --manifest (the manifest is already "
                "rendered); drop --pipelines, or name a PIPELINE instead of --manifest"
            )
        from workflows.runner import load_manifest_file

        return load_manifest_file(manifest), str(manifest), []
    from workflows.discovery import find_pipeline
    from workflows.render import render_pipeline

    assert pipeline is not None
    found = find_pipeline(pipeline, list(paths) if paths else None)
    return render_pipeline(found.pipeline).workflow, pipeline, [found.folder]


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
    help="table: summary table on stdout; json: the run record as JSON on stdout.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Run every step, cached ones too, and write no cache entries (FERRY_NO_CACHE=1).",
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
) -> None:
    """Run a pipeline on this machine by executing its rendered Workflow manifest.

    The pipeline is validated and rendered to the same Workflow that `argo submit`
    gets; that manifest is then executed: each step a `python -m steps` subprocess,
    in dependency order, independent steps in parallel, with the manifest's retries
    and deadlines. Anything in the manifest the local runner cannot honour is
    refused up front. Progress goes to stderr; the run record to
    STORE/runs/<pipeline>/<run-id>/run.json. Ctrl-C or SIGTERM stops the running
    steps and records the run as Failed; a store that fills up mid-run stops it too.
    One run of a pipeline at a time per local store. Exit 0 succeeded, 1 failed or
    stopped, 2 bad usage (nothing started).

    \b
    Example:
      ferry run orders-daily --pipelines workflows.pipelines -p run_date=2026-11-01
      ferry run orders-daily --pipelines my_pipelines/ --store s3://ferry/dev --output json
      ferry run --manifest rendered/orders-daily/workflow.yaml
      ferry run orders-daily --pipelines workflows.pipelines --no-cache
    """  # noqa: D301 (click needs a real \b)
    from workflows.runner import RunStatus, run_manifest

    values = parse_parameters(params)
    document, source, python_path = _manifest_for(pipeline, manifest, paths)
    record = run_manifest(
        document,
        store=store,
        parameters=values,
        parallelism=parallelism,
        source=source,
        python_path=python_path,
        no_cache=no_cache,
    )
    echo_run(record, output)
    if record.status is not RunStatus.SUCCEEDED:
        outcome = record.status.value.lower()
        raise RunFailed(f"run {record.run_id} of {record.pipeline} {outcome}: {record.message}")
