"""Event triggers: validation, the rendered WorkflowEventBinding, YAML definitions."""

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from pipeline_fakes import minimal

from workflows import EventTrigger, ObjectArrival
from workflows.discovery import load_pipelines
from workflows.errors import DefinitionError
from workflows.event_selector import evaluate, matches, parameter_value, parse
from workflows.render import render_pipeline, write_rendered
from workflows.validation import validate_pipeline

TOOL = Path(__file__).resolve().parents[3] / "shared" / "tools" / "argo-conformance"

DAILY = EventTrigger(
    discriminator="orders-ready",
    selector='payload.kind == "daily"',
    parameters={"run_date": "payload.date", "input_key": "payload.key"},
)
LANDING = ObjectArrival(
    bucket="landing", prefix="orders/", suffix=".csv", parameters={"input_key": "key"}
)


def bindings(**overrides: Any) -> list[dict[str, Any]]:
    pipeline = minimal(params={"input_key": ""}, **overrides)
    text = render_pipeline(pipeline).files()["eventbinding.yaml"]
    return list(yaml.safe_load_all(text))


def problem(*triggers: EventTrigger | ObjectArrival, **overrides: Any) -> str:
    fields = {"params": {"input_key": ""}, **overrides}
    with pytest.raises(DefinitionError) as info:
        validate_pipeline(minimal(triggers=list(triggers), **fields))
    return str(info.value)


def test_an_event_trigger_renders_a_binding_to_the_template() -> None:
    (binding,) = bindings(triggers=[DAILY])
    assert binding == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowEventBinding",
        "metadata": {
            "name": "p-orders-ready",
            "labels": {
                "app.kubernetes.io/name": "ferry",
                "app.kubernetes.io/part-of": "ferry",
                "ferry.dev/pipeline": "p",
            },
        },
        "spec": {
            "event": {"selector": 'discriminator == "orders-ready" && (payload.kind == "daily")'},
            "submit": {
                "workflowTemplateRef": {"name": "p"},
                "arguments": {
                    "parameters": [
                        {"name": "run_date", "valueFrom": {"event": "payload.date"}},
                        {"name": "input_key", "valueFrom": {"event": "payload.key"}},
                    ]
                },
            },
        },
    }


def test_without_a_selector_the_discriminator_alone_selects() -> None:
    (binding,) = bindings(triggers=[EventTrigger(discriminator="go")])
    assert binding["spec"] == {
        "event": {"selector": 'discriminator == "go"'},
        "submit": {"workflowTemplateRef": {"name": "p"}},
    }


def test_no_triggers_no_binding_file() -> None:
    assert "eventbinding.yaml" not in render_pipeline(minimal()).files()


def test_an_object_arrival_selects_minio_creations_under_the_prefix() -> None:
    (binding,) = bindings(triggers=[LANDING])
    spec = binding["spec"]
    assert binding["metadata"]["name"] == "p-landing"
    body = {
        "EventName": "s3:ObjectCreated:Put",
        "Key": "landing/orders/2024-05-01.csv",
        "Records": [{"s3": {"bucket": {"name": "landing"}, "object": {"key": "x", "size": 7}}}],
    }

    def env(**payload: Any) -> dict[str, Any]:
        return {"discriminator": "landing", "metadata": {}, "payload": {**body, **payload}}

    assert matches(spec["event"]["selector"], env())
    assert not matches(spec["event"]["selector"], env(Key="landing/customers/a.csv"))
    assert not matches(spec["event"]["selector"], env(Key="landing/orders/a.json"))
    assert not matches(spec["event"]["selector"], env(EventName="s3:ObjectRemoved:Delete"))
    assert not matches(spec["event"]["selector"], {**env(), "discriminator": "other"})
    (param,) = spec["submit"]["arguments"]["parameters"]
    assert param["name"] == "input_key"
    value = parameter_value(evaluate(parse(param["valueFrom"]["event"]), env()))
    assert value == "orders/2024-05-01.csv"


def test_every_object_field_evaluates_on_a_minio_body() -> None:
    fields = ("key", "bucket", "path", "size", "etag", "event_name", "event_time")
    trigger = ObjectArrival(bucket="a.b", parameters={f: f for f in fields})
    expressions = trigger.parameter_expressions()
    body = {
        "EventName": "s3:ObjectCreated:CompleteMultipartUpload",
        "Key": "a.b/x/y z.csv",
        "Records": [
            {
                "eventTime": "2024-05-01T02:00:00.000Z",
                "s3": {
                    "bucket": {"name": "a.b"},
                    "object": {"key": "x/y+z.csv", "size": 9, "eTag": "e1"},
                },
            }
        ],
    }
    env = {"payload": body, "metadata": {}, "discriminator": "a-b"}
    values = {n: parameter_value(evaluate(parse(e), env)) for n, e in expressions.items()}
    assert values == {
        "key": "x/y z.csv",
        "bucket": "a.b",
        "path": "a.b/x/y z.csv",
        "size": "9",
        "etag": "e1",
        "event_name": "s3:ObjectCreated:CompleteMultipartUpload",
        "event_time": "2024-05-01T02:00:00.000Z",
    }
    assert trigger.effective_discriminator() == "a-b"
    assert matches(trigger.event_selector(), env)


def test_several_triggers_are_documents_of_one_file_in_definition_order(tmp_path: Path) -> None:
    names = [b["metadata"]["name"] for b in bindings(triggers=[DAILY, LANDING])]
    assert names == ["p-orders-ready", "p-landing"]
    pipeline = minimal(params={"input_key": ""}, triggers=[DAILY, LANDING])
    write_rendered(pipeline, tmp_path)
    first = (tmp_path / "p" / "eventbinding.yaml").read_text()
    assert first == render_pipeline(pipeline).files()["eventbinding.yaml"]
    assert first.startswith("# Rendered by `ferry render`")
    write_rendered(minimal(params={"input_key": ""}), tmp_path)
    assert not (tmp_path / "p" / "eventbinding.yaml").exists()


@pytest.mark.skipif(not TOOL.is_file(), reason=f"{TOOL} is absent")
def test_rendered_bindings_conform_to_the_argo_crd(tmp_path: Path) -> None:
    pipeline = minimal(
        params={"input_key": ""},
        triggers=[DAILY, LANDING, EventTrigger(discriminator="bare")],
    )
    write_rendered(pipeline, tmp_path)
    result = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path / "p" / "eventbinding.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 Argo documents checked, 0 failing" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        (
            EventTrigger(discriminator="go", parameters={"input_kee": "payload.key"}),
            "field 'triggers[0].parameters.input_kee': unknown parameter 'input_kee'; an event "
            "may set input_key, interval_end, interval_start, run_date",
        ),
        (
            EventTrigger(discriminator="go", parameters={"store": "payload.store"}),
            "field 'triggers[0].parameters.store': 'store' is the deployment's setting",
        ),
        (
            EventTrigger(discriminator="Orders_Ready"),
            "field 'triggers[0].discriminator': discriminator 'Orders_Ready' is not a DNS label",
        ),
        (
            EventTrigger(discriminator="x" * 64),
            "is not a DNS label",
        ),
        (
            EventTrigger(discriminator="go", selector='payload.key startsWith "a"'),
            "field 'triggers[0].selector': 'payload.key startsWith \"a\"': the 'startsWith' "
            "operator (use hasPrefix(a, b)) is not in Ferry's subset",
        ),
        (
            EventTrigger(discriminator="go", parameters={"run_date": "now()"}),
            "field 'triggers[0].parameters.run_date': 'now()': function 'now' is not in "
            "Ferry's subset",
        ),
        (
            ObjectArrival(bucket="landing", parameters={"input_key": "name"}),
            "field 'triggers[0].parameters.input_key': 'name' is not an object field",
        ),
        (
            ObjectArrival(bucket="Landing_Zone"),
            "field 'triggers[0].bucket': discriminator 'Landing_Zone' is not a DNS label",
        ),
    ],
)
def test_bad_triggers_are_refused_naming_the_trigger(
    trigger: EventTrigger | ObjectArrival, message: str
) -> None:
    assert message in problem(trigger)


def test_a_repeated_discriminator_is_refused() -> None:
    message = problem(DAILY, ObjectArrival(bucket="b", discriminator="orders-ready"))
    assert "field 'triggers[1].discriminator'" in message
    assert "already used by triggers[0]" in message


def test_a_yaml_definition_takes_triggers_and_names_the_line(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        name: copy
        params: {input_key: ""}
        steps:
          - kind: source
            name: raw
            config: {kind: extract-files, path: "in/*.csv", format: csv}
          - kind: target
            name: out
            input: raw
            config: {kind: load-parquet, path: out}
        triggers:
          - kind: event
            discriminator: copy-now
            parameters: {run_date: payload.date}
          - kind: object-arrival
            bucket: landing
            prefix: in/
            parameters: {input_key: key}
        """
    )
    path = tmp_path / "copy.yaml"
    path.write_text(text)
    (pipeline,) = load_pipelines([str(path)]).values()
    assert [type(t) for t in pipeline.triggers] == [EventTrigger, ObjectArrival]
    assert len(bindings(triggers=pipeline.triggers)) == 2
    path.write_text(text.replace("{input_key: key}", "{input_kee: key}"))
    (broken,) = load_pipelines([str(path)]).values()
    with pytest.raises(DefinitionError) as info:
        validate_pipeline(broken)
    assert str(info.value).endswith(f"({path}:18)")
