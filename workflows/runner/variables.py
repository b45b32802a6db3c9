"""Argo template tags (``{{workflow.name}}``, ``{{inputs.parameters.x}}``, ...): find and fill.

Only Argo's *simple* tags are supported, with the names Argo gives them; expression
tags (``{{=...}}``) are refused. Checking happens before anything runs (see
:mod:`workflows.runner.scopes`), so substitution here never meets an unknown name.
"""

import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import datetime

_TAG = re.compile(r"\{\{(.*?)\}\}")
# The strftime letters Argo's workflow.creationTimestamp.<letter> accepts that
# Python formats the same way.
STRFTIME_LETTERS = frozenset("AaBbCcDdeFHIjklMmnpRrSTtUuVWwXxYyZz")
# Kubernetes' generateName suffix alphabet (no vowels, no look-alike characters).
_NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def tags(text: str) -> Iterator[str]:
    """The variable names of the tags in ``text``, stripped (``=expr`` kept as written)."""
    for match in _TAG.finditer(text):
        yield match.group(1).strip()


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every tag replaced by its value from ``values``.

    Raises:
        KeyError: a tag has no value; the plan check rules this out before a run.
    """
    return _TAG.sub(lambda m: values[m.group(1).strip()], text)


def workflow_name(generate_name: str) -> str:
    """A workflow name as Kubernetes makes it from ``generateName``: prefix + 5 random chars."""
    return generate_name + "".join(secrets.choice(_NAME_SUFFIX_ALPHABET) for _ in range(5))


def creation_timestamp_variables(created: datetime) -> dict[str, str]:
    """``workflow.creationTimestamp`` and its ``.RFC3339`` / ``.<strftime letter>`` forms (UTC)."""
    rfc3339 = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    values = {
        "workflow.creationTimestamp": rfc3339,
        "workflow.creationTimestamp.RFC3339": rfc3339,
    }
    for letter in STRFTIME_LETTERS:
        values[f"workflow.creationTimestamp.{letter}"] = created.strftime(f"%{letter}")
    return values


def creation_timestamp_names() -> frozenset[str]:
    """Every ``workflow.creationTimestamp`` variable name."""
    return frozenset(
        {"workflow.creationTimestamp", "workflow.creationTimestamp.RFC3339"}
        | {f"workflow.creationTimestamp.{letter}" for letter in STRFTIME_LETTERS}
    )


def pod_name(workflow: str, template: str, task: str, attempt: int) -> str:
    """A pod name of Argo's v2 shape: ``<workflow>-<template>-<fnv32a of the node name>``."""
    node = f"{workflow}.{task}({attempt})"
    digest = 0x811C9DC5
    for byte in node.encode("utf-8"):
        digest = ((digest ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{workflow}-{template}-{digest}"
