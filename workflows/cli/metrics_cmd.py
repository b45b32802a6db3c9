"""``ferry metrics``: print Ferry's metrics of the local runs once, in Prometheus text format."""

import click

from workflows.cli.options import store_option


@click.command("metrics")
@click.argument("pipeline", required=False)
@store_option("The store whose runs/ folder to read.")
def metrics(pipeline: str | None, store: str) -> None:
    """Print the metrics of the local runs (of PIPELINE, or of every pipeline) once.

    The Prometheus text exposition format, with the names the cluster's Argo
    controller emits (without its argo_workflows_ prefix): step rows, quality score
    and duration of each step's latest finished run, run duration of the latest
    finished run, failure and run counters over every run in the store, and the
    latest success's time. docs/monitoring.md lists them. A damaged run record is
    named on stderr and skipped.

    \b
    Example:
      ferry metrics
      ferry metrics orders-daily --store s3://ferry/dev
      ferry metrics > /var/lib/node_exporter/textfile/ferry.prom
    """  # noqa: D301 (click needs a real \b)
    from workflows.monitoring.metrics import exposition, samples
    from workflows.runner import read_runs

    listing = read_runs(store, pipeline)
    for problem in listing.damaged:
        click.echo(f"ferry: {problem}", err=True)
    click.echo(exposition(samples(listing.records)), nl=False)
