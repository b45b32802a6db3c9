"""Store URIs: a local folder or ``s3://bucket/prefix``, opened as a pyarrow filesystem.

One function turns a URI into ``(filesystem, path)`` so every step reads and writes
the same way whether the store is a folder on a laptop or MinIO in a cluster. S3
settings come from the standard AWS environment variables, never from arguments, so
no secret ever appears in a manifest's ``args``.
"""

import os
from dataclasses import dataclass
from functools import lru_cache

import pyarrow.fs as pafs

from steps.runtime.errors import StepUsageError


@dataclass(frozen=True)
class Location:
    """A place in a store: the filesystem and the path inside it."""

    fs: pafs.FileSystem
    path: str
    uri: str

    def child(self, *parts: str) -> "Location":
        """The location of ``parts`` below this one."""
        suffix = "/".join(p.strip("/") for p in parts)
        return Location(
            self.fs, f"{self.path.rstrip('/')}/{suffix}", f"{self.uri.rstrip('/')}/{suffix}"
        )


def is_s3(uri: str) -> bool:
    """Whether ``uri`` names an S3 (or S3-compatible) location."""
    return uri.startswith("s3://")


@lru_cache(maxsize=1)
def s3_filesystem() -> pafs.S3FileSystem:
    """An S3 filesystem configured from the standard AWS environment variables."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, object] = {
        "region": os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
    }
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        kwargs["access_key"] = os.environ["AWS_ACCESS_KEY_ID"]
        kwargs["secret_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        if os.environ.get("AWS_SESSION_TOKEN"):
            kwargs["session_token"] = os.environ["AWS_SESSION_TOKEN"]
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        kwargs["endpoint_override"] = host or scheme
        kwargs["scheme"] = scheme if host else "https"
        kwargs["allow_bucket_creation"] = True
    return pafs.S3FileSystem(**kwargs)  # type: ignore[arg-type]


def open_location(uri: str) -> Location:
    """Open a store URI (local path or ``s3://bucket/key``) as a :class:`Location`."""
    if not uri:
        raise StepUsageError("empty store location; pass a folder path or s3://bucket/prefix")
    if is_s3(uri):
        path = uri[len("s3://") :].rstrip("/")
        if not path:
            raise StepUsageError(f"store location {uri!r} has no bucket; use s3://bucket/prefix")
        return Location(s3_filesystem(), path, uri.rstrip("/"))
    if "://" in uri:
        scheme = uri.split("://", 1)[0]
        raise StepUsageError(
            f"store location {uri!r} uses unsupported scheme {scheme!r}; use a folder path or s3://"
        )
    path = os.path.abspath(uri)
    return Location(pafs.LocalFileSystem(), path, path)


def exists(loc: Location) -> bool:
    """Whether a file exists at ``loc``."""
    return loc.fs.get_file_info(loc.path).type == pafs.FileType.File


def read_text(loc: Location) -> str:
    """The whole text of a small file (manifests, state, reports)."""
    with loc.fs.open_input_stream(loc.path) as f:
        return f.read().decode("utf-8")


def write_text_atomic(loc: Location, text: str) -> None:
    """Write a small file so a reader sees the old content or the new, never a part.

    On S3 a single PUT is atomic. Locally the text goes to a hidden temporary file
    in the same folder, which is then renamed over the target.
    """
    publish_bytes(loc, text.encode("utf-8"))


def publish_bytes(loc: Location, data: bytes) -> None:
    """Write ``data`` whole at ``loc`` (temp name + rename locally, one PUT on S3)."""
    parent = loc.path.rsplit("/", 1)[0]
    loc.fs.create_dir(parent, recursive=True)
    if isinstance(loc.fs, pafs.LocalFileSystem):
        tmp = temporary_path(loc.path)
        with loc.fs.open_output_stream(tmp) as f:
            f.write(data)
        os.replace(tmp, loc.path)
    else:
        with loc.fs.open_output_stream(loc.path) as f:
            f.write(data)


def temporary_path(path: str) -> str:
    """A hidden sibling name for ``path`` that dataset readers ignore (leading ``.``)."""
    folder, _, name = path.rpartition("/")
    return f"{folder}/.{name}.{os.getpid()}.tmp"


def delete_file(loc: Location) -> None:
    """Remove a file if it is there."""
    if exists(loc):
        loc.fs.delete_file(loc.path)
