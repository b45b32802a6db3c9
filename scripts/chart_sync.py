"""Copy rendered pipeline manifests into the Helm chart (``make chart-sync``).

The chart loads ``files/pipelines/<pipeline>/*.yaml`` with ``.Files.Get`` and never
evaluates them as templates, so Argo's ``{{...}}`` expressions reach the cluster
untouched. This script makes that folder an exact copy of the rendered
``workflowtemplate.yaml``, ``cronworkflow.yaml`` and ``eventbinding.yaml`` of every pipeline (the
self-contained ``workflow.yaml`` is for ``ferry run`` and ``argo submit`` of a file,
not for the chart), and removes pipelines that are no longer rendered.

Usage: ``python scripts/chart_sync.py [--rendered DIR] [--chart DIR]``.
"""

import argparse
import shutil
from pathlib import Path

CHART_FILES = ("workflowtemplate.yaml", "cronworkflow.yaml", "eventbinding.yaml")


def sync(rendered: Path, chart: Path) -> list[str]:
    """Mirror ``rendered/<p>/{CHART_FILES}`` into ``chart/files/pipelines/<p>/``.

    Returns:
        The names of the pipelines now in the chart, sorted.
    """
    if not rendered.is_dir():
        raise SystemExit(f"chart_sync: {rendered} is not a folder; run `ferry render` first")
    target_root = chart / "files" / "pipelines"
    target_root.mkdir(parents=True, exist_ok=True)
    pipelines = sorted(
        p.name for p in rendered.iterdir() if (p / "workflowtemplate.yaml").is_file()
    )
    for stale in target_root.iterdir():
        if stale.name not in pipelines:
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
    for name in pipelines:
        target = target_root / name
        target.mkdir(exist_ok=True)
        for existing in target.iterdir():
            if existing.name not in CHART_FILES or not (rendered / name / existing.name).is_file():
                existing.unlink()
        for file_name in CHART_FILES:
            source = rendered / name / file_name
            if source.is_file():
                shutil.copyfile(source, target / file_name)
    return pipelines


def main() -> None:
    """Parse the command line and sync."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rendered",
        type=Path,
        default=Path("workflows/pipelines/rendered"),
        help="folder with one sub-folder of rendered manifests per pipeline",
    )
    parser.add_argument("--chart", type=Path, default=Path("charts/ferry"), help="chart folder")
    args = parser.parse_args()
    names = sync(args.rendered, args.chart)
    print(
        f"chart_sync: {len(names)} pipeline(s) in {args.chart}/files/pipelines: {', '.join(names)}"
    )


if __name__ == "__main__":
    main()
