"""``ferry metrics`` against records of real ``ferry run``s, read with Prometheus' own parser."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from steps.contract import OUTPUT_PARAMETERS
from workflows.cli import cli
from workflows.monitoring import CATALOG, catalog
from workflows.runner import read_runs

HERE = Path(__file__).resolve().parent
TINY = str(HERE / "pipelines" / "tiny_pipeline.py")
FERRY = [sys.executable, "-c", "from workflows.cli import main; main()"]
STEPS = ("people", "people-checked", "people-dataset")


def ferry(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FERRY, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Sample name -> sorted label pairs -> value, as prometheus_client reads the text."""
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def key(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["metrics", "--help"])

    assert result.exit_code == 0
    assert "Example:\n" in result.output and "  ferry metrics" in result.output


def test_every_step_gauge_reads_an_output_parameter_of_the_contract() -> None:
    assert {parameter for _, parameter in catalog.STEP_GAUGES} <= set(OUTPUT_PARAMETERS)
    for spec in CATALOG:
        assert spec.name.startswith("ferry_")
        assert spec.name.endswith("_total") == (spec.type == "counter")


@pytest.fixture(scope="module")
def quick_retries() -> dict:
    """The tiny pipeline's rendered Workflow, retried once after 1 s (failures end fast)."""
    from workflows.discovery import get_pipeline
    from workflows.render import render_pipeline

    manifest = render_pipeline(get_pipeline("runner-tiny", [TINY])).workflow
    for template in manifest["spec"]["templates"]:
        if "retryStrategy" in template:
            template["retryStrategy"]["limit"] = 1
            template["retryStrategy"]["backoff"] = {"duration": "1s"}
    return manifest


@pytest.mark.slow
def test_metrics_of_a_success_and_a_failure_match_the_run_records(
    tmp_path: Path, quick_retries: dict
) -> None:
    (tmp_path / "workflow.yaml").write_text(yaml.safe_dump(quick_retries))
    (tmp_path / "data").mkdir()
    rows = "".join(f"{i},{'' if i == 3 else f'p{i}'}\n" for i in range(25))  # one name missing
    (tmp_path / "data" / "people.csv").write_text("id,name\n" + rows)  # quality 0.96
    ok = ferry("run", "--manifest", "workflow.yaml", "--store", "store", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    bad = ferry(
        "run",
        "--manifest",
        "workflow.yaml",
        "--store",
        "store",
        "-p",
        "data_dir=nowhere",
        cwd=tmp_path,
    )
    assert bad.returncode == 1, bad.stderr

    result = ferry("metrics", "--store", "store", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    found = parse(result.stdout)
    records = read_runs(str(tmp_path / "store")).records
    failed, succeeded = records  # newest first
    assert (failed.status.value, succeeded.status.value) == ("Failed", "Succeeded")
    pipeline = "runner-tiny"
    assert found["ferry_runs_total"] == {
        key(pipeline=pipeline, status="Failed"): 1.0,
        key(pipeline=pipeline, status="Succeeded"): 1.0,
    }
    assert found["ferry_run_duration_seconds"] == {
        key(pipeline=pipeline): pytest.approx(failed.duration_seconds)
    }
    assert succeeded.finished is not None
    assert found["ferry_run_last_success_timestamp_seconds"] == {
        key(pipeline=pipeline): pytest.approx(succeeded.finished.timestamp())
    }
    # The failed run's source failed twice (one retry); the steps after it were omitted,
    # so they keep the successful run's values. A failed task records no row counts
    # (outputs are kept of a successful attempt only), so its rows gauges keep the
    # successful run's too; its duration is the failed run's.
    source = failed.task("people")
    assert (source.status.value, source.attempts, source.rows_in) == ("Failed", 2, None)
    assert {t.name: t.status.value for t in failed.tasks if t.name != "people"} == {
        "people-checked": "Omitted",
        "people-dataset": "Omitted",
    }
    for step in STEPS:
        task = succeeded.task(step)
        labels = key(pipeline=pipeline, step=step)
        assert found["ferry_step_rows_in"][labels] == task.rows_in
        assert found["ferry_step_rows_out"][labels] == task.rows_out
        assert found["ferry_step_rows_rejected"][labels] == task.rows_rejected
        assert found["ferry_step_quality_score"][labels] == pytest.approx(task.quality_score)
        duration = (source if step == "people" else task).duration_seconds
        assert found["ferry_step_duration_seconds"][labels] == pytest.approx(duration)
    assert succeeded.task("people-checked").rows_rejected == 1  # the row without a name
    assert found["ferry_step_failures_total"] == {
        key(pipeline=pipeline, step="people"): 2.0,
        key(pipeline=pipeline, step="people-checked"): 0.0,
        key(pipeline=pipeline, step="people-dataset"): 0.0,
    }
    # Every family of the catalog is there with its type, samples or not.
    types = {f.name: f.type for f in text_string_to_metric_families(result.stdout)}
    assert types == {spec.name.removesuffix("_total"): spec.type for spec in CATALOG}

    only = ferry("metrics", "other-pipeline", "--store", "store", cwd=tmp_path)
    assert only.returncode == 0 and not any(
        f.samples for f in text_string_to_metric_families(only.stdout)
    )
    assert json.loads(ferry("runs", "--store", "store", "--output", "json", cwd=tmp_path).stdout)
