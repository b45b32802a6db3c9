"""Reproduce the step image without Docker (``make image-check``).

Why: CI has no Docker engine, yet a broken image (a runtime dependency missing from
``pyproject.toml``, a module left out of the wheel, a stale pin) must still fail a
build. This does what ``images/step/Dockerfile`` does, in a temporary folder:

1. build the Ferry wheel from the files the Docker build context holds;
2. install it into a brand-new virtualenv with the image's command
   (``pip install -c images/step/requirements.txt ferry.whl`` then ``pip check``), so
   only what the wheel declares is installed, at the image's pinned versions;
3. require the installed set to equal ``requirements.txt`` exactly (no stale pins);
4. from an empty working folder outside the source tree (the source ``steps/`` is not
   importable there), with only ``HOME`` and the outputs folder writable as in the
   pod's ``/tmp``: import every step kind, run ``python -m steps KIND --help`` for
   each and one real ``extract-files`` step on a tiny CSV;
5. install the example user package (``images/user/example``) into the same
   virtualenv as ``images/user/Dockerfile.example`` does (held to the pins, then
   ``pip check``; the pinned set must be unchanged) and run a real ``python`` step
   over the extract's output with that package's function, found with no
   ``PYTHONPATH`` (from the virtualenv, as in the pod).

Usage: ``python scripts/image_check.py [--keep]``. Exit 0 when the image would work.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / "images" / "step" / "requirements.txt"
USER_PACKAGE = REPO / "images" / "user" / "example"
USER_FUNCTION = "ferry_example_steps.orders:keep_status"
BUILD_CONTEXT = ("pyproject.toml", "README.md", "steps", "workflows")
ORDERS_CSV = "order_id,status,amount\n1,shipped,10.5\n2,open,3.0\n3,shipped,7.25\n"


_ENV = {"LANG": "C.UTF-8"}
"""What every command outside the source tree gets besides PATH, HOME and the outputs."""


class CheckFailed(Exception):
    """One check of the image failed; the message says which and how to fix it."""


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-15:]
        raise CheckFailed(f"`{' '.join(cmd)}` exited {result.returncode}:\n" + "\n".join(tail))
    return result.stdout


def build_wheel(work: Path) -> Path:
    """Build the wheel from a copy of the Docker build context (as the builder stage)."""
    src = work / "src"
    src.mkdir()
    for name in BUILD_CONTEXT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, src / name)
    dist = work / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), "."],
        cwd=src,
    )
    return next(dist.glob("ferry-*.whl"))


def install(work: Path, wheel: Path) -> Path:
    """Install the wheel into a new virtualenv exactly as the Dockerfile does."""
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = _pip(python)
    _run(
        [*pip, "install", "--quiet", "--only-binary", ":all:", "-c", str(REQUIREMENTS), str(wheel)],
        cwd=work,
    )
    _run([*pip, "check"], cwd=work)
    installed = _installed(work, python)
    pinned = _pinned()
    if installed != pinned:
        raise CheckFailed(
            "images/step/requirements.txt does not match what the wheel needs "
            f"(installed but not pinned: {sorted(installed - pinned)}; "
            f"pinned but not needed: {sorted(pinned - installed)}); run `make image-requirements`"
        )
    return python


def _pip(python: Path) -> list[str]:
    return [sys.executable, "-m", "pip", "--python", str(python)]


def _installed(work: Path, python: Path, *exclude: str) -> set[str]:
    frozen = _run([*_pip(python), "freeze", "--all", "--exclude", "ferry", *exclude], cwd=work)
    return {_normalise(line) for line in frozen.splitlines() if "==" in line}


def _pinned() -> set[str]:
    return {_normalise(line) for line in REQUIREMENTS.read_text().splitlines() if "==" in line}


def install_user_package(work: Path, python: Path) -> None:
    """Install the example user package as images/user/Dockerfile.example does."""
    source = work / "user-package"
    shutil.copytree(
        USER_PACKAGE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    _run([*_pip(python), "install", "--quiet", "-c", str(REQUIREMENTS), str(source)], cwd=work)
    _run([*_pip(python), "check"], cwd=work)
    name = tomllib.loads((USER_PACKAGE / "pyproject.toml").read_text())["project"]["name"]
    installed = _installed(work, python, "--exclude", name)
    if installed != _pinned():
        raise CheckFailed(
            f"installing {USER_PACKAGE.relative_to(REPO)} changed the image's pinned set "
            f"(now {sorted(installed ^ _pinned())} differ); its dependencies must fit Ferry's pins"
        )


def _normalise(line: str) -> str:
    name, _, version = line.strip().partition("==")
    return f"{name.lower().replace('_', '-').replace('.', '-')}=={version}"


def run_steps(work: Path, python: Path) -> list[str]:
    """Run every kind's --help and one real step outside the source tree."""
    run = work / "run"
    (run / "home").mkdir(parents=True)
    env = {
        **_ENV,
        "PATH": f"{python.parent}:/usr/bin:/bin",
        "HOME": str(run / "home"),
        "FERRY_OUTPUTS_DIR": str(run / "outputs"),
    }
    location = _run([str(python), "-c", "import steps; print(steps.__file__)"], cwd=run, env=env)
    if not location.startswith(str(work / "venv")):
        raise CheckFailed(f"`import steps` found {location.strip()}, not the installed wheel")
    kinds = _run([str(python), "-c", _IMPORT_EVERY_KIND], cwd=run, env=env).split()
    _run([str(python), "-m", "steps", "--help"], cwd=run, env=env)
    for kind in kinds:
        _run([str(python), "-m", "steps", kind, "--help"], cwd=run, env=env)
    _run([str(python.parent / "ferry"), "--help"], cwd=run, env=env)
    (run / "data").mkdir()
    (run / "data" / "orders.csv").write_text(ORDERS_CSV)
    output = run / "store" / "artifacts" / "image-check" / "orders"
    _run(
        [
            str(python),
            "-m",
            "steps",
            "extract-files",
            "--pipeline",
            "image-check",
            "--step",
            "orders",
            "--run-id",
            "image-check",
            "--store",
            str(run / "store"),
            "--output",
            str(output),
            "--config",
            json.dumps({"path": str(run / "data" / "*.csv"), "format": "csv"}),
        ],
        cwd=run,
        env=env,
    )
    manifest = json.loads((output / "_manifest.json").read_text())
    if manifest["rows"]["data"] != 3 or (run / "outputs" / "rows_out").read_text().strip() != "3":
        raise CheckFailed(f"extract-files wrote {manifest['rows']} rows, expected 3 data rows")
    return kinds


def run_python_step(work: Path, python: Path) -> None:
    """Run a ``python`` step with the installed user package over the extract's output."""
    run = work / "run"
    env = {**_ENV, "PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(run / "home")}
    env["FERRY_OUTPUTS_DIR"] = str(run / "outputs")
    artifacts = run / "store" / "artifacts" / "image-check"
    output = artifacts / "shipped"
    config = {"function": USER_FUNCTION, "inputs": ["orders"], "params": {"status": "shipped"}}
    _run(
        [
            *(str(python), "-m", "steps", "python"),
            *("--pipeline", "image-check", "--step", "shipped", "--run-id", "image-check"),
            *("--store", str(run / "store"), "--input", f"orders={artifacts / 'orders'}"),
            *("--output", str(output), "--config", json.dumps(config)),
        ],
        cwd=run,
        env=env,
    )
    manifest = json.loads((output / "_manifest.json").read_text())
    expected = {"data": 2, "quarantine": 1}
    if manifest["rows"] != expected or manifest.get("rows_read") != {"orders": 3}:
        raise CheckFailed(
            f"the python step wrote {manifest['rows']} rows (read {manifest.get('rows_read')}), "
            f"expected {expected} of 3 read"
        )


_IMPORT_EVERY_KIND = (
    "from steps.registry import KINDS\n"
    "for kind in KINDS.values():\n"
    "    kind.load_config_class(); kind.load_run()\n"
    "print(' '.join(KINDS))\n"
)


def main() -> int:
    """Run every check; print one line per stage; exit 1 on the first failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ferry-image-check-"))
    try:
        wheel = build_wheel(work)
        print(f"image-check: built {wheel.name}")
        python = install(work, wheel)
        print(f"image-check: installed with {REQUIREMENTS.relative_to(REPO)} pins; pip check ok")
        kinds = run_steps(work, python)
        print(
            f"image-check: --help ok for {len(kinds)} kinds; "
            "extract-files ran outside the source tree"
        )
        install_user_package(work, python)
        run_python_step(work, python)
        print(
            f"image-check: {USER_PACKAGE.relative_to(REPO)} installed as "
            "images/user/Dockerfile.example does; a python step ran its function"
        )
        return 0
    except CheckFailed as err:
        print(f"image-check: FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"image-check: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
