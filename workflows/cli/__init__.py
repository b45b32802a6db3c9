"""The ``ferry`` command: a click group over the documented Python API.

Each sub-command lives in its own module (``workflows/cli/<name>_cmd.py``) and is
imported only when it is called, so ``ferry --help`` stays fast.
"""

import importlib
import sys

import click

from workflows.errors import EXIT_USAGE, FerryError

_COMMANDS = {
    "render": "workflows.cli.render_cmd:render",
    "run": "workflows.cli.run_cmd:run",
    "runs": "workflows.cli.runs_cmd:runs",
    "list": "workflows.cli.list_cmd:list_pipelines",
    "submit": "workflows.cli.submit_cmd:submit",
    "demo-data": "workflows.cli.demo_data_cmd:demo_data",
    "demo-api": "workflows.cli.demo_api_cmd:demo_api",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ferry")
def cli() -> None:
    """Ferry: Python ETL pipelines rendered to Argo Workflows, runnable locally.

    Exit codes: 0 ok, 1 run failed, 2 bad usage or bad pipeline definition.

    \b
    Example:
      ferry run orders-daily -p run_date=2026-11-01
    """


def main() -> None:
    """Console entry point: run the group, turn Ferry errors into one line + exit code."""
    try:
        cli.main(standalone_mode=False)
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
