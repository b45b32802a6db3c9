"""Store URIs: a local folder or ``s3://bucket/prefix``, opened as a pyarrow filesystem.

One function turns a URI into a :class:`Location` so every step reads and writes the
same way whether the store is a folder on a laptop or MinIO in a cluster. S3
settings come from the standard AWS environment variables, never from arguments, so
no secret ever appears in a manifest's ``args``.

The pyarrow filesystem is opened on first use, and small local files (manifests,
state) are read and written with plain ``os`` calls: a step that only needs
DuckDB (a transform over local artifacts) then never pays pyarrow's import time.
"""

import atexit
import gc
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from steps.runtime.errors import StepUsageError

if TYPE_CHECKING:
    import pyarrow.fs as pafs

S3_SCHEME = "s3://"


@dataclass(frozen=True)
class Location:
    """A place in a store: a local path, or a path inside S3 (``bucket/key``) and its URI."""

    path: str
    uri: str

    @property
    def is_local(self) -> bool:
        """Whether this is on the local filesystem (plain ``os`` calls and DuckDB reach it)."""
        return not is_s3(self.uri)

    @property
    def fs(self) -> "pafs.FileSystem":
        """The pyarrow filesystem that holds this location."""
        return local_filesystem() if self.is_local else s3_filesystem()

    def child(self, *parts: str) -> "Location":
        """The location of ``parts`` below this one."""
        suffix = "/".join(p.strip("/") for p in parts)
        return Location(f"{self.path.rstrip('/')}/{suffix}", f"{self.uri.rstrip('/')}/{suffix}")

    def at(self, path: str) -> "Location":
        """The location of ``path`` (as a filesystem listing returns it) in this store."""
        return Location(path, path if self.is_local else f"{S3_SCHEME}{path}")


def is_s3(uri: str) -> bool:
    """Whether ``uri`` names an S3 (or S3-compatible) location."""
    return uri.startswith(S3_SCHEME)


@lru_cache(maxsize=1)
def local_filesystem() -> "pafs.LocalFileSystem":
    """The local filesystem, as pyarrow's readers and writers take it."""
    import pyarrow.fs as pafs

    return pafs.LocalFileSystem()


S3_BOUNDS = {
    "FERRY_S3_CONNECT_TIMEOUT": "seconds to open a connection (default 10)",
    "FERRY_S3_REQUEST_TIMEOUT": "seconds a request may wait for the next bytes (default 60)",
    "FERRY_S3_MAX_ATTEMPTS": "attempts per S3 call, retries included (default 5)",
}
"""Every S3 call is bounded: with the server gone a step fails after these, never hangs."""


def _seconds_from_env(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise StepUsageError(f"${name} is {text!r}, not a positive number; {S3_BOUNDS[name]}")
    return value


@lru_cache(maxsize=1)
def s3_filesystem() -> "pafs.S3FileSystem":
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
    import pyarrow.fs as pafs

    kwargs["connect_timeout"] = _seconds_from_env("FERRY_S3_CONNECT_TIMEOUT", 10.0)
    kwargs["request_timeout"] = _seconds_from_env("FERRY_S3_REQUEST_TIMEOUT", 60.0)
    kwargs["retry_strategy"] = pafs.AwsStandardS3RetryStrategy(
        max_attempts=int(_seconds_from_env("FERRY_S3_MAX_ATTEMPTS", 5))
    )
    filesystem = pafs.S3FileSystem(**kwargs)  # type: ignore[arg-type]
    atexit.register(_release_s3_filesystem)
    return filesystem


def _release_s3_filesystem() -> None:
    """Drop the cached S3 filesystem before pyarrow shuts the AWS SDK down at exit.

    Registered after pyarrow's own exit hook, so it runs first: an S3 client still
    alive when the SDK is gone can abort the process ("terminate called without an
    active exception") after the step has already succeeded.
    """
    s3_filesystem.cache_clear()
    gc.collect()


def open_location(uri: str) -> Location:
    """Open a store URI (local path or ``s3://bucket/key``) as a :class:`Location`."""
    if not uri:
        raise StepUsageError("empty store location; pass a folder path or s3://bucket/prefix")
    if is_s3(uri):
        path = uri[len(S3_SCHEME) :].rstrip("/")
        if not path:
            raise StepUsageError(f"store location {uri!r} has no bucket; use s3://bucket/prefix")
        return Location(path, uri.rstrip("/"))
    if "://" in uri:
        scheme = uri.split("://", 1)[0]
        raise StepUsageError(
            f"store location {uri!r} uses unsupported scheme {scheme!r}; use a folder path or s3://"
        )
    path = os.path.abspath(uri)
    return Location(path, path)


def exists(loc: Location) -> bool:
    """Whether a file exists at ``loc``."""
    if loc.is_local:
        return os.path.isfile(loc.path)
    import pyarrow.fs as pafs

    return loc.fs.get_file_info(loc.path).type == pafs.FileType.File


def read_text(loc: Location) -> str:
    """The whole text of a small file (manifests, state, reports)."""
    if loc.is_local:
        with open(loc.path, encoding="utf-8") as f:
            return f.read()
    with loc.fs.open_input_stream(loc.path) as stream:
        return bytes(stream.read()).decode("utf-8")


def write_text_atomic(loc: Location, text: str) -> None:
    """Write a small file so a reader sees the old content or the new, never a part.

    On S3 a single PUT is atomic. Locally the text goes to a hidden temporary file
    in the same folder, which is then renamed over the target.
    """
    publish_bytes(loc, text.encode("utf-8"))


def publish_bytes(loc: Location, data: bytes) -> None:
    """Write ``data`` whole at ``loc`` (temp name + rename locally, one PUT on S3)."""
    if loc.is_local:
        os.makedirs(os.path.dirname(loc.path), exist_ok=True)
        tmp = temporary_path(loc.path)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, loc.path)
        return
    loc.fs.create_dir(loc.path.rsplit("/", 1)[0], recursive=True)
    with loc.fs.open_output_stream(loc.path) as stream:
        stream.write(data)


def temporary_path(path: str) -> str:
    """A hidden sibling name for ``path`` that dataset readers ignore (leading ``.``)."""
    folder, _, name = path.rpartition("/")
    return f"{folder}/.{name}.{os.getpid()}.tmp"


def delete_folder(loc: Location) -> None:
    """Remove a folder and everything in it, if it is there (on S3: every key under it)."""
    if loc.is_local:
        if os.path.isdir(loc.path):
            shutil.rmtree(loc.path)
    else:
        loc.fs.delete_dir_contents(loc.path, missing_dir_ok=True)


def delete_file(loc: Location) -> None:
    """Remove a file if it is there."""
    if loc.is_local:
        if os.path.isfile(loc.path):
            os.remove(loc.path)
    elif exists(loc):
        loc.fs.delete_file(loc.path)
