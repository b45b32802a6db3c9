"""Options several ``ferry`` commands share, defined once so they read the same."""

import click

pipelines_option = click.option(
    "--pipelines",
    "paths",
    multiple=True,
    metavar="PATH",
    help="Also search this .py file, folder or dotted module (repeatable; "
    "default: $FERRY_PIPELINES).",
)
"""``--pipelines PATH`` (repeatable), passed to the command as ``paths``."""
