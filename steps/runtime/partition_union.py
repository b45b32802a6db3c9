"""The artifact of a fanned-out step: the union of its partition artifacts.

Each partition of a partitioned step commits its own artifact under
``<artifact>/partitions/<key>/`` (``_manifest.json`` written last, as for any artifact).
A reader of the whole step gets one manifest listing every partition's files, with
rows summed. The set is readable only when every partition folder is committed: a
partition that started and did not finish makes the whole input incomplete, so no
downstream step ever reads part of a fan-out as if it were all of it. On Argo and
locally a downstream task starts only after every partition succeeded.
"""

import json
import os
from typing import Any

from steps.contract import PARTITIONS_FOLDER
from steps.runtime.errors import DataRejected, StepError
from steps.runtime.store import Location, exists, read_text


def partition_keys(loc: Location) -> list[str]:
    """The partition folders of a fanned-out step's artifact, sorted; [] when there are none."""
    folder = loc.child(PARTITIONS_FOLDER)
    if loc.is_local:
        if not os.path.isdir(folder.path):
            return []
        names = [n for n in os.listdir(folder.path) if os.path.isdir(f"{folder.path}/{n}")]
    else:
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(folder.path, allow_not_found=True)
        infos = loc.fs.get_file_info(selector)
        names = [i.base_name for i in infos if i.type == pafs.FileType.Directory]
    return sorted(n for n in names if not n.startswith("."))


def union_manifest(loc: Location, name: str, manifest_name: str) -> dict[str, Any] | None:
    """One manifest over every partition of the artifact at ``loc``; None when unpartitioned.

    Raises:
        StepError: a partition is not committed (exit 1: rerun it, e.g. ``ferry retry``).
        DataRejected: the partitions' columns differ (exit 3).
    """
    keys = partition_keys(loc)
    if not keys:
        return None
    manifests: list[tuple[str, dict[str, Any]]] = []
    for key in keys:
        committed = loc.child(PARTITIONS_FOLDER, key, manifest_name)
        if not exists(committed):
            raise StepError(
                f"input {name!r} at {loc.uri} is incomplete: partition {key!r} has no "
                f"{manifest_name} (it did not finish); rerun that partition"
            )
        manifests.append((key, json.loads(read_text(committed))))
    first_key, first = manifests[0]
    for key, manifest in manifests[1:]:
        if manifest.get("schema") != first.get("schema"):
            raise DataRejected(
                f"input {name!r} at {loc.uri}: partitions {first_key!r} and {key!r} have "
                f"different columns ({first.get('schema')!r} vs {manifest.get('schema')!r}); "
                "give every partition the same schema (declare the columns)"
            )
    files: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    for key, manifest in manifests:
        for part, listed in manifest.get("files", {}).items():
            files.setdefault(part, []).extend(f"{PARTITIONS_FOLDER}/{key}/{f}" for f in listed)
        for part, count in manifest.get("rows", {}).items():
            rows[part] = rows.get(part, 0) + int(count)
    return {
        "format": first.get("format"),
        "pipeline": first.get("pipeline"),
        "step": name,
        "run_id": first.get("run_id"),
        "files": files,
        "rows": rows,
        "schema": first.get("schema"),
        "partitions": {key: manifest.get("rows", {}) for key, manifest in manifests},
    }
