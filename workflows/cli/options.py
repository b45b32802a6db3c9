"""Options several ``ferry`` commands share, defined once so they read the same."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from workflows.runner import RunRecord

pipelines_option = click.option(
    "--pipelines",
    "paths",
    multiple=True,
    metavar="PATH",
    help="Also search this .py file, folder or dotted module (repeatable; "
    "default: $FERRY_PIPELINES).",
)
"""``--pipelines PATH`` (repeatable), passed to the command as ``paths``."""


def store_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--store DIR|s3://BUCKET/PREFIX`` (default ``.ferry``), with the command's own help."""
    return click.option(
        "--store",
        default=".ferry",
        show_default=True,
        metavar="DIR|s3://BUCKET/PREFIX",
        help=help_text,
    )


def echo_run(record: "RunRecord", output: str) -> None:
    """A finished run on stdout: its summary table, or its record as JSON."""
    import sys

    from rich.console import Console

    from workflows.runner import summary_table

    if output == "json":
        click.echo(record.model_dump_json(indent=2))
    else:
        Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(
            summary_table(record)
        )
