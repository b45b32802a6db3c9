from pathlib import Path

import pytest
from runner_testkit import container, run, workflow

from workflows.errors import EXIT_USAGE, UsageError
from workflows.runner import ManifestRefused, run_manifest

PREFIX = "manifest: the local runner refuses this manifest: "


def refusal(manifest: dict, store: Path, marks: Path, **options: object) -> str:
    with pytest.raises(UsageError) as caught:
        run(manifest, store, marks, **options)  # type: ignore[arg-type]
    assert caught.value.exit_code == EXIT_USAGE
    assert not marks.exists(), "no task may start when a manifest is refused"
    return str(caught.value)


def test_unknown_fields_are_refused_by_path_all_at_once(store: Path, marks: Path) -> None:
    manifest = workflow([container("a")], artifactGC={"strategy": "OnWorkflowDeletion"})
    manifest["spec"]["templates"].append(
        {"name": "sh", "script": {"image": "alpine", "source": "ls"}}
    )
    manifest["spec"]["templates"][1]["container"]["workingDir"] = "/work"

    message = refusal(manifest, store, marks)

    assert message == PREFIX + "; ".join(
        [
            "spec.templates[1].container.workingDir: not supported by the local runner",
            "spec.templates[2].script: not supported by the local runner",
            "spec.artifactGC: not supported by the local runner",
        ]
    )


def test_a_command_other_than_python_m_steps_is_refused(store: Path, marks: Path) -> None:
    template = container("a")
    template["container"]["command"] = ["bash", "-c"]

    message = refusal(workflow([template]), store, marks)

    assert message == PREFIX + (
        "spec.templates[1].container.command: 'bash -c' is not supported by the local runner; "
        "it runs only 'python -m steps ...', the step image's command"
    )


def test_python_c_is_refused_unless_allowed(store: Path) -> None:
    with pytest.raises(ManifestRefused) as caught:
        run_manifest(workflow([container("a")]), store=str(store))

    assert caught.value.problems == [
        "spec.templates[1].container.command: 'python -c' is not supported by the local runner; "
        "it runs only 'python -m steps ...', the step image's command"
    ]


def test_unknown_variables_are_refused_where_they_appear(store: Path, marks: Path) -> None:
    manifest = workflow(
        [
            container("a", "--", "{{workflow.parameters.nope}}", outputs=("rows_in",)),
            container("b", "--", "{{inputs.parameters.x}}", "{{workflow.labels.team}}"),
            container("c"),
        ]
    )
    tasks = manifest["spec"]["templates"][0]["dag"]["tasks"]
    tasks[2]["arguments"] = {
        "parameters": [{"name": "x", "value": "{{tasks.a.outputs.parameters.rows_in}}"}]
    }
    manifest["spec"]["templates"][3]["inputs"] = {"parameters": [{"name": "x"}]}
    manifest["spec"]["arguments"]["parameters"].append(
        {"name": "when", "value": "{{=sprig.date()}}"}
    )

    message = refusal(manifest, store, marks)

    assert message == PREFIX + "; ".join(
        [
            "spec.arguments.parameters[3].value: unknown variable {{=sprig.date()}}",
            "spec.templates[1].container.args[7]: unknown variable {{workflow.parameters.nope}}",
            "spec.templates[2].container.args[7]: unknown variable {{inputs.parameters.x}}",
            "spec.templates[2].container.args[8]: unknown variable {{workflow.labels.team}}",
            # c does not depend on a, so a's outputs are not there when c starts.
            "spec.templates[0].dag.tasks[2].arguments.parameters[0].value: "
            "unknown variable {{tasks.a.outputs.parameters.rows_in}}",
        ]
    )


def test_expression_tags_are_refused(store: Path, marks: Path) -> None:
    message = refusal(workflow([container("a", "{{=workflow.name}}")]), store, marks)

    assert message == PREFIX + (
        "spec.templates[1].container.args[6]: expression tag {{=workflow.name}} "
        "is not supported by the local runner"
    )


def test_unknown_p_name_is_a_usage_error(store: Path, marks: Path) -> None:
    message = refusal(workflow([container("a")]), store, marks, parameters={"rundate": "x"})

    assert (
        message
        == "-p rundate: pipeline 'demo' has no parameter 'rundate'; known: store, run_date, marks"
    )


def test_p_store_is_refused_in_favour_of_store_option(store: Path, marks: Path) -> None:
    message = refusal(workflow([container("a")]), store, marks, parameters={"store": "/x"})

    assert message == "-p store: set the store with --store, not -p store=..."


def test_a_parameter_without_value_must_be_given(store: Path, marks: Path) -> None:
    message = refusal(workflow([container("a")], parameters=[{"name": "region"}]), store, marks)

    assert message == "parameter 'region' of pipeline 'demo' has no value; pass -p region=VALUE"


def test_a_value_outside_enum_is_refused(store: Path, marks: Path) -> None:
    manifest = workflow(
        [container("a")], parameters=[{"name": "mode", "value": "full", "enum": ["full", "delta"]}]
    )

    message = refusal(manifest, store, marks, parameters={"mode": "half"})

    assert message == "-p mode=half: not one of full, delta (pipeline 'demo')"


def test_a_secret_not_in_the_environment_is_refused(
    store: Path, marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDERS_API_TOKEN", raising=False)
    template = container("extract-orders")
    template["container"]["env"] = [
        {
            "name": "ORDERS_API_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "orders-api", "key": "token"}},
        }
    ]

    message = refusal(workflow([template]), store, marks)

    assert message == PREFIX + (
        "template extract-orders: env ORDERS_API_TOKEN (secret orders-api/token) is not set; "
        "export it to run locally"
    )


def test_outputs_volumes_and_mounts_outside_the_contract_are_refused(
    store: Path, marks: Path
) -> None:
    template = container("a", outputs=("rows_in",))
    template["outputs"]["parameters"][0]["valueFrom"]["path"] = "/var/out/rows_in"
    template["container"]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    manifest = workflow([template])
    manifest["spec"]["volumes"].append(
        {"name": "data", "persistentVolumeClaim": {"claimName": "x"}}
    )

    message = refusal(manifest, store, marks)

    assert (
        message
        == PREFIX + "spec.volumes[1].persistentVolumeClaim: not supported by the local runner"
    )
    del manifest["spec"]["volumes"][1]
    message = refusal(manifest, store, marks)
    assert message == PREFIX + "; ".join(
        [
            "spec.templates[1].outputs.parameters[0].valueFrom.path: '/var/out/rows_in' is not "
            "supported by the local runner; use a file under /tmp/ferry/outputs/",
            "spec.templates[1].container.volumeMounts[0].mountPath: '/data' is not supported "
            "by the local runner; only an emptyDir at /tmp",
        ]
    )


def test_dag_problems_are_refused(store: Path, marks: Path) -> None:
    manifest = workflow([container("a"), container("b"), container("c")], {"a": ["b"], "b": ["a"]})
    manifest["spec"]["templates"][0]["dag"]["tasks"][2]["depends"] = "a || b"

    message = refusal(manifest, store, marks)

    assert message == PREFIX + "; ".join(
        [
            "spec.templates[0].dag.tasks[2].depends: 'a || b' is not supported by the local "
            "runner; use 'a && b' of task names (each optionally .Succeeded)",
            "spec.templates[0].dag: tasks form a cycle: a -> b -> a; break it",
        ]
    )


def test_a_cycle_is_named_in_run_order(store: Path, marks: Path) -> None:
    manifest = workflow(
        [container("start"), container("a"), container("b"), container("c")],
        {"a": ["start", "c"], "b": ["a"], "c": ["b"]},
    )

    message = refusal(manifest, store, marks)

    assert message == (
        PREFIX + "spec.templates[0].dag: tasks form a cycle: a -> b -> c -> a; break it"
    )


def test_depends_with_and_is_honoured(store: Path, marks: Path) -> None:
    manifest = workflow([container("a"), container("b"), container("c")])
    manifest["spec"]["templates"][0]["dag"]["tasks"][2]["depends"] = "a.Succeeded && b"

    record, _ = run(manifest, store, marks, parallelism=3)

    ends = [float((marks / f"{n}.end").read_text()) for n in "ab"]
    assert float((marks / "c.start").read_text()) >= max(ends)
    assert record.status.value == "Succeeded"


def test_other_kinds_and_api_versions_are_refused(store: Path, marks: Path) -> None:
    manifest = workflow([container("a")])
    manifest["kind"] = "CronWorkflow"
    manifest["apiVersion"] = "argoproj.io/v1"

    message = refusal(manifest, store, marks)

    assert message == PREFIX + (
        "apiVersion: must be 'argoproj.io/v1alpha1'; "
        "kind: a CronWorkflow is run through its WorkflowTemplate; "
        "run the workflowtemplate.yaml (or workflow.yaml) rendered next to it instead"
    )


def test_a_kind_other_than_workflow_is_refused(store: Path, marks: Path) -> None:
    manifest = workflow([container("a")])
    manifest["kind"] = "Pod"

    message = refusal(manifest, store, marks)

    assert message == PREFIX + "kind: 'Pod' is not supported by the local runner; use Workflow"


def test_a_workflow_template_runs_like_argo_submit_from(store: Path, marks: Path) -> None:
    manifest = workflow([container("a")])
    manifest["kind"] = "WorkflowTemplate"
    manifest["metadata"] = {"name": "demo"}

    record, _ = run(manifest, store, marks)

    assert record.run_id.startswith("demo-") and len(record.run_id) == len("demo-") + 5
    assert record.status.value == "Succeeded"


def test_bad_parallelism_and_store_are_usage_errors(store: Path, marks: Path) -> None:
    assert (
        refusal(workflow([container("a")]), store, marks, parallelism=0)
        == "--parallelism 0: must be 1 or more"
    )
    message = refusal(workflow([container("a")]), "ftp://host/x", marks)
    assert message == (
        "--store: store location 'ftp://host/x' uses unsupported scheme 'ftp'; use a folder path or s3://"
    )


def test_metrics_are_accepted_and_their_variables_checked_in_argo_metric_scopes(
    store: Path, marks: Path
) -> None:
    def gauge(value: str) -> dict:
        return {
            "prometheus": [{"name": "m", "help": "h", "gauge": {"realtime": False, "value": value}}]
        }

    template = container("a")
    template["metrics"] = gauge("{{duration}} {{status}} {{outputs.parameters.nope}}")
    manifest = workflow([template])
    manifest["spec"]["metrics"] = gauge("{{workflow.duration}} {{workflow.status}} {{duration}}")

    message = refusal(manifest, store, marks)

    assert message == PREFIX + "; ".join(
        [
            "spec.templates[1].metrics.prometheus[0].gauge.value: "
            "unknown variable {{outputs.parameters.nope}}",
            "spec.metrics.prometheus[0].gauge.value: unknown variable {{duration}}",
        ]
    )


def test_the_pipelines_own_mutex_is_accepted_and_another_refused(store: Path, marks: Path) -> None:
    name = "ferry-demo{{workflow.parameters.interval_start}}"
    interval = [{"name": "interval_start", "value": ""}]
    own = workflow(
        [container("a")], parameters=interval, synchronization={"mutexes": [{"name": name}]}
    )
    assert run(own, store, marks)[0].status.value == "Succeeded"

    for other in ("nightly", "ferry-demo"):
        shared = workflow(
            [container("a")], parameters=interval, synchronization={"mutexes": [{"name": other}]}
        )
        message = refusal(shared, store, marks / other)

        assert message == PREFIX + (
            f"spec.synchronization.mutexes[0].name: {other!r} is not this pipeline's mutex "
            f"{name!r}; the local runner locks per pipeline (and interval) only, so drop it or "
            "render the pipeline again"
        )
