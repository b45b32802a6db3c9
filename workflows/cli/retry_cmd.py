"""``ferry retry``: resume a failed local run under its own run id, as ``argo retry`` does."""

import click

from workflows.cli.options import echo_run, store_option


@click.command("retry")
@click.argument("run_id")
@click.option(
    "--from",
    "from_step",
    metavar="STEP",
    help="Also run STEP and everything downstream of it again (even if they succeeded).",
)
@store_option("The store the run was recorded in.")
@click.option(
    "--parallelism",
    type=click.IntRange(min=1),
    help="Most steps at once (default: one per CPU, capped by the manifest).",
)
@click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: the summary; json: the run record.",
)
def retry(
    run_id: str, from_step: str | None, store: str, parallelism: int | None, output: str
) -> None:
    """Run the failed steps of RUN_ID again, and what depends on them; keep the rest.

    The same run id, manifest and parameters as the first run: steps that succeeded
    keep their artifacts and do not run again; the failed, errored and omitted steps
    run, and with --from STEP also STEP and everything downstream of it. Loads stay
    idempotent (their ledger is keyed by the run id), and high-water marks move only
    once every target committed. On the cluster the same is `argo retry RUN_ID`.
    Exit 0 when the run now succeeded, 1 when it failed again, 2 for bad usage.

    \b
    Example:
      ferry retry orders-daily-7xk2p
      ferry retry orders-daily-7xk2p --from daily-revenue --store s3://ferry/dev
    """  # noqa: D301 (click needs a real \b)
    from workflows.errors import RunFailed
    from workflows.runner import RunStatus, run_manifest
    from workflows.runner.parse import build_plan
    from workflows.runner.resume import plan_resume
    from workflows.runner.run_store import load_run

    record, manifest = load_run(store, run_id)
    resume = plan_resume(record, build_plan(manifest, source=record.source), from_step)
    running = ", ".join(resume.rerun_label(name) for name in sorted(resume.rerun))
    keeping = ", ".join(t.name for t in record.tasks if t.name not in resume.rerun)
    click.echo(f"retrying {run_id}: running {running}; keeping {keeping or 'nothing'}", err=True)
    again = run_manifest(
        manifest,
        store=store,
        parallelism=parallelism,
        source=record.source,
        python_path=record.python_path,
        resume=resume,
    )
    echo_run(again, output)
    if again.status is not RunStatus.SUCCEEDED:
        raise RunFailed(f"run {run_id} of {again.pipeline} failed again: {again.message}")
