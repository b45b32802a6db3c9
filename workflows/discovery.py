"""Find pipeline definitions: every module-level ``Pipeline`` and every YAML definition.

Searched: each path given (a ``.py`` or ``.yaml`` file, a folder of them, or a dotted
module or package name), or, when no paths are given, each entry of
``$FERRY_PIPELINES`` (``os.pathsep``-separated). Nothing else: the shipped examples
are found only when named (``--pipelines workflows.pipelines``), so they never mix
with a user's own pipelines.
"""

import difflib
import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pydantic import ValidationError

from workflows.definition_yaml import YAML_SUFFIXES, load_yaml_pipeline, validation_message
from workflows.errors import DefinitionError, UsageError
from workflows.pipeline import Pipeline

EXAMPLES = "workflows.pipelines"
"""The shipped example pipelines, as a dotted package name (works from any folder)."""

ENV_VAR = "FERRY_PIPELINES"

Definition = ModuleType | Pipeline
"""What one file yields: a Python module (any number of pipelines) or one YAML pipeline."""


@dataclass(frozen=True)
class FoundPipeline:
    """A pipeline and the file that defines it."""

    pipeline: Pipeline
    file: Path

    @property
    def folder(self) -> Path:
        """The folder of the defining file: what the runner makes importable for its steps."""
        return self.file.parent


def _one_line(err: BaseException) -> str:
    if isinstance(err, ValidationError):
        text = validation_message(err)
    else:
        text = f"{type(err).__name__}: {err}"
    return " ".join(text.split())


def _line_in(err: BaseException, path: Path) -> str:
    """``:LINE`` of the deepest frame of ``err`` in ``path``, so the user sees where."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
    return f":{frames[-1].lineno}" if frames else ""


def _import_file(path: Path) -> ModuleType:
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:10]
    name = f"ferry_pipelines_{digest}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import pipelines from {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise UsageError(
            f"cannot import pipelines from {path}{_line_in(err, path)}: {_one_line(err)}; "
            "fix the module"
        ) from err
    return module


def _import_dotted(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name is not None and name.startswith(err.name):
            raise UsageError(
                f"pipelines path {name!r} is neither a file, a folder nor an importable module"
            ) from err
        raise UsageError(
            f"cannot import pipelines from module {name}: {_one_line(err)}; fix the module"
        ) from err
    except Exception as err:
        raise UsageError(
            f"cannot import pipelines from module {name}: {_one_line(err)}; fix the module"
        ) from err


def _file(path: Path) -> Definition:
    """One definition file; its folder becomes importable, as for a script Python runs.

    So a pipeline's Python steps (``function="my_steps.orders:enrich"``) import their
    modules from beside the definition at ``ferry render``, as the local runner's
    steps do (it puts the same folder on their ``PYTHONPATH``).
    """
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.append(folder)  # last: a user's module never shadows an installed one
    if path.suffix in YAML_SUFFIXES:
        return load_yaml_pipeline(path)
    return _import_file(path.resolve())


def _folder(path: Path) -> list[tuple[Path, Definition]]:
    files = sorted(
        p
        for p in path.iterdir()
        if p.suffix in (".py", *YAML_SUFFIXES) and not p.name.startswith(("_", "."))
    )
    return [(p.resolve(), _file(p)) for p in files]


def _definitions(location: str) -> list[tuple[Path, Definition]]:
    """Import or read what a location names: (defining file, module or pipeline) pairs."""
    path = Path(location)
    if path.is_dir():
        return _folder(path)
    if path.suffix in (".py", *YAML_SUFFIXES):
        if not path.is_file():
            raise UsageError(f"pipelines file {location!r} does not exist")
        return [(path.resolve(), _file(path))]
    module = _import_dotted(location)
    found: list[tuple[Path, Definition]] = [(Path(module.__file__ or location).resolve(), module)]
    for folder in getattr(module, "__path__", []):  # a package: its modules and YAML files
        found += _folder(Path(folder))
    return found


def _pipelines_in(definition: Definition) -> list[Pipeline]:
    if isinstance(definition, Pipeline):
        return [definition]
    return [v for v in vars(definition).values() if isinstance(v, Pipeline)]


def _locations(paths: Sequence[str] | None) -> list[str]:
    if paths is None:
        paths = [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    if not paths:
        raise UsageError(
            "no pipelines to search; pass --pipelines PATH (a .py or .yaml file, a folder or "
            f"a dotted module) or set ${ENV_VAR}; the examples are --pipelines {EXAMPLES}"
        )
    return list(paths)


def find_pipelines(paths: Sequence[str] | None = None) -> dict[str, FoundPipeline]:
    """Every pipeline found, by name, with its file; raise on bad definitions and duplicates.

    Args:
        paths: where to search (files, folders, dotted modules); None means the
            entries of ``$FERRY_PIPELINES``.

    Raises:
        UsageError: nothing to search, a module cannot be imported or a path does
            not exist (exit 2).
        DefinitionError: a YAML definition is invalid, or two definitions name the
            same pipeline (exit 2).
    """
    found: dict[str, FoundPipeline] = {}
    seen_files: set[Path] = set()
    for location in _locations(paths):
        for file, definition in _definitions(location):
            if file in seen_files:
                continue
            seen_files.add(file)
            for pipeline in _pipelines_in(definition):
                earlier = found.get(pipeline.name)
                if earlier is not None and earlier.pipeline is pipeline:
                    continue
                if earlier is not None:
                    raise DefinitionError(
                        pipeline.name,
                        None,
                        "name",
                        f"defined twice, in {earlier.file} and in {file}; rename one",
                    )
                found[pipeline.name] = FoundPipeline(pipeline, file)
    return found


def load_pipelines(paths: Sequence[str] | None = None) -> dict[str, Pipeline]:
    """Every pipeline found, by name (see :func:`find_pipelines`)."""
    return {name: found.pipeline for name, found in find_pipelines(paths).items()}


def find_pipeline(name: str, paths: Sequence[str] | None = None) -> FoundPipeline:
    """The pipeline called ``name`` and its file; a UsageError naming close matches."""
    pipelines = find_pipelines(paths)
    if name in pipelines:
        return pipelines[name]
    close = difflib.get_close_matches(name, list(pipelines), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    available = ", ".join(sorted(pipelines)) or "none"
    raise UsageError(
        f"no pipeline named {name!r}; {hint}available: {available} "
        f"(search more with --pipelines PATH or ${ENV_VAR})"
    )


def get_pipeline(name: str, paths: Sequence[str] | None = None) -> Pipeline:
    """The pipeline called ``name`` (see :func:`find_pipeline`)."""
    return find_pipeline(name, paths).pipeline
