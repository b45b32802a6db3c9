"""OpenLineage names of what a step reads and writes, following OpenLineage's naming spec.

A dataset is a ``(namespace, name)`` pair: files are ``file`` + absolute path or
``s3://bucket`` + key, tables ``postgres://host:port`` + ``database.schema.table`` or
``mysql://host:port`` + ``database.table`` (SQLite: ``sqlite://`` + file path, with the
table as the name), HTTP APIs ``scheme://host:port`` + path. Names never carry a
secret: URLs lose their user info and every query parameter that looks like one.
"""

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from steps.runtime.store import is_s3

_SECRET_WORDS = ("token", "key", "secret", "password", "passwd", "pwd", "auth", "sig", "credential")


@dataclass(frozen=True)
class Dataset:
    """One OpenLineage dataset: where it lives and its name there."""

    namespace: str
    name: str


def location_dataset(uri: str) -> Dataset:
    """A file or folder, local (namespace ``file``) or ``s3://bucket/key``."""
    if is_s3(uri):
        bucket, _, key = uri[len("s3://") :].partition("/")
        return Dataset(f"s3://{bucket}", key.rstrip("/") or "/")
    path = uri[len("file://") :] if uri.startswith("file://") else uri
    return Dataset("file", os.path.abspath(path))


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def http_dataset(url: str) -> Dataset:
    """An HTTP API: ``scheme://host[:port]`` and the path, without credentials or secrets."""
    parts = urlsplit(url)
    authority = parts.hostname or ""
    if parts.port is not None:
        authority = f"{authority}:{parts.port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_secret(k)]
    name = parts.path or "/"
    if query:
        name = f"{name}?{urlencode(query)}"
    return Dataset(f"{parts.scheme}://{authority}", name)


def table_dataset(url: str, table: str) -> Dataset:
    """A table of a PostgreSQL, MariaDB/MySQL or SQLite database named by its Ferry URL."""
    from steps.databases.url import parse_database_url

    db = parse_database_url(url)
    if db.dialect == "postgresql":
        qualified = table if "." in table else f"public.{table}"
        return Dataset(f"postgres://{db.host}:{db.port}", f"{db.database}.{qualified}")
    if db.dialect == "mysql":
        return Dataset(f"mysql://{db.host}:{db.port}", f"{db.database}.{table}")
    return Dataset(f"sqlite://{os.path.abspath(db.path)}", table)


def external_datasets(kind: str, config: Any) -> tuple[list[Dataset], list[Dataset]]:
    """The sources a kind reads and the targets it writes outside the store (inputs, outputs).

    Artifacts in the store are named by the caller from ``--input``/``--output``; a SQL
    source given as a query (not a table) names no input, the tables it reads being
    unknown to Ferry.
    """
    if kind == "extract-files":
        return [location_dataset(config.path)], []
    if kind == "extract-http":
        return [http_dataset(config.url)], []
    if kind == "extract-sql":
        return ([table_dataset(config.url, config.table)] if config.table else []), []
    if kind == "load-parquet":
        return [], [location_dataset(config.path)]
    if kind == "load-sql":
        return [], [table_dataset(config.url, config.table)]
    return [], []
