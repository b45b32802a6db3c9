"""``ferry backfill``: one local run per data interval of a date range."""

import datetime as dt
import io
import json
import sys
from typing import TYPE_CHECKING

import click

from workflows.cli.options import cluster_options, pipelines_option, store_option, wait_options

if TYPE_CHECKING:
    from collections.abc import Mapping

    from workflows.backfill import Backfill, IntervalRun
    from workflows.runner import RunRecord
    from workflows.submit import ArgoClient


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        from workflows.errors import UsageError

        raise UsageError(f"{option} {value!r} is not a date; write YYYY-MM-DD") from None


@click.command("backfill")
@click.argument("pipeline")
@pipelines_option
@click.option("--from", "first", required=True, metavar="YYYY-MM-DD", help="First day (inclusive).")
@click.option("--to", "last", required=True, metavar="YYYY-MM-DD", help="Last day (inclusive).")
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Most interval runs at once.",
)
@click.option(
    "--reprocess",
    type=click.Choice(["none", "failed", "all"]),
    default="none",
    show_default=True,
    help="An interval that already has a run: none skips it, failed reruns it when its "
    "latest run did not succeed, all reruns it.",
)
@click.option("--reverse", is_flag=True, help="Newest interval first.")
@click.option("--dry-run", is_flag=True, help="Print the intervals and what would run; run none.")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a workflow parameter for every run (not run_date or the interval).",
)
@store_option("Store of the runs (and of the earlier runs --reprocess looks at).")
@click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: one row per interval; json: the same rows as a JSON list.",
)
@click.option(
    "--submit",
    is_flag=True,
    help="Run the intervals on the cluster: one Workflow each from the installed "
    "WorkflowTemplate (as ferry submit), at most --parallel unfinished at once; "
    "--reprocess reads the pipeline's earlier Workflows there.",
)
@cluster_options("With --submit: ")
@wait_options("With --submit: ", "give up on one interval's Workflow after this many seconds.")
def backfill(
    pipeline: str,
    paths: tuple[str, ...],
    first: str,
    last: str,
    parallel: int,
    reprocess: str,
    reverse: bool,
    dry_run: bool,
    params: tuple[str, ...],
    store: str,
    output: str,
    submit: bool,
    namespace: str | None,
    context: str | None,
    kubeconfig: str | None,
    poll_interval: float,
    timeout: float | None,
) -> None:
    """Run PIPELINE once per data interval from --from to --to, oldest first.

    Intervals follow the pipeline's schedule (one per fire time, read in its timezone;
    a pipeline without a schedule gets one per UTC day). Each run gets run_date,
    interval_start and interval_end. Incremental sources must read that window
    (Cursor(window_start=param('interval_start'), ...)): a backfill never moves a
    high-water mark. Exit 1 if any interval's run failed. With --submit the runs are
    Workflows on the cluster instead (--dry-run then prints them as YAML).

    \b
    Example:
      ferry backfill orders-daily --pipelines workflows.pipelines \\
          --from 2026-11-01 --to 2026-11-07 --parallel 2 --reprocess failed
      ferry backfill orders-daily --pipelines workflows.pipelines \\
          --from 2026-11-01 --to 2026-11-07 --submit -n ferry-prod --parallel 3
    """  # noqa: D301 (click needs a real \b)
    from rich.console import Console
    from rich.table import Table

    from workflows.backfill import execute_backfill, plan_backfill
    from workflows.cli.run_cmd import parse_parameters
    from workflows.discovery import find_pipeline
    from workflows.errors import RunFailed, UsageError
    from workflows.render import render_pipeline
    from workflows.runner import LiveView, list_runs, run_manifest
    from workflows.validation import validate_pipeline

    extra = parse_parameters(params)
    fixed = sorted({"run_date", "interval_start", "interval_end"} & set(extra))
    if fixed:
        raise UsageError(f"-p {fixed[0]}: a backfill sets it for each interval; drop it")
    found = find_pipeline(pipeline, list(paths) if paths else None)
    validate_pipeline(found.pipeline)
    cluster = (
        _Cluster.connect(pipeline, namespace, context, kubeconfig, list(extra))
        if submit and not (dry_run and reprocess == "all")
        else None
    )
    earlier: list[RunRecord] = []
    if reprocess != "all":
        earlier = cluster.runs() if cluster else list_runs(store, pipeline)
    plan = plan_backfill(
        found.pipeline,
        _day(first, "--from"),
        _day(last, "--to"),
        existing=earlier,
        reprocess=reprocess,  # type: ignore[arg-type]
        reverse=reverse,
    )
    err = Console(stderr=True, highlight=False)
    if submit and dry_run:
        from workflows.submit.client import kubeconfig_namespace

        if cluster is None:
            namespace = namespace or kubeconfig_namespace(kubeconfig, context)
        _print_workflows(plan, pipeline, cluster.namespace if cluster else str(namespace), extra)
        return
    if not dry_run:
        workflow = render_pipeline(found.pipeline).workflow

        def run_one(interval: "Mapping[str, str]") -> "RunRecord":
            if cluster is not None:
                return cluster.run({**extra, **interval}, poll_interval, timeout)
            return run_manifest(
                workflow,
                store=store,
                parameters={**extra, **interval},
                source=pipeline,
                python_path=[found.folder],
                view=LiveView(Console(file=io.StringIO())),
            )

        def done(item: "IntervalRun") -> None:
            run_id = item.record.run_id if item.record else "-"
            err.print(f"{item.interval.run_date} {item.status.lower()} ({run_id})", markup=False)

        execute_backfill(plan, run_one, parallel=parallel, on_done=done)
    rows = [r.as_json() for r in plan.runs]
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
    else:
        table = Table(title=f"backfill of {pipeline}: {first} .. {last}")
        for column in ("run_date", "interval_start", "interval_end", "action", "status", "run id"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                row["run_date"],
                row["interval_start"],
                row["interval_end"],
                row["action"],
                row["status"],
                row["run_id"] or row["earlier_run_id"] or "",
            )
        Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(table)
    if plan.failed:
        raise RunFailed(
            f"{len(plan.failed)} of {sum(r.action == 'run' for r in plan.runs)} interval runs "
            f"of {pipeline} did not succeed: "
            + ", ".join(f"{r.interval.run_date} ({r.status})" for r in plan.failed)
        )


class _Cluster:
    """Where ``--submit`` runs the intervals: one namespace of one cluster."""

    def __init__(self, client: "ArgoClient", namespace: str, pipeline: str) -> None:
        self.client = client
        self.namespace = namespace
        self.pipeline = pipeline

    @classmethod
    def connect(
        cls,
        pipeline: str,
        namespace: str | None,
        context: str | None,
        kubeconfig: str | None,
        extra: list[str],
    ) -> "_Cluster":
        """Connect, and check the installed template takes every parameter given."""
        from workflows.submit import ArgoClient
        from workflows.submit.client import kubeconfig_namespace
        from workflows.submit.workflow import check_parameters

        ns = namespace or kubeconfig_namespace(kubeconfig, context)
        client = ArgoClient.from_kubeconfig(kubeconfig, context)
        template = client.get_workflow_template(ns, pipeline)
        check_parameters(
            template, pipeline, ns, [*extra, "run_date", "interval_start", "interval_end"]
        )
        return cls(client, ns, pipeline)

    def runs(self) -> "list[RunRecord]":
        """The pipeline's earlier Workflows, newest first."""
        from workflows.submit.backfill import cluster_runs

        return cluster_runs(self.client, self.namespace, self.pipeline)

    def run(
        self, parameters: "Mapping[str, str]", poll: float, timeout: float | None
    ) -> "RunRecord":
        """Submit one interval's Workflow and wait for it."""
        from workflows.submit.backfill import submit_and_wait

        return submit_and_wait(
            self.client,
            self.namespace,
            self.pipeline,
            parameters,
            poll_seconds=poll,
            timeout_seconds=timeout,
        )


def _print_workflows(
    plan: "Backfill", pipeline: str, namespace: str, extra: "Mapping[str, str]"
) -> None:
    """``--submit --dry-run``: the Workflow of every interval to run, as YAML documents."""
    import yaml

    from workflows.submit.backfill import interval_workflow

    documents = [
        interval_workflow(pipeline, namespace, {**extra, **r.interval.parameters()})
        for r in plan.runs
        if r.action == "run"
    ]
    click.echo(yaml.safe_dump_all(documents, sort_keys=False), nl=False)
