"""``ferry render``: write the Argo manifests of pipelines to a folder."""

from pathlib import Path

import click

from workflows.cli.options import pipelines_option


@click.command("render")
@click.argument("names", nargs=-1, metavar="[PIPELINE]...")
@pipelines_option
@click.option(
    "--out",
    "out_dir",
    default="rendered",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write <pipeline>/*.yaml into.",
)
def render(names: tuple[str, ...], paths: tuple[str, ...], out_dir: Path) -> None:
    """Validate pipelines and write their manifests: WorkflowTemplate, Workflow, CronWorkflow.

    Renders the named pipelines, or every pipeline found when none is named.
    Files go to OUT/<pipeline>/workflowtemplate.yaml, workflow.yaml and, for a
    scheduled pipeline, cronworkflow.yaml. Every selected pipeline is validated
    before any file is written, so an invalid one leaves OUT untouched. Output is
    deterministic: the same definition always gives the same bytes.

    \b
    Example:
      ferry render orders-daily --pipelines workflows.pipelines --out rendered
      ferry render --pipelines my_pipelines/ --out rendered
    """  # noqa: D301 (click needs a real \b)
    from workflows.discovery import get_pipeline, load_pipelines
    from workflows.render import render_pipelines, write_files
    from workflows.validation import definition_warnings

    search = list(paths) if paths else None
    found = load_pipelines(search)
    if names:
        pipelines = [get_pipeline(name, search) for name in names]
    else:
        pipelines = [p for _, p in sorted(found.items())]
    rendered = list(render_pipelines(found, [p.name for p in pipelines]).values())
    for pipeline in pipelines:
        for warning in definition_warnings(pipeline):
            click.echo(f"ferry: warning: pipeline {pipeline.name!r}: {warning}", err=True)
    for one in rendered:
        for path in write_files(one, out_dir):
            click.echo(str(path))
