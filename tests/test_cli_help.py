"""Every ``ferry`` command and every step kind has help with an example; exit codes hold."""

import subprocess
import sys
from pathlib import Path

import pytest

from steps.registry import KINDS
from workflows.cli import _COMMANDS

FERRY = str(Path(sys.executable).parent / "ferry")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_every_ferry_command_has_help_with_an_example(command: str) -> None:
    for flag in ("-h", "--help"):
        result = _run(FERRY, command, flag)
        assert result.returncode == 0, result.stderr
        assert "Example:" in result.stdout
        assert f"ferry {command}" in result.stdout.split("Example:", 1)[1]


def test_group_help_lists_every_command() -> None:
    result = _run(FERRY, "--help")
    assert result.returncode == 0
    for command in _COMMANDS:
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_step_kind_has_help_with_an_example(kind: str) -> None:
    result = _run(sys.executable, "-m", "steps", kind, "--help")
    assert result.returncode == 0, result.stderr
    assert f"example:\n  python -m steps {kind} " in result.stdout


def test_top_level_step_help_has_an_example() -> None:
    result = _run(sys.executable, "-m", "steps", "--help")
    assert result.returncode == 0, result.stderr
    assert f"example:\n  python -m steps {KINDS['transform'].example}\n" in result.stdout


def test_unknown_command_is_bad_usage() -> None:
    result = _run(FERRY, "frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_unknown_step_kind_is_bad_usage() -> None:
    result = _run(sys.executable, "-m", "steps", "frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_bad_step_config_is_exit_2_with_one_line() -> None:
    result = _run(
        sys.executable,
        "-m",
        "steps",
        "transform",
        "--pipeline",
        "p",
        "--step",
        "s",
        "--run-id",
        "r",
        "--store",
        "/tmp/x",
        "--config",
        '{"sql": "select 1", "bogus": 1}',
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "ferry: pipeline 'p', step 's': invalid transform config at bogus: "
        "Extra inputs are not permitted"
    )


def test_every_registered_kind_is_its_config_kind_with_a_role() -> None:
    from steps.registry import KINDS

    roles = {"source", "check", "transform", "python", "target", "state", "notify", "partitions"}
    for name, kind in KINDS.items():
        config = kind.load_config_class()
        assert (kind.name, config.KIND) == (name, name)
        assert config.ROLE in roles, name
