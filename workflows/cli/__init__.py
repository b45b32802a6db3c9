"""The ``ferry`` command: a click group over the documented Python API.

Each sub-command lives in its own module (``workflows/cli/<name>_cmd.py``) and is
imported only when it is called, so ``ferry --help`` stays fast.
"""

import importlib
import sys

import click

from workflows.errors import EXIT_USAGE, FerryError
from workflows.process_exit import exit_code, exit_now

_COMMANDS = {
    "list": ("workflows.cli.list_cmd:list_pipelines", "List the pipelines Ferry finds."),
    "render": ("workflows.cli.render_cmd:render", "Render pipelines to Argo manifests (YAML)."),
    "run": ("workflows.cli.run_cmd:run", "Run a pipeline's rendered Workflow on this machine."),
    "runs": ("workflows.cli.runs_cmd:runs", "List recorded local runs, newest first."),
    "metrics": (
        "workflows.cli.metrics_cmd:metrics",
        "Print the metrics of the local runs in Prometheus text format.",
    ),
    "retry": ("workflows.cli.retry_cmd:retry", "Resume a failed local run under its run id."),
    "backfill": (
        "workflows.cli.backfill_cmd:backfill",
        "Run a pipeline once per data interval of a date range.",
    ),
    "serve": (
        "workflows.cli.serve_cmd:serve",
        "Run pipelines on schedule and serve their event endpoint locally.",
    ),
    "submit": ("workflows.cli.submit_cmd:submit", "Submit a pipeline run to Argo on Kubernetes."),
    "schema": ("workflows.cli.schema_cmd:schema", "Print the JSON Schema of YAML pipelines."),
    "demo-data": ("workflows.cli.demo_data_cmd:demo_data", "Generate the demo input data."),
    "demo-api": ("workflows.cli.demo_api_cmd:demo_api", "Serve the demo orders HTTP API."),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Sub-command names in help order."""
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return the sub-command, or None for an unknown name."""
        if cmd_name not in _COMMANDS:
            return None
        module, _, attr = _COMMANDS[cmd_name][0].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List sub-commands from their stored summaries, importing none of them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, summary) in _COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ferry")
def cli() -> None:
    """Ferry: Python ETL pipelines rendered to Argo Workflows, runnable locally.

    Exit codes: 0 ok, 1 run failed, 2 bad usage or bad pipeline definition.

    \b
    Example:
      ferry run orders-daily --pipelines workflows.pipelines -p run_date=2026-11-01
    """  # noqa: D301 - click needs the real \b (backspace) marker


def main() -> None:
    """Run the group, turn Ferry errors into one line + exit code (raises SystemExit)."""
    try:
        sys.exit(cli.main(standalone_mode=False) or 0)
    except FerryError as err:
        click.echo(f"ferry: {err}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("ferry: aborted", err=True)
        sys.exit(EXIT_USAGE)


def console() -> None:
    """The installed ``ferry`` command: :func:`main`, then an exit without finalization.

    A run leaves pyarrow, pydantic and Hera loaded, whose teardown at exit would
    hold the command's return for 0.1-0.3 s (see ``workflows.process_exit``).
    """
    try:
        main()
    except SystemExit as stop:
        exit_now(exit_code(stop.code))
    exit_now(0)
