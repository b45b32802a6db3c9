"""Every pipeline example in the README and docs/ is a complete file that loads and validates.

A ``python`` block that builds a ``Pipeline(`` and a ``yaml`` block with ``steps:`` are
pipeline files; each starts with a comment naming its path (``# my_pipelines/x.py``).
Other blocks of the same page that start with such a comment (a Python step's module)
are written beside them, so the page's example works as the reader would copy it.
"""

import re
import sys
from pathlib import Path

import pytest

from workflows.discovery import find_pipelines
from workflows.validation import validate_pipeline

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(python|yaml)\n(.*?)^```", re.S | re.M)
PATH_COMMENT = re.compile(r"^# ([\w./-]+\.(?:py|ya?ml))\n")


def is_pipeline(language: str, body: str) -> bool:
    if language == "python":
        return "Pipeline(" in body and "class " not in body
    return bool(re.search(r"^steps:", body, re.M))


def pages_with_examples() -> list[Path]:
    return [p for p in PAGES if any(is_pipeline(*b) for b in BLOCK.findall(p.read_text()))]


def test_the_readme_and_pipeline_docs_have_examples() -> None:
    names = {p.name for p in pages_with_examples()}
    assert {"README.md", "pipelines.md", "python-steps.md"} <= names


@pytest.mark.parametrize("page", pages_with_examples(), ids=lambda p: p.name)
def test_every_pipeline_example_loads_and_validates(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    pipelines: list[Path] = []
    for language, body in BLOCK.findall(page.read_text()):
        named = PATH_COMMENT.match(body)
        if is_pipeline(language, body):
            assert named, f"{page.name}: a pipeline example must start with '# <path>':\n{body}"
        if not named:
            continue
        path = tmp_path / named.group(1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        if path.suffix == ".py" and path.parent != tmp_path:
            (path.parent / "__init__.py").touch()
        if is_pipeline(language, body):
            pipelines.append(path)
    try:
        for path in pipelines:
            found = find_pipelines([str(path)])
            assert found, f"{page.name}: {path.name} defines no pipeline"
            for item in found.values():
                validate_pipeline(item.pipeline)
    finally:
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file.startswith(str(tmp_path)):
                del sys.modules[name]
