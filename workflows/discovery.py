"""Find pipeline definitions: every module-level ``Pipeline`` in the given modules.

Searched, in this order: the shipped examples (``workflows/pipelines/``), then each
path given (a ``.py`` file, a folder of ``.py`` files, or a dotted module name),
or, when no paths are given, each entry of ``$FERRY_PIPELINES``
(``os.pathsep``-separated).
"""

import difflib
import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from pydantic import ValidationError

from workflows.errors import DefinitionError, UsageError
from workflows.pipeline import Pipeline

SHIPPED = Path(__file__).resolve().parent / "pipelines"
"""The shipped example pipelines."""

ENV_VAR = "FERRY_PIPELINES"


def _one_line(err: BaseException) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(model)"
        text = f"invalid {err.title} at {where}: {first['msg']}"
    else:
        text = f"{type(err).__name__}: {err}"
    return " ".join(text.split())


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
            f"cannot import pipelines from {path}: {_one_line(err)}; fix the module"
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


def _modules(location: str | Path) -> list[tuple[str, ModuleType]]:
    """Import what a location names; return (where, module) pairs."""
    path = Path(location)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        return [(str(p), _import_file(p.resolve())) for p in files]
    if path.suffix == ".py":
        if not path.is_file():
            raise UsageError(f"pipelines file {str(path)!r} does not exist")
        return [(str(path), _import_file(path.resolve()))]
    return [(str(location), _import_dotted(str(location)))]


def _shipped_modules() -> list[tuple[str, ModuleType]]:
    names = sorted(p.stem for p in SHIPPED.glob("*.py") if not p.name.startswith("_"))
    return [
        (f"workflows/pipelines/{n}.py", _import_dotted(f"workflows.pipelines.{n}")) for n in names
    ]


def _locations(paths: Sequence[str] | None) -> list[str]:
    if paths is not None:
        return list(paths)
    return [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]


def load_pipelines(paths: Sequence[str] | None = None) -> dict[str, Pipeline]:
    """Every pipeline found, by name; raise on import errors and duplicate names.

    Args:
        paths: extra places to search (files, folders, dotted modules); None means
            the entries of ``$FERRY_PIPELINES``.

    Raises:
        UsageError: a module cannot be imported or a path does not exist (exit 2).
        DefinitionError: two modules define pipelines of the same name (exit 2).
    """
    modules = _shipped_modules()
    for location in _locations(paths):
        modules += _modules(location)
    found: dict[str, Pipeline] = {}
    origin: dict[str, str] = {}
    seen_files: set[str] = set()
    for where, module in modules:
        source = str(Path(module.__file__ or where).resolve())
        if source in seen_files:
            continue
        seen_files.add(source)
        for value in vars(module).values():
            if not isinstance(value, Pipeline) or found.get(value.name) is value:
                continue
            if value.name in found:
                raise DefinitionError(
                    value.name,
                    None,
                    "name",
                    f"defined twice, in {origin[value.name]} and in {where}; rename one",
                )
            found[value.name] = value
            origin[value.name] = where
    return found


def get_pipeline(name: str, paths: Sequence[str] | None = None) -> Pipeline:
    """The pipeline called ``name``; a UsageError with close matches when there is none."""
    pipelines = load_pipelines(paths)
    if name in pipelines:
        return pipelines[name]
    close = difflib.get_close_matches(name, list(pipelines), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    available = ", ".join(sorted(pipelines)) or "none"
    raise UsageError(
        f"no pipeline named {name!r}; {hint}available: {available} "
        f"(add more with --pipelines PATH or ${ENV_VAR})"
    )
