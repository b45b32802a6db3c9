"""Test kit for the runner tests: the renderer's Workflow shape around a stand-in task.

Runner-logic tests cannot run real steps, so their containers are
``python -c <run tasks/task.py>``; everything else (parameters, env, resources,
volumes, outputs) has the rendered shape. The runner accepts only ``python -m steps``,
so :func:`run` adds ``python -c`` to ``workflows.runner.parse.ACCEPTED_COMMANDS`` for
the duration of the run; a test calling ``run_manifest`` directly gets the real rule.
"""

import copy
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from steps.contract import DEFAULT_OUTPUTS_DIR, PIPELINE_LABEL, STEP_LABEL
from workflows.runner import LiveView, RunRecord, parse, run_manifest

HERE = Path(__file__).resolve().parent
TASK_SCRIPT = HERE / "tasks" / "task.py"
LAUNCH = (
    "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)
RUN_DATE_DEFAULT = (
    "{{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}-"
    "{{workflow.creationTimestamp.d}}"
)
INLINE_PYTHON = ("python", "-c")
FERRY_ACCEPTING_INLINE_PYTHON = [
    sys.executable,
    "-c",
    "from workflows.runner import parse; "
    "parse.ACCEPTED_COMMANDS = (*parse.ACCEPTED_COMMANDS, ('python', '-c')); "
    "from workflows.cli import main; main()",
]
"""The ``ferry`` command as a subprocess, accepting the stand-in tasks' ``python -c``."""


def load_fixture(name: str) -> dict[str, Any]:
    return yaml.safe_load((HERE / "manifests" / name).read_text())


def container(
    name: str, *task_args: str, outputs: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    """A container template shaped like the renderer's, running the stand-in task."""
    template: dict[str, Any] = {
        "name": name,
        "container": {
            "image": "ghcr.io/ferry/step:test",
            "command": list(INLINE_PYTHON),
            "args": [
                LAUNCH,
                str(TASK_SCRIPT),
                "--marks",
                "{{workflow.parameters.marks}}",
                "--name",
                name,
                *task_args,
            ],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            "securityContext": {"readOnlyRootFilesystem": True, "runAsNonRoot": True},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        },
        "metadata": {"labels": {STEP_LABEL: name}},
    }
    if outputs:
        template["outputs"] = {
            "parameters": [
                {"name": o, "valueFrom": {"path": f"{DEFAULT_OUTPUTS_DIR}/{o}"}} for o in outputs
            ]
        }
    template.update(extra)
    return template


def workflow(
    templates: list[dict[str, Any]],
    dependencies: dict[str, list[str]] | None = None,
    *,
    pipeline: str = "demo",
    parameters: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A Workflow with a DAG ``main`` of one task per template (task name = template name)."""
    dependencies = dependencies or {}
    tasks = []
    for template in templates:
        task: dict[str, Any] = {"name": template["name"], "template": template["name"]}
        if dependencies.get(template["name"]):
            task["dependencies"] = dependencies[template["name"]]
        tasks.append(task)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": f"{pipeline}-", "labels": {PIPELINE_LABEL: pipeline}},
        "spec": {
            "entrypoint": "main",
            "serviceAccountName": "ferry-step",
            "arguments": {
                "parameters": [
                    {"name": "store", "value": "/data/store"},
                    {
                        "name": "run_date",
                        "value": RUN_DATE_DEFAULT,
                    },
                    {"name": "marks", "value": "/tmp/unused"},
                    *(parameters or []),
                ]
            },
            "volumes": [{"name": "tmp", "emptyDir": {}}],
            "podGC": {"strategy": "OnPodSuccess"},
            "ttlStrategy": {"secondsAfterCompletion": 86400},
            "templates": [{"name": "main", "dag": {"tasks": tasks}}, *copy.deepcopy(templates)],
            **spec,
        },
    }


def run(
    manifest: dict[str, Any],
    store: Path | str,
    marks: Path,
    parameters: dict[str, str] | None = None,
    **options: Any,
) -> tuple[RunRecord, str]:
    """Run ``manifest`` with inline python accepted; returns the record and the live view text."""
    out = io.StringIO()
    view = LiveView(Console(file=out, width=200, highlight=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parse, "ACCEPTED_COMMANDS", (*parse.ACCEPTED_COMMANDS, INLINE_PYTHON))
        record = run_manifest(
            manifest,
            store=str(store),
            parameters={"marks": str(marks), **(parameters or {})},
            view=view,
            **options,
        )
    return record, out.getvalue()


def mark(marks: Path, name: str, kind: str) -> float:
    return float((marks / f"{name}.{kind}").read_text())


def argv(marks: Path, name: str) -> list[str]:
    return list(json.loads((marks / f"{name}.argv.json").read_text()))


def statuses(record: RunRecord) -> dict[str, str]:
    return {t.name: t.status.value for t in record.tasks}


SPAWNED: list[subprocess.Popen[str]] = []
"""Every ``ferry run`` that :func:`start_ferry_run` started; conftest kills leftovers."""


def start_ferry_run(
    tmp_path: Path, manifest: dict[str, Any], marks: Path, name: str = "workflow.yaml"
) -> subprocess.Popen[str]:
    """``ferry run --manifest`` of ``manifest`` in ``tmp_path`` on ``store/``, JSON record out."""
    (tmp_path / name).write_text(yaml.safe_dump(manifest))
    proc = subprocess.Popen(
        [
            *FERRY_ACCEPTING_INLINE_PYTHON,
            "run",
            "--manifest",
            name,
            "--store",
            "store",
            "-p",
            f"marks={marks}",
            "--parallelism",
            "2",
            "--output",
            "json",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    SPAWNED.append(proc)
    return proc


def wait_for_pids(marks: Path, names: list[str], proc: subprocess.Popen[str]) -> dict[str, int]:
    """The pids of the stand-in tasks ``names`` once they all run (fails after 60 s)."""
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        files = [marks / f"{n}.pid" for n in names]
        if all(f.exists() and f.read_text() for f in files):
            time.sleep(0.3)  # let them reach their sleep (and install their handlers)
            return {n: int(f.read_text()) for n, f in zip(names, files, strict=True)}
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the steps never started: {proc.communicate()}")
