"""``ferry render`` and ``ferry list`` through the console entry point: output and exit codes."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from workflows.cli import main
from workflows.discovery import EXAMPLES, load_pipelines
from workflows.render import render_pipelines

FAKES_DIR = Path(__file__).resolve().parent

Ferry = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ferry(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Ferry:
    """Run ``ferry ARGS`` in-process via ``workflows.cli.main``: (exit code, stdout, stderr)."""
    monkeypatch.delenv("FERRY_PIPELINES", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["ferry", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def bad_module(folder: Path) -> Path:
    module = folder / "bad_pipeline.py"
    module.write_text(
        f"import sys; sys.path.insert(0, {str(FAKES_DIR)!r})\n"
        "from pipeline_fakes import minimal\n"
        "pipeline = minimal(name='bad', targets=[])\n"
    )
    return module


@pytest.mark.parametrize("command", ["render", "list"])
def test_help_has_an_example(ferry: Ferry, command: str) -> None:
    code, out, _ = ferry(command, "--help")
    assert code == 0
    assert "Example:\n" in out
    assert f"  ferry {command}" in out


def test_render_one_pipeline_with_the_console_script(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FERRY_PIPELINES"}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ferry"),
            "render",
            "orders-daily",
            "--pipelines",
            EXAMPLES,
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "orders-daily"
    assert result.stdout.splitlines() == [
        str(folder / "cronworkflow.yaml"),
        str(folder / "workflow.yaml"),
        str(folder / "workflowtemplate.yaml"),
    ]
    # orders-daily's exit handler starts customer-quality, so it renders with all pipelines.
    rendered = render_pipelines(load_pipelines([EXAMPLES]), ["orders-daily"])["orders-daily"]
    assert yaml.safe_load((folder / "workflow.yaml").read_text()) == rendered.workflow


def test_render_everything_by_default_into_rendered(
    ferry: Ferry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = ferry("render", "--pipelines", EXAMPLES)
    assert code == 0, err
    rendered = sorted(p.name for p in (tmp_path / "rendered").iterdir())
    assert rendered == sorted(load_pipelines([EXAMPLES]))
    assert len(out.splitlines()) == len(list((tmp_path / "rendered").glob("*/*.yaml")))


def test_render_unknown_pipeline_exits_2(ferry: Ferry, tmp_path: Path) -> None:
    code, out, err = ferry(
        "render", "orders-dialy", "--pipelines", EXAMPLES, "--out", str(tmp_path)
    )
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "ferry: no pipeline named 'orders-dialy'; did you mean 'orders-daily'? available: "
        "customer-quality, orders-api, orders-by-segment, orders-daily, orders-partitioned, "
        "orders-pseudonymized "
        "(search more with --pipelines PATH or $FERRY_PIPELINES)"
    ]
    assert not list(tmp_path.iterdir())


def test_render_invalid_pipeline_exits_2(ferry: Ferry, tmp_path: Path) -> None:
    code, _, err = ferry(
        "render", "bad", "--pipelines", str(bad_module(tmp_path)), "--out", str(tmp_path / "out")
    )
    assert code == 2
    assert err.splitlines() == [
        "ferry: pipeline 'bad', field 'steps': the pipeline has no Target; add at least one"
    ]
    assert not (tmp_path / "out").exists()


def test_list_shows_steps_and_schedule(ferry: Ferry) -> None:
    code, out, err = ferry("list", "--pipelines", EXAMPLES)
    assert code == 0, err
    lines = out.splitlines()
    start = lines.index("orders-daily  [0 3 * * * Europe/Berlin]")
    assert lines[start + 1 : start + 6] == [
        "  orders (extract-files)",
        "  customers (extract-files)",
        "  orders-checked (check) <- orders",
        "  daily-revenue (transform) <- orders-checked, customers",
        "  revenue-dataset (load-parquet) <- daily-revenue",
    ]
    assert "customer-quality  [unscheduled, after orders-daily]" in lines


def test_list_reports_an_invalid_pipeline_and_exits_2(ferry: Ferry, tmp_path: Path) -> None:
    code, out, err = ferry("list", "--pipelines", str(bad_module(tmp_path)))
    assert code == 2
    lines = out.splitlines()
    assert lines == [
        "bad  [unscheduled]",
        "  invalid: pipeline 'bad', field 'steps': the pipeline has no Target; add at least one",
    ]
    assert err.splitlines() == ["ferry: 1 of 1 pipelines are invalid (listed above)"]


def test_render_validates_every_pipeline_before_writing_any(ferry: Ferry, tmp_path: Path) -> None:
    module = tmp_path / "late_bad.py"
    module.write_text(
        f"import sys; sys.path.insert(0, {str(FAKES_DIR)!r})\n"
        "from pipeline_fakes import minimal\n"
        "pipeline = minimal(name='zzz-bad', targets=[])\n"
    )
    out = tmp_path / "out"
    for args in ([], ["orders-daily", "zzz-bad"]):
        code, stdout, err = ferry(
            "render", *args, "--pipelines", EXAMPLES, "--pipelines", str(module), "--out", str(out)
        )
        assert (code, stdout) == (2, "")
        assert err.splitlines() == [
            "ferry: pipeline 'zzz-bad', field 'steps': the pipeline has no Target; add at least one"
        ]
        assert not out.exists()


def test_render_to_an_unwritable_folder_is_one_line_exit_2(ferry: Ferry, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, out, err = ferry(
        "render", "orders-daily", "--pipelines", EXAMPLES, "--out", str(blocker / "out")
    )
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"ferry: cannot write rendered manifests to folder "
        f"{str(blocker / 'out' / 'orders-daily')!r}: Not a directory; "
        "pass --out a folder you can write to"
    ]
