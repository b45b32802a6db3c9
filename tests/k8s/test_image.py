"""The step image: its Dockerfile contract, its pins, and the Docker-free image check."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCKERFILE = REPO / "images" / "step" / "Dockerfile"
REQUIREMENTS = REPO / "images" / "step" / "requirements.txt"


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_dockerfile_runs_as_uid_10001_without_entrypoint() -> None:
    instructions = _instructions()
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm") in instructions
    assert [i for i in instructions if i[0] == "FROM"] == [
        ("FROM", "${PYTHON_IMAGE} AS builder"),
        ("FROM", "${PYTHON_IMAGE}"),
    ]
    assert instructions[-1] == ("CMD", '["python", "-m", "steps", "--help"]')
    assert ("USER", "10001:10001") in instructions
    assert not [i for i in instructions if i[0] == "ENTRYPOINT"]
    labels = " ".join(v for k, v in instructions if k == "LABEL")
    for label in ("source", "version", "revision", "title"):
        assert f"org.opencontainers.image.{label}=" in labels
    runtime = instructions[[k for k, _ in instructions].index("FROM", 3) :]
    copies = [v for k, v in runtime if k == "COPY"]
    assert copies == ["--from=builder /opt/ferry /opt/ferry"], (
        "the runtime stage gets the venv only"
    )


def test_dockerfile_installs_the_wheel_with_the_pins() -> None:
    runs = " ".join(v for k, v in _instructions() if k == "RUN")
    assert "pip wheel --no-deps -w /dist ." in runs
    assert "-c /requirements.txt /dist/ferry-*.whl" in runs
    assert "pip check" in runs


def test_dockerignore_admits_only_the_build_inputs() -> None:
    lines = [
        ln
        for ln in (REPO / ".dockerignore").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    assert lines[0] == "*"
    assert {ln[1:] for ln in lines if ln.startswith("!")} == {
        "pyproject.toml",
        "README.md",
        "steps/",
        "workflows/",
        "images/step/requirements.txt",
    }


def test_requirements_pin_exactly_the_runtime_dependencies() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from image_requirements import render, runtime_closure
    finally:
        sys.path.pop(0)
    expected = render(runtime_closure(REPO / "pyproject.toml"))
    assert REQUIREMENTS.read_text() == expected, "run `make image-requirements`"
    pins = [ln for ln in expected.splitlines() if not ln.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.+-]+", ln) for ln in pins)
    names = {ln.split("==")[0].lower() for ln in pins}
    assert {"pyarrow", "duckdb", "pydantic", "hera", "click"} <= names
    assert not {"pytest", "ruff", "mypy", "moto"} & names


@pytest.mark.slow
def test_image_check_installs_the_wheel_and_runs_steps_outside_the_tree() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "image_check.py")],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=Path("/"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "image-check: built ferry-0.1.0-py3-none-any.whl"
    assert (
        lines[2] == "image-check: --help ok for 10 kinds; extract-files ran outside the source tree"
    )
    assert lines[3] == (
        "image-check: images/user/example installed as images/user/Dockerfile.example does; "
        "a python step ran its function"
    )
