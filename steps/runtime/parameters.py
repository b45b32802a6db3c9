"""Workflow parameters in a step's config: filled in after parsing, never spliced as text.

The renderer writes ``${param:NAME}`` where a definition used ``param(NAME)`` and gives
the container ``FERRY_PARAM_NAME={{workflow.parameters.NAME}}``. Argo (or the local
runner) substitutes the value into that environment variable; the step parses its
``--config`` JSON first and only then replaces each placeholder inside a string value,
so a value with a quote, a backslash or a newline cannot change the config's shape.
In a SQL field (``StepConfig.SQL_FIELDS``) the value goes in as a quoted SQL string
literal, so it cannot change the statement either.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from steps.contract import PARAMETER_ENV_PREFIX, PARAMETER_PLACEHOLDER
from steps.runtime.errors import StepUsageError

PLACEHOLDER = re.compile(r"\$\{param:([A-Za-z_][A-Za-z0-9_]*)\}")
"""``${param:NAME}`` (``steps.contract.PARAMETER_PLACEHOLDER``)."""


def placeholder(name: str) -> str:
    """The placeholder of parameter ``name`` in a rendered config."""
    return PARAMETER_PLACEHOLDER.format(name=name)


def env_name(name: str) -> str:
    """The environment variable that carries parameter ``name`` to a step."""
    return PARAMETER_ENV_PREFIX + name


def sql_literal(value: str) -> str:
    """``value`` as a standard SQL string literal: single-quoted, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _matches(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    return len(path) == len(pattern) and all(
        p in ("*", q) for p, q in zip(pattern, path, strict=True)
    )


def sql_texts(document: Any, sql_fields: tuple[str, ...]) -> list[tuple[str, str]]:
    """(dotted path, text) of every SQL field of a parsed config."""
    patterns = tuple(tuple(f.split(".")) for f in sql_fields)
    found: list[tuple[str, str]] = []

    def walk(item: Any, path: tuple[str, ...]) -> None:
        if isinstance(item, str) and any(_matches(path, p) for p in patterns):
            found.append((".".join(path), item))
        elif isinstance(item, dict):
            for key, value in item.items():
                walk(value, (*path, str(key)))
        elif isinstance(item, list):
            for index, value in enumerate(item):
                walk(value, (*path, str(index)))

    walk(document, ())
    return found


def resolve_parameters(
    value: Any,
    environ: Mapping[str, str],
    *,
    sql_fields: tuple[str, ...] = (),
    quote: Callable[[str], str] = sql_literal,
) -> Any:
    """The parsed config ``value`` with every placeholder replaced by its parameter.

    Args:
        value: the ``--config`` JSON, parsed.
        environ: where the ``FERRY_PARAM_*`` values are.
        sql_fields: dotted paths of SQL text (``*`` for any list index or key), e.g.
            ``("sql",)`` or ``("rules.*.predicate",)``; their values are quoted.
        quote: how a value becomes a SQL literal in those fields.

    Raises:
        StepUsageError: a placeholder names a parameter whose variable is not set (exit 2).
    """
    patterns = tuple(tuple(f.split(".")) for f in sql_fields)

    def fill(text: str, path: tuple[str, ...]) -> str:
        in_sql = any(_matches(path, p) for p in patterns)

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            variable = env_name(name)
            if variable not in environ:
                raise StepUsageError(
                    f"config field {'.'.join(path)!r} uses parameter {name!r} but {variable} is "
                    "not set; run the step from its rendered template, or set the variable"
                )
            return quote(environ[variable]) if in_sql else environ[variable]

        return PLACEHOLDER.sub(one, text)

    def walk(item: Any, path: tuple[str, ...]) -> Any:
        if isinstance(item, str):
            return fill(item, path)
        if isinstance(item, dict):
            return {k: walk(v, (*path, str(k))) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, (*path, str(i))) for i, v in enumerate(item)]
        return item

    return walk(value, ())
