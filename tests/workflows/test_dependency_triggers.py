"""Dependency triggers (AfterPipeline): checks across pipelines, the upstream's exit handler."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pipeline_fakes import minimal

from workflows import AfterPipeline, Pipeline
from workflows.cli import cli
from workflows.errors import DefinitionError
from workflows.render import render_pipelines, write_files
from workflows.validation import validate_pipeline

TOOL = Path(__file__).resolve().parents[3] / "shared" / "tools" / "argo-conformance"


def chain(**downstream: Any) -> dict[str, Pipeline]:
    fields = {"name": "report", "triggers": [AfterPipeline(pipeline="load")], **downstream}
    return {"load": minimal(name="load"), "report": minimal(**fields)}


def spec_of(pipelines: dict[str, Pipeline], name: str, file: str = "workflow.yaml") -> dict:
    return render_pipelines(pipelines, [name])[name].documents[file]["spec"]


def test_the_upstream_gets_an_exit_hook_creating_the_downstream_workflow() -> None:
    spec = spec_of(chain(params={"region": "eu"}), "load", "workflowtemplate.yaml")

    assert spec["hooks"] == {"exit": {"template": "exit-handler"}}
    templates = {t["name"]: t for t in spec["templates"]}
    assert templates["exit-handler"]["dag"]["tasks"] == [
        {
            "name": "trigger-report",
            "template": "trigger-report",
            "when": "{{workflow.status}} == Succeeded",
        }
    ]
    resource = templates["trigger-report"]["resource"]
    assert resource["action"] == "create"
    assert yaml.safe_load(resource["manifest"]) == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": "report-",
            "labels": {"app.kubernetes.io/part-of": "ferry", "ferry.dev/pipeline": "report"},
            "annotations": {"ferry.dev/triggered-by": "{{workflow.name}}"},
        },
        "spec": {
            "workflowTemplateRef": {"name": "report"},
            "arguments": {
                "parameters": [{"name": "run_date", "value": "{{workflow.parameters.run_date}}"}]
            },
        },
    }


def test_parameters_are_mapped_from_the_upstreams() -> None:
    pipelines = chain(
        params={"region": "eu"},
        triggers=[
            AfterPipeline(pipeline="load", parameters={"run_date": "run_date", "region": "zone"})
        ],
    )
    pipelines["load"] = minimal(name="load", params={"zone": "west"})

    spec = spec_of(pipelines, "load")

    manifest = yaml.safe_load(spec["templates"][-1]["resource"]["manifest"])
    assert manifest["spec"]["arguments"]["parameters"] == [
        {"name": "run_date", "value": "{{workflow.parameters.run_date}}"},
        {"name": "region", "value": "{{workflow.parameters.zone}}"},
    ]


def test_the_downstream_itself_renders_no_exit_handler_and_no_binding() -> None:
    rendered = render_pipelines(chain(), ["report"])["report"]

    assert "hooks" not in rendered.workflow["spec"]
    assert "eventbinding.yaml" not in rendered.files()


@pytest.mark.parametrize(
    ("pipelines", "message"),
    [
        (
            {"report": minimal(name="report", triggers=[AfterPipeline(pipeline="lod")])},
            "pipeline 'report', field 'triggers[0].pipeline': no pipeline named 'lod' among the "
            "discovered pipelines (known: none); name one of them or add it to --pipelines",
        ),
        (
            {
                "load": minimal(name="load"),
                "report": minimal(
                    name="report",
                    params={"region": ""},
                    triggers=[AfterPipeline(pipeline="load", parameters={"region": "zone"})],
                ),
            },
            "pipeline 'report', field 'triggers[0].parameters.region': pipeline 'load' has no "
            "parameter 'zone' to pass on; use one of run_date, interval_start, interval_end",
        ),
        (
            {
                "a": minimal(name="a", triggers=[AfterPipeline(pipeline="c")]),
                "b": minimal(name="b", triggers=[AfterPipeline(pipeline="a")]),
                "c": minimal(name="c", triggers=[AfterPipeline(pipeline="b")]),
            },
            "pipeline 'a', field 'triggers': dependency triggers form a cycle: a -> b -> c -> a; "
            "a run would start itself again, remove one of these triggers",
        ),
    ],
)
def test_bad_dependency_triggers_across_pipelines_are_refused(
    pipelines: dict[str, Pipeline], message: str
) -> None:
    with pytest.raises(DefinitionError) as caught:
        render_pipelines(pipelines)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("triggers", "message"),
    [
        (
            [AfterPipeline(pipeline="report")],
            "pipeline 'report', field 'triggers[0].pipeline': a pipeline cannot run after "
            "itself (a cycle); name another one",
        ),
        (
            [AfterPipeline(pipeline="load"), AfterPipeline(pipeline="load")],
            "pipeline 'report', field 'triggers[1].pipeline': pipeline 'load' is already named "
            "by triggers[0]; one trigger per upstream pipeline",
        ),
        (
            [AfterPipeline(pipeline="load", parameters={"store": "store"})],
            "pipeline 'report', field 'triggers[0].parameters.store': 'store' is the "
            "deployment's setting and is not passed between pipelines",
        ),
        (
            [AfterPipeline(pipeline="load", parameters={"day": "run_date"})],
            "pipeline 'report', field 'triggers[0].parameters.day': unknown parameter 'day'; a "
            "dependency trigger may set interval_end, interval_start, run_date (declare it in "
            "Pipeline.params)",
        ),
    ],
)
def test_bad_dependency_triggers_of_one_pipeline_are_refused(
    triggers: list[AfterPipeline], message: str
) -> None:
    with pytest.raises(DefinitionError) as caught:
        validate_pipeline(minimal(name="report", triggers=triggers))

    assert str(caught.value) == message


def test_yaml_definitions_declare_after_pipeline(tmp_path: Path) -> None:
    from workflows.discovery import load_pipelines

    (tmp_path / "load.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "load",
                "steps": [
                    {
                        "kind": "source",
                        "name": "orders",
                        "config": {"kind": "extract-files", "path": "in/*.csv", "format": "csv"},
                    },
                    {
                        "kind": "target",
                        "name": "out",
                        "input": "orders",
                        "config": {"kind": "load-parquet", "path": "out"},
                    },
                ],
            }
        )
    )
    report = yaml.safe_load((tmp_path / "load.yaml").read_text())
    report["name"] = "report"
    report["triggers"] = [{"kind": "after-pipeline", "pipeline": "load"}]
    (tmp_path / "report.yaml").write_text(yaml.safe_dump(report))

    pipelines = load_pipelines([str(tmp_path)])

    assert pipelines["report"].triggers == [AfterPipeline(pipeline="load")]
    assert "hooks" in spec_of(pipelines, "load")


def test_ferry_list_shows_the_upstream_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    folder = tmp_path / "pipes"
    folder.mkdir()
    (folder / "chain.py").write_text(
        "from workflows import AfterPipeline, FilesExtract, ParquetDatasetLoad, Pipeline, "
        "Source, Target\n"
        "def steps():\n"
        "    return [Source(name='o', config=FilesExtract(path='in/*.csv', format='csv')),\n"
        "            Target(name='t', input='o', config=ParquetDatasetLoad(path='out'))]\n"
        "load = Pipeline(name='load', steps=steps())\n"
        "report = Pipeline(name='report', steps=steps(), "
        "triggers=[AfterPipeline(pipeline='load')])\n"
    )

    listed = CliRunner().invoke(cli, ["list", "--pipelines", str(folder)])

    assert listed.exit_code == 0, listed.output
    assert "report  [unscheduled, after load]" in listed.output

    (folder / "chain.py").write_text(
        (folder / "chain.py").read_text().replace("pipeline='load'", "pipeline='lost'")
    )
    refused = CliRunner().invoke(cli, ["list", "--pipelines", str(folder)])
    assert isinstance(refused.exception, DefinitionError)
    assert refused.exception.exit_code == 2
    assert "field 'triggers[0].pipeline': no pipeline named 'lost'" in str(refused.exception)


@pytest.mark.skipif(not TOOL.is_file(), reason=f"{TOOL} is absent")
def test_the_rendered_chain_passes_argo_conformance(tmp_path: Path) -> None:
    for rendered in render_pipelines(chain()).values():
        write_files(rendered, tmp_path)

    result = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path)], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
