"""``ferry serve``: the local scheduler and event server over the rendered manifests."""

import click

from workflows.cli.options import store_option


@click.command("serve")
@click.option(
    "--pipelines",
    "pipelines",
    required=True,
    metavar="PKG_OR_DIR",
    help="The pipelines to serve: a dotted module, a folder or a .py/.yaml file.",
)
@store_option("Where runs, their records and the scheduler's state go.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8780,
    show_default=True,
    help="Port to listen on (0: any free port, printed on start).",
)
@click.option(
    "--token-env",
    metavar="NAME",
    default=None,
    help="Environment variable holding a bearer token every request but /healthz must "
    "send; required with a non-loopback --host.",
)
@click.option(
    "--catchup",
    type=click.Choice(["latest", "all", "none"]),
    default="latest",
    show_default=True,
    help="After downtime: latest runs the latest missed run (within startingDeadlineSeconds, "
    "as Argo does), all every missed interval, none nothing.",
)
@click.option(
    "--namespace",
    default="default",
    show_default=True,
    help="Namespace of the event endpoint's path whose events the bindings receive.",
)
@click.option(
    "--buckets",
    default="s3://",
    show_default=True,
    metavar="DIR|s3://",
    help="Where ObjectArrival buckets are: a folder with one sub-folder per bucket, or s3:// "
    "for the buckets at AWS_ENDPOINT_URL.",
)
@click.option(
    "--poll-seconds",
    type=click.FloatRange(1, 300),
    default=10.0,
    show_default=True,
    help="How often the ObjectArrival buckets are listed.",
)
@click.option(
    "--stop-seconds",
    type=click.FloatRange(1, 600),
    default=30.0,
    show_default=True,
    help="On stop (or Replace), how long a run has after SIGTERM before SIGKILL.",
)
def serve(
    pipelines: str,
    store: str,
    host: str,
    port: int,
    token_env: str | None,
    catchup: str,
    namespace: str,
    buckets: str,
    poll_seconds: float,
    stop_seconds: float,
) -> None:
    """Run the pipelines on their schedules and serve their event endpoint on this machine.

    Reads each pipeline's rendered CronWorkflow (schedules, timezone, concurrencyPolicy,
    startingDeadlineSeconds, suspend) and WorkflowEventBindings, and starts every run
    as `ferry run` in its own process, with run_date, interval_start and interval_end
    of the fire time. Serves POST /api/v1/events/{namespace}/{discriminator} as
    argo-server does, GET /metrics (as `ferry metrics`) and GET /healthz; lists the
    ObjectArrival buckets every --poll-seconds. State is kept in STORE/serve/, so a
    restart neither loses nor repeats a run. One JSON line per event on stderr.
    SIGTERM or Ctrl-C stops the running runs (recorded as stopped by SIGTERM), saves
    the state and exits 0; exit 2 for a bad option, pipeline, store or address.

    \b
    Example:
      ferry serve --pipelines workflows.pipelines --store .ferry
      ferry serve --pipelines my_pipelines/ --buckets data/buckets --poll-seconds 5
      FERRY_TOKEN=s3cret ferry serve --pipelines my_pipelines/ --host 0.0.0.0 \\
          --token-env FERRY_TOKEN --catchup all
    """  # noqa: D301 (click needs a real \b)
    from workflows.serve import ServeOptions
    from workflows.serve import serve as run_server

    run_server(
        ServeOptions(
            pipelines=pipelines,
            store=store,
            host=host,
            port=port,
            token_env=token_env,
            catchup=catchup,  # type: ignore[arg-type]
            namespace=namespace,
            buckets=buckets,
            poll_seconds=poll_seconds,
            stop_seconds=stop_seconds,
        )
    )
