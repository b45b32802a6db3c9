"""Pipelines written as YAML: the fields of the Python API, read with their line numbers.

A YAML definition is one mapping with exactly the fields of :class:`Pipeline`; each
step names its node with ``kind`` (``source``, ``checks``, ``transform``, ``python``,
``target``) and each extract or load config its step kind (``kind: extract-files``).
It is validated by the same models and the same :func:`validate_pipeline` as a Python
definition, so the messages are the same; they also name the file and the line.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workflows.errors import DefinitionError
from workflows.pipeline import DEFINITION_PROBLEM, Pipeline

YAML_SUFFIXES = (".yaml", ".yml")

Path_ = tuple[str | int, ...]
"""A position inside the document: mapping keys and sequence indexes."""


@dataclass(frozen=True)
class YamlOrigin:
    """Where a YAML pipeline came from: its file and the line of every key and item."""

    file: Path
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int:
        """The line of the deepest part of ``path`` that the document has (1-based)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def where(self, path: Path_) -> str:
        """``file:line`` of ``path``."""
        return f"{self.file}:{self.line_of(path)}"


_ORIGINS: dict[int, tuple[Pipeline, YamlOrigin]] = {}
"""id(pipeline) -> the pipeline (kept, so the id stays its own) and its YAML origin,
for messages found after loading (validation)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (plain PyYAML keeps the last silently)."""


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} is given twice (first on line {seen[key]}); keep one",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            _lines(value_node, child, out)
            out[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _has(value: Any, part: str | int) -> bool:
    if isinstance(value, dict):
        return part in value
    return isinstance(value, list) and isinstance(part, int) and part < len(value)


def _document_path(document: Any, loc: tuple[str | int, ...]) -> Path_:
    """A pydantic error location as a document path: union tags and wrappers dropped."""
    path: list[str | int] = []
    value = document
    for part in loc:
        if not _has(value, part):
            continue
        value = value[part]
        path.append(part)
    return tuple(path)


def _shown(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def validation_message(err: ValidationError, path: Path_ | None = None) -> str:
    """One line for the first problem of a pydantic error, as both definition forms show it.

    Ferry's own checks inside the models (a misspelt field, a config kind) already say
    what and where; pydantic's generic ones get the field path in front.
    """
    first = err.errors()[0]
    if first["type"] == DEFINITION_PROBLEM:
        return str(first["msg"])
    message = re.sub(r"^(Value|Assertion) error, ", "", first["msg"])
    where = _shown(path) if path is not None else ".".join(str(p) for p in first["loc"])
    return f"invalid {err.title} at {where or '(model)'}: {message}"


def _error_path(document: Any, error: Any) -> Path_:
    """Where in the document an error is: its location, and the key a Ferry check names."""
    path = _document_path(document, tuple(error["loc"]))
    field = (error.get("ctx") or {}).get("field") if error["type"] == DEFINITION_PROBLEM else None
    return (*path, field) if field else path


def _step_name(document: Any, path: Path_) -> str | None:
    if len(path) >= 2 and path[0] == "steps" and isinstance(document, dict):
        steps = document.get("steps")
        if isinstance(steps, list) and isinstance(path[1], int):
            step = steps[path[1]]
            if isinstance(step, dict) and isinstance(step.get("name"), str):
                return step["name"]
    return None


def load_yaml_pipeline(file: Path) -> Pipeline:
    """Read and build the pipeline a YAML file defines.

    Raises:
        DefinitionError: the file is not YAML, not a mapping, or not a valid pipeline;
            the message ends with ``(file:line)``.
    """
    text = file.read_text(encoding="utf-8")
    fallback = file.stem.replace("_", "-")
    try:
        node = yaml.compose(text, Loader=_Loader)
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = f"{file}:{mark.line + 1}" if mark is not None else str(file)
        problem = getattr(err, "problem", None) or str(err)
        raise DefinitionError(
            fallback, None, None, f"not valid YAML: {problem}", location=line
        ) from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _lines(node, (), lines)
    origin = YamlOrigin(file, lines)
    if not isinstance(document, dict):
        raise DefinitionError(
            fallback,
            None,
            None,
            "a pipeline definition is a YAML mapping with name and steps",
            location=origin.where(()),
        )
    name = document.get("name") if isinstance(document.get("name"), str) else fallback
    try:
        pipeline = Pipeline.model_validate(document)
    except ValidationError as err:
        path = _error_path(document, err.errors()[0])
        raise DefinitionError(
            str(name),
            _step_name(document, path),
            None,
            validation_message(err, path),
            location=origin.where(path),
        ) from None
    _ORIGINS[id(pipeline)] = (pipeline, origin)
    return pipeline


def yaml_location(pipeline: Pipeline, step: str | None, field: str | None) -> str | None:
    """``file:line`` of a step's field in the YAML the pipeline came from, or None."""
    kept = _ORIGINS.get(id(pipeline))
    if kept is None or kept[0] is not pipeline:
        return None
    origin = kept[1]
    path: list[str | int] = []
    if step is not None:
        index = next((i for i, s in enumerate(pipeline.steps) if s.name == step), None)
        if index is not None:
            path = ["steps", index]
    for part in re.findall(r"[^.\[\]]+", field or ""):
        path.append(int(part) if part.isdigit() else part)
    return origin.where(tuple(path))
