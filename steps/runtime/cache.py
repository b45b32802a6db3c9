"""Step caching: adopt an earlier run's artifact when nothing the step depends on changed.

A cacheable step (``--cache``, or ``--cache-ttl SECONDS``) computes a key from its
kind, its config after parameter substitution, the content hashes of its inputs,
Ferry's version and, for sources, a declared freshness (the listing of the files a
files source reads, with sizes and modification times; a Python step's module
source). An entry is an artifact at ``STORE/cache/<pipeline>/<step>/<key>/``,
committed by its ``_manifest.json`` like any other and written only after the step
succeeded. On a hit the step copies the entry's files into its ``--output`` within
the store and commits them with a manifest of its own, so downstream steps read the
run's artifact exactly as if the step had computed it. The caching is done by the
step through the store, so it works the same on Argo and locally.

The content hash of an artifact is the SHA-256 of its files' bytes (data, then
quarantine, in manifest order) and row counts; a cached step's output records it in
its manifest as ``content_hash`` so a consumer need not read the files again.
"""

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from typing import Any

from steps.contract import NO_CACHE_ENV
from steps.runtime.artifacts import DATA, MANIFEST, QUARANTINE, ArtifactReader
from steps.runtime.store import (
    Location,
    delete_file,
    delete_folder,
    exists,
    read_text,
    temporary_path,
    write_text_atomic,
)

CACHE_FOLDER = "cache"
"""Cache entries live under ``STORE/cache/``."""

CONTENT_HASH = "content_hash"
"""Manifest field holding the artifact's content hash, when it is known."""

_CHUNK = 1 << 20


def ferry_version() -> str:
    """The installed Ferry's version: a new version never reuses an older one's entries."""
    from importlib import metadata  # only a cached step pays its import

    try:
        return metadata.version("ferry")
    except metadata.PackageNotFoundError:
        return "unknown"


def cache_disabled(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether ``FERRY_NO_CACHE`` turns caching off for this run."""
    return environ.get(NO_CACHE_ENV, "").strip().lower() in ("1", "true", "yes")


def _hash_file(digest: "hashlib._Hash", loc: Location) -> None:
    if loc.is_local:
        with open(loc.path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        return
    with loc.fs.open_input_stream(loc.path) as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)


def content_hash(reader: ArtifactReader) -> str:
    """The artifact's content hash: from its manifest, else from its files' bytes."""
    known = reader.manifest.get(CONTENT_HASH)
    if isinstance(known, str) and known:
        return known
    digest = hashlib.sha256()
    for part in (DATA, QUARANTINE):
        files = reader.manifest["files"].get(part, [])
        digest.update(f"{part}:{len(files)}:{reader.manifest['rows'].get(part, 0)}\n".encode())
        for name in files:
            _hash_file(digest, reader.loc.child(name))
            digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


def cache_key(
    kind: str, config: dict[str, Any], inputs: dict[str, str], freshness: object | None
) -> str:
    """The key of one step's result: a hash of everything the result depends on."""
    material = {
        "kind": kind,
        "config": config,
        "inputs": inputs,
        "ferry": ferry_version(),
        "freshness": freshness,
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_location(store: Location, pipeline: str, step: str, key: str) -> Location:
    """Where the cache entry of ``key`` for one step lives."""
    return store.child(CACHE_FOLDER, pipeline, step, key)


@dataclass(frozen=True)
class CacheHit:
    """A committed, fresh cache entry."""

    loc: Location
    manifest: dict[str, Any]

    @property
    def info(self) -> dict[str, Any]:
        """The entry's ``cache`` section: key, run_id, created, counts, warning."""
        value = self.manifest.get("cache", {})
        return value if isinstance(value, dict) else {}


def lookup(entry: Location, ttl: int | None, now: float | None = None) -> CacheHit | None:
    """The committed entry at ``entry`` if it is there and younger than ``ttl`` seconds."""
    manifest_loc = entry.child(MANIFEST)
    if not exists(manifest_loc):
        return None
    try:
        manifest = json.loads(read_text(manifest_loc))
    except ValueError:
        return None
    hit = CacheHit(entry, manifest)
    created = hit.info.get("created")
    if not isinstance(created, int | float):
        return None
    if ttl is not None and (time.time() if now is None else now) - created >= ttl:
        return None
    return hit


def _copy(source: Location, target: Location) -> None:
    """Copy one file within the store; the target appears whole (rename / one CopyObject)."""
    if source.is_local:
        os.makedirs(os.path.dirname(target.path), exist_ok=True)
        tmp = temporary_path(target.path)
        shutil.copyfile(source.path, tmp)
        os.replace(tmp, target.path)
        return
    target.fs.create_dir(target.path.rsplit("/", 1)[0], recursive=True)
    source.fs.copy_file(source.path, target.path)


def _side_files(folder: Location) -> list[str]:
    """Top-level files of an artifact besides its manifest (a check's ``report.json``)."""
    if folder.is_local:
        if not os.path.isdir(folder.path):
            return []
        names = [e.name for e in os.scandir(folder.path) if e.is_file()]
    else:
        import pyarrow.fs as pafs

        infos = folder.fs.get_file_info(pafs.FileSelector(folder.path, allow_not_found=True))
        names = [i.base_name for i in infos if i.type == pafs.FileType.File]
    return sorted(n for n in names if n != MANIFEST and not n.startswith("."))


def copy_artifact(
    source: Location, manifest: dict[str, Any], target: Location, **fields: Any
) -> dict[str, Any]:
    """Copy the files ``manifest`` lists from ``source`` to ``target`` and commit them there.

    The target's old manifest goes first and its old files next, as when a writer opens;
    the new manifest (``manifest`` updated with ``fields``) is written last. Files next
    to the manifest (a check's ``report.json``) are copied along.
    """
    delete_file(target.child(MANIFEST))
    for part in (DATA, QUARANTINE):
        delete_folder(target.child(part))
    for part in (DATA, QUARANTINE):
        for name in manifest["files"].get(part, []):
            _copy(source.child(name), target.child(name))
    for name in _side_files(source):
        _copy(source.child(name), target.child(name))
    committed = {**manifest, **fields}
    write_text_atomic(target.child(MANIFEST), json.dumps(committed, indent=2, default=str))
    return committed


def seal_output(output: Location) -> dict[str, Any]:
    """Add the content hash to a freshly committed output's manifest; the manifest, returned."""
    reader = ArtifactReader(output, "output")
    if CONTENT_HASH not in reader.manifest:
        manifest = {**reader.manifest, CONTENT_HASH: content_hash(reader)}
        write_text_atomic(output.child(MANIFEST), json.dumps(manifest, indent=2, default=str))
        return manifest
    return reader.manifest


def save_entry(output: Location, entry: Location, info: dict[str, Any]) -> None:
    """Store the committed artifact at ``output`` as the cache entry at ``entry``."""
    manifest = seal_output(output)
    copy_artifact(output, manifest, entry, cache={**info, "created": time.time()})


def adopt(hit: CacheHit, output: Location, *, pipeline: str, step: str, run_id: str) -> None:
    """Make the run's ``output`` a copy of the entry, committed under this run."""
    manifest = {k: v for k, v in hit.manifest.items() if k != "cache"}
    copy_artifact(
        hit.loc,
        manifest,
        output,
        pipeline=pipeline,
        step=step,
        run_id=run_id,
        cached_from={"key": hit.info.get("key"), "run_id": hit.info.get("run_id")},
    )
