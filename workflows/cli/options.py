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


def store_option(help_text: str) -> "Decorator":
    """``--store DIR|s3://BUCKET/PREFIX`` (default ``.ferry``), with the command's own help."""
    return click.option(
        "--store",
        default=".ferry",
        show_default=True,
        metavar="DIR|s3://BUCKET/PREFIX",
        help=help_text,
    )


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _helped(when: str, text: str) -> str:
    """``text`` after the ``when`` prefix, or as a sentence of its own without one."""
    return f"{when}{text}" if when else text[0].upper() + text[1:]


def cluster_options(when: str = "") -> Decorator:
    """``-n/--namespace``, ``--context`` and ``--kubeconfig``: which cluster, and where.

    ``when`` starts each help text (``"With --submit: "``) for a command that reaches
    the cluster only with that flag.
    """

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(
            [
                click.option(
                    "-n",
                    "--namespace",
                    help=_helped(
                        when,
                        "namespace of the WorkflowTemplate [default: the context's namespace, "
                        "else default].",
                    ),
                ),
                click.option(
                    "--context", help=_helped(when, "kubeconfig context [default: current].")
                ),
                click.option(
                    "--kubeconfig",
                    type=click.Path(dir_okay=False),
                    help=_helped(
                        when, "kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]."
                    ),
                ),
            ]
        ):
            command = option(command)
        return command

    return apply


def wait_options(when: str, timeout_help: str) -> Decorator:
    """``--poll-interval`` (5 s) and ``--timeout``: how a command watches a Workflow run."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--timeout", type=click.FloatRange(min=1), help=f"{when}{timeout_help}"
        )(command)
        return click.option(
            "--poll-interval",
            type=click.FloatRange(min=0.01),
            default=5.0,
            show_default=True,
            help=f"{when}seconds between status reads of a running Workflow.",
        )(command)

    return apply


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
