"""The shape of rendered manifests (docs/architecture.md, "Rendered manifests")."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pipeline_fakes import FakeExtract, FakeLoad, minimal

from steps.checks.config import NotNull
from workflows import (
    TTL,
    Checks,
    PodGC,
    Resources,
    RetryPolicy,
    Schedule,
    Source,
    Target,
    Transform,
)
from workflows.errors import DefinitionError
from workflows.render import render_pipeline, write_rendered
from workflows.render.manifests import is_local_default


def templates(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in doc["spec"]["templates"]}


def test_documents_of_an_unscheduled_pipeline() -> None:
    rendered = render_pipeline(minimal())
    assert sorted(rendered.documents) == ["workflow.yaml", "workflowtemplate.yaml"]
    assert rendered.workflow["kind"] == "Workflow"
    assert rendered.workflow["metadata"]["generateName"] == "p-"
    assert rendered.documents["workflowtemplate.yaml"]["metadata"]["name"] == "p"
    assert rendered.documents["workflowtemplate.yaml"]["spec"] == rendered.workflow["spec"]


def test_dag_has_one_task_per_step_with_dependencies() -> None:
    spec = render_pipeline(minimal()).workflow["spec"]
    assert spec["entrypoint"] == "main"
    main = spec["templates"][0]
    assert main["name"] == "main"
    assert main["dag"]["tasks"] == [
        {"name": "orders", "template": "orders"},
        {"name": "orders-checked", "template": "orders-checked", "dependencies": ["orders"]},
        {"name": "out", "template": "out", "dependencies": ["orders-checked"]},
    ]


def test_step_args_follow_the_step_command_line() -> None:
    tpl = templates(render_pipeline(minimal()).workflow)
    store = "{{workflow.parameters.store}}/artifacts/{{workflow.name}}"
    assert tpl["orders-checked"]["container"]["command"] == ["python", "-m", "steps"]
    assert tpl["orders-checked"]["container"]["args"] == [
        "check",
        "--pipeline", "p",
        "--step", "orders-checked",
        "--run-id", "{{workflow.name}}",
        "--store", "{{workflow.parameters.store}}",
        "--config",
        '{"rules":[{"rule":"not_null","column":"id"}],"threshold":0.95,"batch_size":131072,'
        '"severity":"error","profile_drift":2.0}',
        "--input", f"orders={store}/orders",
        "--output", f"{store}/orders-checked",
    ]  # fmt: skip
    load_args = tpl["out"]["container"]["args"]
    assert "--output" not in load_args
    assert load_args[-2:] == ["--input", f"orders-checked={store}/orders-checked"]


def test_config_is_compact_json_that_the_step_parses() -> None:
    from steps.checks.config import ChecksConfig

    args = templates(render_pipeline(minimal()).workflow)["orders-checked"]["container"]["args"]
    text = args[args.index("--config") + 1]
    assert text == json.dumps(json.loads(text), separators=(",", ":"))
    assert ChecksConfig.model_validate_json(text).threshold == 0.95


def test_config_keeps_the_order_of_mappings() -> None:
    from steps.extract.files.config import FilesExtract

    columns = {"z": "int64", "a": "string", "m": "float64"}
    source = Source(name="orders", config=FilesExtract(path="x.csv", format="csv", columns=columns))
    tpl = templates(render_pipeline(minimal(sources=[source], checks=[])).workflow)
    args = tpl["orders"]["container"]["args"]
    assert list(json.loads(args[args.index("--config") + 1])["columns"]) == ["z", "a", "m"]


def test_check_threshold_falls_back_to_the_pipeline_one() -> None:
    checks = [
        Checks(name="a", input="orders", rules=[NotNull(column="id")]),
        Checks(name="b", input="a", rules=[NotNull(column="id")], threshold=0.5),
    ]
    tpl = templates(render_pipeline(minimal(checks=checks, quality_threshold=0.8)).workflow)

    def threshold(step: str) -> float:
        args = tpl[step]["container"]["args"]
        return float(json.loads(args[args.index("--config") + 1])["threshold"])

    assert (threshold("a"), threshold("b")) == (0.8, 0.5)


def test_arguments_are_store_run_date_and_params() -> None:
    spec = render_pipeline(minimal(params={"data_dir": "data/demo"}, store="/tmp/s")).workflow[
        "spec"
    ]
    assert spec["arguments"]["parameters"] == [
        {"name": "store", "value": "/tmp/s"},
        {
            "name": "run_date",
            "value": "{{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}"
            "-{{workflow.creationTimestamp.d}}",
        },
        {"name": "interval_start", "value": ""},
        {"name": "interval_end", "value": ""},
        {"name": "data_dir", "value": "data/demo"},
    ]


def test_every_template_reports_row_counts_and_runs_hardened() -> None:
    for name, tpl in templates(render_pipeline(minimal()).workflow).items():
        if name == "main":
            continue
        assert tpl["outputs"]["parameters"] == [
            {"name": n, "valueFrom": {"path": f"/tmp/ferry/outputs/{n}", "default": default}}
            for n, default in (
                ("rows_in", "0"),
                ("rows_out", "0"),
                ("rows_rejected", "0"),
                ("quality_score", "0"),
                ("input_rows", "{}"),
                ("warning", ""),
                ("cached", ""),
            )
        ]
        container = tpl["container"]
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        assert container["volumeMounts"] == [{"mountPath": "/tmp", "name": "tmp"}]
        assert tpl["volumes"] == [{"emptyDir": {"sizeLimit": "8Gi"}, "name": "tmp"}]
        assert tpl["pendingTimeout"] == "15m"
        assert tpl["metadata"]["labels"] == {"ferry.dev/step": name}


def test_retry_resources_and_deadline_defaults_and_overrides() -> None:
    own_retry = RetryPolicy(limit=5, policy="OnFailure", backoff_duration="1s", backoff_factor=3)
    own_resources = Resources(
        cpu_request="1", memory_request="1Gi", cpu_limit="4", memory_limit="8Gi"
    )
    sources = [
        Source(
            name="orders",
            config=FakeExtract(path="in", columns=["id"]),
            retry=own_retry,
            resources=own_resources,
            active_deadline_seconds=60,
        )
    ]
    tpl = templates(
        render_pipeline(minimal(sources=sources, active_deadline_seconds=3600)).workflow
    )
    assert tpl["orders"]["retryStrategy"] == {
        "limit": 5,
        "retryPolicy": "OnFailure",
        "expression": "lastRetry.exitCode not in ['2', '3']",
        "backoff": {"duration": "1s", "factor": 3, "cap": "5m"},
    }
    assert tpl["orders"]["container"]["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi"},
        "limits": {"cpu": "4", "memory": "8Gi"},
    }
    assert tpl["orders"]["activeDeadlineSeconds"] == 60
    assert tpl["out"]["retryStrategy"] == {
        "limit": 2,
        "retryPolicy": "Always",
        "expression": "lastRetry.exitCode not in ['2', '3']",
        "backoff": {"duration": "10s", "factor": 2, "cap": "5m"},
    }
    # Sized by nobody: no resources on the template, the workflow's templateDefaults apply.
    assert "resources" not in tpl["out"]["container"]
    assert tpl["out"]["activeDeadlineSeconds"] == 3600


def test_backoff_has_a_cap_and_no_max_duration() -> None:
    # maxDuration is a wall-clock budget from the first attempt and Argo also sets it as
    # the retry pod's deadline, so a step longer than it got no retry or one killed early.
    for tpl in templates(render_pipeline(minimal()).workflow).values():
        if "retryStrategy" in tpl:
            assert "maxDuration" not in tpl["retryStrategy"]["backoff"]
            assert tpl["retryStrategy"]["backoff"]["cap"] == "5m"


def test_the_old_max_duration_field_names_its_successor() -> None:
    with pytest.raises(
        ValueError, match="has no field 'backoff_max_duration'; did you mean 'backoff_cap'"
    ):
        RetryPolicy.model_validate({"backoff_max_duration": "5m"})


def test_every_step_and_the_run_have_a_deadline_by_default() -> None:
    workflow = render_pipeline(minimal()).workflow
    assert workflow["spec"]["activeDeadlineSeconds"] == 12 * 3600
    for name, tpl in templates(workflow).items():
        if name != "main":
            assert tpl["activeDeadlineSeconds"] == 3 * 3600


def test_run_deadline_pending_timeout_gc_and_ttl_are_set_per_pipeline() -> None:
    pipeline = minimal(
        run_deadline_seconds=600,
        pending_timeout="2m",
        pod_gc=PodGC(strategy="OnPodCompletion", delete_delay_duration="30s"),
        ttl=TTL(seconds_after_success=60, seconds_after_failure=3600),
    )
    for doc in (
        render_pipeline(pipeline).workflow,
        render_pipeline(pipeline).documents["workflowtemplate.yaml"],
    ):
        spec = doc["spec"]
        assert spec["activeDeadlineSeconds"] == 600
        assert spec["podGC"] == {"strategy": "OnPodCompletion", "deleteDelayDuration": "30s"}
        assert spec["ttlStrategy"] == {
            "secondsAfterSuccess": 60,
            "secondsAfterFailure": 3600,
            "secondsAfterCompletion": 3600,
        }
        assert {t.get("pendingTimeout") for t in spec["templates"] if "container" in t} == {"2m"}


def test_gc_and_ttl_defaults() -> None:
    spec = render_pipeline(minimal()).workflow["spec"]
    assert spec["podGC"] == {"strategy": "OnWorkflowSuccess", "deleteDelayDuration": "5m"}
    assert spec["ttlStrategy"] == {
        "secondsAfterSuccess": 86400,
        "secondsAfterFailure": 604800,
        "secondsAfterCompletion": 604800,
    }


def test_default_resources_are_template_defaults_and_explicit_ones_are_on_the_steps() -> None:
    spec = render_pipeline(minimal()).workflow["spec"]
    assert spec["templateDefaults"] == {
        "container": {
            "resources": {
                "requests": {"cpu": "250m", "memory": "512Mi", "ephemeral-storage": "1Gi"},
                "limits": {"cpu": "2", "memory": "2Gi"},
            }
        }
    }
    sized = render_pipeline(
        minimal(resources=Resources(memory_limit="3Gi", tmp_size_limit="20Gi"))
    ).workflow["spec"]
    assert "templateDefaults" not in sized
    for tpl in sized["templates"]:
        if "container" in tpl:
            assert tpl["container"]["resources"]["limits"]["memory"] == "3Gi"
            assert tpl["volumes"] == [{"emptyDir": {"sizeLimit": "20Gi"}, "name": "tmp"}]


def test_argo_init_and_wait_containers_get_a_restricted_security_context() -> None:
    spec = render_pipeline(minimal()).workflow["spec"]
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    patch = json.loads(spec["podSpecPatch"])
    restricted = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert patch == {
        "initContainers": [{"name": "init", "securityContext": restricted}],
        "containers": [{"name": "wait", "securityContext": restricted}],
    }


def test_s3_settings_and_config_secrets_come_from_references_only() -> None:
    sources = [Source(name="orders", config=FakeExtract(path="in", token_secret="orders-api"))]
    tpl = templates(render_pipeline(minimal(sources=sources, checks=[])).workflow)
    env = tpl["orders"]["container"]["env"]

    def ref(kind: str, name: str, key: str, optional: bool = True) -> dict[str, Any]:
        return {kind: {"name": name, "key": key, **({"optional": True} if optional else {})}}

    assert env == [
        {
            "name": "AWS_ACCESS_KEY_ID",
            "valueFrom": ref("secretKeyRef", "ferry-s3", "access-key-id"),
        },
        {
            "name": "AWS_SECRET_ACCESS_KEY",
            "valueFrom": ref("secretKeyRef", "ferry-s3", "secret-access-key"),
        },
        {"name": "AWS_ENDPOINT_URL", "valueFrom": ref("configMapKeyRef", "ferry-s3", "endpoint")},
        {"name": "AWS_REGION", "valueFrom": ref("configMapKeyRef", "ferry-s3", "region")},
        {"name": "FAKE_TOKEN", "valueFrom": ref("secretKeyRef", "orders-api", "token", False)},
    ]
    assert all("value" not in e for e in env)
    assert [e["name"] for e in tpl["out"]["container"]["env"]][-3:] == [
        "AWS_REGION",
        "FERRY_PARAM_interval_end",
        "FERRY_PARAM_interval_start",
    ]


def test_labels_on_resources_and_pods() -> None:
    rendered = render_pipeline(
        minimal(labels={"team": "data"}, schedule=Schedule(cron=["0 2 * * *"]))
    )
    expected = {
        "app.kubernetes.io/name": "ferry",
        "app.kubernetes.io/part-of": "ferry",
        "ferry.dev/pipeline": "p",
        "team": "data",
    }
    for doc in rendered.documents.values():
        assert doc["metadata"]["labels"] == expected
    assert rendered.workflow["spec"]["podMetadata"]["labels"] == expected
    assert rendered.workflow["spec"]["serviceAccountName"] == "ferry-workflow"
    cron = rendered.documents["cronworkflow.yaml"]
    assert cron["spec"]["workflowMetadata"]["labels"] == expected


def test_cron_workflow_runs_the_template_on_schedule() -> None:
    schedule = Schedule(
        cron=["0 2 * * *", "30 14 * * 1-5"],
        timezone="Europe/Berlin",
        concurrency_policy="Replace",
        suspend=True,
        starting_deadline_seconds=60,
        successful_history_limit=5,
        failed_history_limit=7,
    )
    cron = render_pipeline(minimal(schedule=schedule)).documents["cronworkflow.yaml"]
    assert cron["kind"] == "CronWorkflow"
    assert cron["metadata"]["name"] == "p"
    spec = dict(cron["spec"])
    spec.pop("workflowMetadata")
    assert spec == {
        "schedules": ["0 2 * * *", "30 14 * * 1-5"],
        "timezone": "Europe/Berlin",
        "concurrencyPolicy": "Replace",
        "suspend": True,
        "startingDeadlineSeconds": 60,
        "successfulJobsHistoryLimit": 5,
        "failedJobsHistoryLimit": 7,
        "workflowSpec": {"workflowTemplateRef": {"name": "p"}},
    }


def test_incremental_source_adds_commit_state_after_every_target() -> None:
    sources = [
        Source(name="orders", config=FakeExtract(path="in", cursor="updated_at")),
        Source(name="customers", config=FakeExtract(path="in")),
    ]
    targets = [
        Target(name="out-a", input="orders", config=FakeLoad(path="a")),
        Target(name="out-b", input="customers", config=FakeLoad(path="b")),
    ]
    workflow = render_pipeline(minimal(sources=sources, checks=[], targets=targets)).workflow
    tasks = {t["name"]: t for t in workflow["spec"]["templates"][0]["dag"]["tasks"]}
    assert tasks["commit-state"]["dependencies"] == ["out-a", "out-b"]
    args = templates(workflow)["commit-state"]["container"]["args"]
    assert args[0] == "commit-state"
    assert args[args.index("--config") + 1] == '{"sources":["orders"]}'
    assert args[args.index("--config") + 2 :] == [
        "--input",
        "orders={{workflow.parameters.store}}/artifacts/{{workflow.name}}/orders",
    ]


def test_no_commit_state_without_incremental_sources() -> None:
    assert "commit-state" not in templates(render_pipeline(minimal()).workflow)


def test_transform_reads_every_input() -> None:
    transform = Transform(
        name="t", inputs=["orders-checked", "orders"], sql="select 1 as x", memory_limit="2GB"
    )
    targets = [Target(name="out", input="t", config=FakeLoad(path="o"))]
    tpl = templates(render_pipeline(minimal(transform=transform, targets=targets)).workflow)
    args = tpl["t"]["container"]["args"]
    assert args[0] == "transform"
    config = json.loads(args[args.index("--config") + 1])
    assert (config["sql"], config["memory_limit"]) == ("select 1 as x", "2GB")
    inputs = [args[i + 1].split("=")[0] for i, a in enumerate(args) if a == "--input"]
    assert inputs == ["orders-checked", "orders"]


def test_render_validates_first() -> None:
    with pytest.raises(DefinitionError):
        render_pipeline(minimal(targets=[]))


def test_rendering_is_deterministic() -> None:
    assert render_pipeline(minimal()).files() == render_pipeline(minimal()).files()


def test_write_rendered_writes_yaml_and_removes_a_stale_cron(tmp_path: Path) -> None:
    scheduled = minimal(schedule=Schedule(cron=["0 2 * * *"]))
    written = write_rendered(scheduled, tmp_path)
    assert [p.name for p in written] == [
        "cronworkflow.yaml",
        "workflow.yaml",
        "workflowtemplate.yaml",
    ]
    assert yaml.safe_load(written[1].read_text()) == render_pipeline(scheduled).workflow
    assert [p.name for p in write_rendered(minimal(), tmp_path)] == [
        "workflow.yaml",
        "workflowtemplate.yaml",
    ]
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "workflow.yaml",
        "workflowtemplate.yaml",
    ]


@pytest.mark.parametrize(
    ("value", "local"),
    [
        ("data/demo", True),
        ("./in", True),
        ("/home/me/in", True),
        ("127.0.0.1:8765", True),
        ("http://localhost:9000/api", True),
        ("[::1]:5432", True),
        ("s3://bucket/demo", False),
        ("db.internal:5432", False),
        ("https://api.example.com/v1", False),
        ("500", False),
        ("{{workflow.parameters.store}}/in", False),
    ],
)
def test_local_only_defaults_are_recognised(value: str, local: bool) -> None:
    assert is_local_default(value) is local


def test_the_template_names_parameters_whose_default_only_works_locally() -> None:
    pipeline = minimal(params={"data_dir": "data/demo", "api": "127.0.0.1:8765", "n": "5"})
    rendered = render_pipeline(pipeline)
    annotations = rendered.documents["workflowtemplate.yaml"]["metadata"]["annotations"]
    assert annotations == {"ferry.dev/local-defaults": "data_dir,api"}
    assert (
        "annotations"
        not in render_pipeline(minimal()).documents["workflowtemplate.yaml"]["metadata"]
    )


def test_a_cached_step_gets_cache_or_cache_ttl_and_the_cached_output() -> None:
    checks = [Checks(name="orders-checked", input="orders", rules=[NotNull(column="id")], cache=90)]
    tpl = templates(render_pipeline(minimal(checks=checks)).workflow)
    assert tpl["orders-checked"]["container"]["args"][-2:] == ["--cache-ttl", "90"]
    assert "--cache" not in tpl["orders"]["container"]["args"]
    outputs = {p["name"]: p for p in tpl["out"]["outputs"]["parameters"]}
    assert outputs["cached"]["valueFrom"] == {
        "path": "/tmp/ferry/outputs/cached", "default": ""
    }  # fmt: skip
    rules = [NotNull(column="id")]
    checks = [Checks(name="orders-checked", input="orders", rules=rules, cache=True)]
    tpl = templates(render_pipeline(minimal(checks=checks)).workflow)
    assert tpl["orders-checked"]["container"]["args"][-1] == "--cache"
