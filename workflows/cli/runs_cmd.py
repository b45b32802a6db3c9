"""``ferry runs``: list the runs recorded in a store, newest first."""

import sys

import click

from workflows.cli.options import store_option


@click.command("runs")
@click.argument("pipeline", required=False)
@store_option("The store whose runs/ folder to read.")
@click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: one row per run; json: the run records as a JSON list.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show at most this many runs.",
)
def runs(pipeline: str | None, store: str, output: str, limit: int) -> None:
    """List local runs (of PIPELINE, or of every pipeline), newest first.

    Reads the run records `ferry run` writes to STORE/runs/<pipeline>/<run-id>/run.json.
    A damaged record is named on stderr and skipped; the other runs are still listed.
    A Running record whose runner is gone (its pid ended on this host, or no heartbeat
    for 120 s) is listed as Abandoned.

    \b
    Example:
      ferry runs
      ferry runs orders-daily --limit 5
      ferry runs --store s3://ferry/dev --output json
    """  # noqa: D301 (click needs a real \b)
    import json

    from rich.console import Console
    from rich.table import Table

    from workflows.runner import TaskStatus, read_runs
    from workflows.runner.live import format_duration

    listing = read_runs(store, pipeline)
    for problem in listing.damaged:
        click.echo(f"ferry: {problem}", err=True)
    records = listing.records[:limit]
    if output == "json":
        click.echo(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
        return
    table = Table(title=f"runs in {store}")
    for column in ("run id", "pipeline", "status", "started (UTC)", "duration", "steps ok"):
        table.add_column(column)
    for record in records:
        ok = sum(t.status is TaskStatus.SUCCEEDED for t in record.tasks)
        table.add_row(
            record.run_id,
            record.pipeline,
            record.status.value,
            record.started.strftime("%Y-%m-%d %H:%M:%S"),
            format_duration(record.duration_seconds),
            f"{ok}/{len(record.tasks)}",
        )
    Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(table)
