"""``ferry submit``: run an installed pipeline on Argo Workflows."""

import os

import click

from workflows.cli.options import cluster_options, wait_options


@click.command("submit")
@click.argument("pipeline")
@click.option(
    "-p",
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="Workflow parameter (repeatable), e.g. -p run_date=2026-11-01.",
)
@cluster_options()
@click.option(
    "--wait",
    is_flag=True,
    help="Wait for the run to finish; exit 0 when it Succeeded, 1 when it Failed or Errored.",
)
@wait_options("With --wait: ", "give up after this many seconds (exit 1).")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the Workflow YAML and exit without contacting the cluster.",
)
@click.option(
    "--ui-url",
    envvar="FERRY_ARGO_UI_URL",
    help="Argo UI base URL; prints the run's link [env: FERRY_ARGO_UI_URL].",
)
def submit(
    pipeline: str,
    parameters: tuple[str, ...],
    namespace: str | None,
    wait: bool,
    timeout: float | None,
    poll_interval: float,
    dry_run: bool,
    context: str | None,
    kubeconfig: str | None,
    ui_url: str | None,
) -> None:
    """Run PIPELINE on the cluster from its installed WorkflowTemplate.

    Creates the same Workflow as `argo submit --from workflowtemplate/PIPELINE`
    (generateName PIPELINE-, a workflowTemplateRef, the workflow-template label the
    Argo UI groups by) through the Kubernetes API with your kubeconfig. Prints the
    workflow name (and its Argo UI link when --ui-url/FERRY_ARGO_UI_URL is set).

    \b
    Example:
      ferry submit orders-daily -n ferry-dev -p run_date=2026-11-01 --wait
      ferry submit customer-quality --dry-run
    """  # noqa: D301 - click needs the real \b to keep the example block unwrapped
    from workflows.submit import ArgoClient, build_workflow, parse_parameters, ui_link
    from workflows.submit.client import kubeconfig_namespace
    from workflows.submit.workflow import check_parameters

    pairs = parse_parameters(parameters)
    ns = namespace or kubeconfig_namespace(kubeconfig, context)
    workflow = build_workflow(pipeline, pairs, ns)
    if dry_run:
        import yaml

        click.echo(yaml.safe_dump(workflow, sort_keys=False), nl=False)
        return
    client = ArgoClient.from_kubeconfig(kubeconfig, context)
    check_parameters(
        client.get_workflow_template(ns, pipeline), pipeline, ns, [n for n, _ in pairs]
    )
    name = str(client.create_workflow(ns, workflow)["metadata"]["name"])
    click.echo(f"submitted workflow {name} in namespace {ns}")
    ui = ui_url or os.environ.get("FERRY_ARGO_UI_URL")
    if ui:
        click.echo(f"argo ui: {ui_link(ui, ns, name)}")
    if wait:
        _wait(client, ns, name, poll_interval, timeout)


def _wait(client: object, namespace: str, name: str, poll: float, timeout: float | None) -> None:
    from workflows.errors import RunFailed
    from workflows.submit import ArgoClient, wait_for_workflow

    assert isinstance(client, ArgoClient)

    def report(phase: str, message: str) -> None:
        click.echo(f"{name}: {phase}" + (f" ({message})" if message else ""))

    phase, message = wait_for_workflow(
        client, namespace, name, poll_seconds=poll, timeout_seconds=timeout, on_phase=report
    )
    if phase != "Succeeded":
        raise RunFailed(
            f"workflow {name!r} in namespace {namespace!r} ended {phase}"
            + (f": {message}" if message else "")
            + f"; see `argo get -n {namespace} {name}` and `argo logs -n {namespace} {name}`"
        )
