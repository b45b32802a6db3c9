"""The conditions the local runner evaluates: a task's ``when`` and a timed hook's ``expression``.

Argo evaluates ``when`` with govaluate after substituting the tags, and a workflow
hook's ``expression`` with expr over the workflow's globals. Ferry renders two shapes
only, and the runner accepts exactly those, refusing anything else by name up front:

- ``when``: one comparison ``LEFT == RIGHT`` or ``LEFT != RIGHT`` whose sides are a tag
  (``{{workflow.status}}``) or a word (``Succeeded``), e.g.
  ``{{workflow.status}} == Succeeded``; compared as strings after substitution, as
  govaluate compares a word it cannot resolve.
- hook ``expression``: ``workflow.status == "Running" && asFloat(workflow.duration) > N``,
  true from ``N`` seconds after the run started while it still runs (Argo sets
  ``workflow.duration`` on every reconciliation; ``asFloat`` is its expr alias of
  ``float``).
"""

import re
from collections.abc import Mapping

from workflows.runner.variables import substitute

_OPERAND = r"(?:\{\{\s*[A-Za-z0-9_.-]+\s*\}\}|[A-Za-z0-9_.-]+)"
_WHEN = re.compile(rf"^\s*({_OPERAND})\s*(==|!=)\s*({_OPERAND})\s*$")
_DURATION_HOOK = re.compile(
    r'^\s*workflow\.status\s*==\s*"Running"\s*&&\s*'
    r"asFloat\(\s*workflow\.duration\s*\)\s*>\s*(\d+(?:\.\d+)?)\s*$"
)

WHEN_SUBSET = "'A == B' or 'A != B' of a tag such as {{workflow.status}} and a word"
"""How messages describe the ``when`` subset."""

HOOK_SUBSET = "'workflow.status == \"Running\" && asFloat(workflow.duration) > SECONDS'"
"""How messages describe the hook expression subset."""


def when_problem(text: object) -> str | None:
    """Why ``text`` is outside the ``when`` subset, or None when the runner can evaluate it."""
    if not isinstance(text, str) or _WHEN.match(text) is None:
        return f"{text!r} is not supported by the local runner; use {WHEN_SUBSET}"
    return None


def when_holds(text: str, values: Mapping[str, str]) -> bool:
    """Whether the ``when`` condition holds once its tags are filled in from ``values``.

    Raises:
        ValueError: ``text`` is outside the subset (:func:`when_problem` rules it out).
    """
    match = _WHEN.match(text)
    if match is None:
        raise ValueError(f"when {text!r}: {WHEN_SUBSET}")
    left, operator, right = match.groups()
    equal = substitute(left, values).strip() == substitute(right, values).strip()
    return equal if operator == "==" else not equal


def duration_hook_seconds(expression: object) -> float | None:
    """The ``N`` of a hook expression of the subset, or None when it is outside it."""
    if not isinstance(expression, str):
        return None
    match = _DURATION_HOOK.match(expression)
    return float(match.group(1)) if match else None
