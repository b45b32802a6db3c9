"""``ferry list``: the pipelines Ferry finds, with their steps and schedule."""

import click

from workflows.cli.options import pipelines_option


@click.command("list")
@pipelines_option
def list_pipelines(paths: tuple[str, ...]) -> None:
    """List pipelines: name, schedule, and each step as name (kind) <- inputs.

    An invalid pipeline is listed with its definition error; the command then
    exits 2.

    \b
    Example:
      ferry list --pipelines workflows.pipelines
      ferry list --pipelines my_pipelines/
    """  # noqa: D301 (click needs a real \b)
    from workflows.discovery import load_pipelines
    from workflows.errors import DefinitionError, UsageError
    from workflows.render.plan import plan_steps
    from workflows.triggers import AfterPipeline, check_dependency_triggers
    from workflows.validation import definition_warnings, validate_pipeline

    pipelines = load_pipelines(list(paths) if paths else None)
    check_dependency_triggers(pipelines)
    invalid = 0
    for name, pipeline in sorted(pipelines.items()):
        schedule = pipeline.schedule
        when = "unscheduled"
        if schedule is not None:
            when = f"{', '.join(schedule.cron)} {schedule.timezone}"
            when += ", suspended" if schedule.suspend else ""
        after = [t.pipeline for t in pipeline.triggers if isinstance(t, AfterPipeline)]
        when += f", after {', '.join(after)}" if after else ""
        click.echo(f"{name}  [{when}]")
        try:
            validate_pipeline(pipeline)
        except DefinitionError as err:
            invalid += 1
            click.echo(f"  invalid: {err}")
            continue
        for step in plan_steps(pipeline):
            inputs = f" <- {', '.join(step.inputs)}" if step.inputs else ""
            click.echo(f"  {step.name} ({step.kind}){inputs}")
        for warning in definition_warnings(pipeline):
            click.echo(f"  warning: {warning}")
    if invalid:
        raise UsageError(f"{invalid} of {len(pipelines)} pipelines are invalid (listed above)")
