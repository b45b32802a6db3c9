r"""The subset of Argo's event expressions (expr-lang/expr) that Ferry accepts.

A WorkflowEventBinding's ``spec.event.selector`` and each parameter's
``valueFrom.event`` are expr expressions that argo-server evaluates over the event
environment ``payload`` (the JSON body), ``metadata`` (the request's ``x-`` headers,
lower-cased, each a list of strings) and ``discriminator`` (the last path segment of
``/api/v1/events/{namespace}/{discriminator}``); see Argo's docs/events.md and
server/event/dispatch/operation.go. Ferry renders such expressions and a local
server will evaluate them too, so both must agree: this module parses a small,
documented subset and refuses everything else by name, and its evaluator follows
expr's semantics on that subset. Pure Python, no I/O.

The subset (docs/scheduling.md, "Event triggers"):

- literals: strings in double or single quotes (escapes ``\n \t \\ \" \' \uXXXX``),
  decimal integers and floats (an optional leading ``-``), ``true``, ``false``,
  ``nil``, lists ``[a, b]``;
- references: ``payload``, ``metadata`` or ``discriminator``, followed by ``.name``,
  ``["name"]`` or ``[0]`` parts;
- comparisons ``== != < > <= >=``, membership ``in`` and ``not in``;
- ``and``/``&&``, ``or``/``||``, ``not``/``!`` and parentheses;
- the expr built-ins ``len, lower, upper, trim, trimPrefix, trimSuffix, hasPrefix,
  hasSuffix`` (one or two arguments as listed in ``FUNCTIONS``).

Example:
    >>> tree = parse('discriminator == "orders" && payload.kind in ["full", "delta"]')
    >>> evaluate(tree, {"discriminator": "orders", "payload": {"kind": "full"}})
    True
    >>> evaluate(parse("payload.date"), {"payload": {"date": "2024-05-01"}})
    '2024-05-01'
"""

import json
import re
from dataclasses import dataclass
from typing import Any

ROOTS = ("payload", "metadata", "discriminator")
"""The names an expression may start from: Argo's event environment."""

FUNCTIONS: dict[str, int] = {
    "len": 1,
    "lower": 1,
    "upper": 1,
    "trim": 1,
    "trimPrefix": 2,
    "trimSuffix": 2,
    "hasPrefix": 2,
    "hasSuffix": 2,
}
"""expr built-ins Ferry supports -> their number of arguments (expr's language definition)."""

COMPARISONS = ("==", "!=", "<", ">", "<=", ">=", "in", "not in")
"""Comparison operators of the subset."""

_EXPR_ONLY = {
    "+": "arithmetic and concatenation ('+')",
    "-": "arithmetic ('-')",
    "*": "arithmetic ('*')",
    "/": "arithmetic ('/')",
    "%": "arithmetic ('%')",
    "^": "arithmetic ('^')",
    "?": "the conditional or optional chaining ('?', '?:', '?.', '??')",
    "|": "the pipe operator ('|')",
    "#": "predicates ('#')",
    "{": "map literals and predicates ('{')",
    "}": "map literals and predicates ('}')",
    ";": "statements (';')",
    ":": "slices (':')",
    "`": "raw strings ('`')",
    "$": "$env",
}
"""Characters expr has and the subset does not, with what they are for the message."""

_EXPR_KEYWORDS = {
    "matches": "the 'matches' operator",
    "contains": "the 'contains' operator",
    "startsWith": "the 'startsWith' operator (use hasPrefix(a, b))",
    "endsWith": "the 'endsWith' operator (use hasSuffix(a, b))",
    "let": "variables ('let')",
}

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?\d+(?:\.\d+)?(?!\w))
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\],.])
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class SelectorError(ValueError):
    """An expression outside the subset (parse) or failing on an event (evaluate)."""


@dataclass(frozen=True)
class Literal:
    """A string, number, boolean or nil."""

    value: str | int | float | bool | None


@dataclass(frozen=True)
class ListLiteral:
    """``[a, b, ...]``."""

    items: tuple["Node", ...]


@dataclass(frozen=True)
class Ref:
    """``payload.a["b"][0]``: a root of the event environment and the parts after it."""

    root: str
    path: tuple[str | int, ...]


@dataclass(frozen=True)
class Call:
    """A call of one of ``FUNCTIONS``."""

    name: str
    args: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    """``not x`` / ``!x``."""

    operand: "Node"


@dataclass(frozen=True)
class Logical:
    """``a and b`` / ``a or b`` (``&&``, ``||``)."""

    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Compare:
    """``a == b`` and the other ``COMPARISONS``."""

    op: str
    left: "Node"
    right: "Node"


Node = Literal | ListLiteral | Ref | Call | Not | Logical | Compare
"""Any node of a parsed expression."""


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            start = pos + len(text[pos:]) - len(text[pos:].lstrip())
            char = text[start]
            what = _EXPR_ONLY.get(char, f"the character {char!r}")
            if char in "&=":
                what = f"the operator {char!r}"
            raise SelectorError(f"{what} at column {start + 1} is not in Ferry's subset")
        kind = match.lastgroup or ""
        value, start = match.group(kind), match.start(kind)
        if text.startswith("..", start):
            raise SelectorError(
                f"the range operator '..' at column {start + 1} is not in Ferry's subset"
            )
        after_dot = bool(out) and out[-1][1] == "."
        if kind == "name" and value in _EXPR_KEYWORDS and not after_dot:
            raise SelectorError(f"{_EXPR_KEYWORDS[value]} is not in Ferry's subset")
        out.append((kind, value, start))
        pos = match.end()
    return out


def _unquote(token: str) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise SelectorError(f"the escape '\\{nxt}' in {token} is not in Ferry's subset")
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, *values: str) -> bool:
        token = self.peek()
        return token is not None and token[0] in ("op", "name") and token[1] in values

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise SelectorError("the expression ends too early")
        self.i += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token[1] != value:
            raise SelectorError(f"expected {value!r} at column {token[2] + 1}, got {token[1]!r}")

    def parse(self) -> Node:
        if not self.tokens:
            raise SelectorError("the expression is empty")
        node = self.logical_or()
        token = self.peek()
        if token is not None:
            raise SelectorError(
                f"unexpected {token[1]!r} at column {token[2] + 1}"
                + (
                    f": {_EXPR_KEYWORDS[token[1]]} is not in Ferry's subset"
                    if token[1] in _EXPR_KEYWORDS
                    else ""
                )
            )
        return node

    def logical_or(self) -> Node:
        node = self.logical_and()
        while self.at("or", "||"):
            self.take()
            node = Logical("or", node, self.logical_and())
        return node

    def logical_and(self) -> Node:
        node = self.negation()
        while self.at("and", "&&"):
            self.take()
            node = Logical("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.at("not", "!"):
            self.take()
            return Not(self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        if self.at("==", "!=", "<", ">", "<=", ">=", "in"):
            op = self.take()[1]
            return Compare(op, left, self.operand())
        nxt = self.peek(1)
        if self.at("not") and nxt is not None and nxt[1] == "in":
            self.i += 2
            return Compare("not in", left, self.operand())
        return left

    def operand(self) -> Node:
        kind, value, col = self.take()
        if kind == "number":
            return Literal(float(value) if "." in value else int(value))
        if kind == "string":
            return Literal(_unquote(value))
        if value == "(":
            node = self.logical_or()
            self.expect(")")
            return node
        if value == "[":
            items: list[Node] = []
            while not self.at("]"):
                items.append(self.operand())
                if not self.at("]"):
                    self.expect(",")
            self.take()
            return ListLiteral(tuple(items))
        if kind != "name":
            raise SelectorError(f"unexpected {value!r} at column {col + 1}")
        if value in ("true", "false"):
            return Literal(value == "true")
        if value == "nil":
            return Literal(None)
        if value in ROOTS:
            return self.reference(value)
        if self.at("("):
            return self.call(value, col)
        if value in _EXPR_KEYWORDS:
            raise SelectorError(f"{_EXPR_KEYWORDS[value]} is not in Ferry's subset")
        raise SelectorError(
            f"unknown name {value!r} at column {col + 1}; an expression reads {', '.join(ROOTS)}"
        )

    def reference(self, root: str) -> Ref:
        path: list[str | int] = []
        while self.at(".", "["):
            if self.take()[1] == ".":
                kind, value, col = self.take()
                if kind != "name":
                    raise SelectorError(f"expected a field name at column {col + 1}")
                path.append(value)
                continue
            kind, value, col = self.take()
            if kind == "string":
                path.append(_unquote(value))
            elif kind == "number" and "." not in value:
                path.append(int(value))
            else:
                raise SelectorError(
                    f"an index at column {col + 1} must be a string or an integer literal"
                )
            self.expect("]")
        return Ref(root, tuple(path))

    def call(self, name: str, col: int) -> Call:
        if name not in FUNCTIONS:
            raise SelectorError(
                f"function {name!r} is not in Ferry's subset; supported: "
                f"{', '.join(sorted(FUNCTIONS))}"
            )
        self.expect("(")
        args: list[Node] = []
        while not self.at(")"):
            args.append(self.logical_or())
            if not self.at(")"):
                self.expect(",")
        self.take()
        if len(args) != FUNCTIONS[name]:
            raise SelectorError(
                f"{name}() at column {col + 1} takes {FUNCTIONS[name]} argument(s), got {len(args)}"
            )
        return Call(name, tuple(args))


def parse(text: str) -> Node:
    """Parse an expression of the subset; raise SelectorError naming what is not in it."""
    return _Parser(text).parse()


def references(node: Node) -> list[Ref]:
    """Every reference in an expression, in order."""
    if isinstance(node, Ref):
        return [node]
    if isinstance(node, Literal):
        return []
    if isinstance(node, ListLiteral | Call):
        children: tuple[Node, ...] = node.items if isinstance(node, ListLiteral) else node.args
        return [r for child in children for r in references(child)]
    if isinstance(node, Not):
        return references(node.operand)
    return references(node.left) + references(node.right)


def quote(value: str) -> str:
    """A string literal of the subset (and of expr) holding ``value``."""
    return json.dumps(value, ensure_ascii=False)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if type(a) is not type(b) and not (isinstance(a, list) and isinstance(b, list)):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _type(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if _is_number(value):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "map"}
    return names.get(type(value), type(value).__name__)


def _fetch(value: Any, part: str | int) -> Any:
    if isinstance(value, dict) and isinstance(part, str):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int):
        index = part + len(value) if part < 0 else part
        if not 0 <= index < len(value):
            raise SelectorError(f"index {part} out of range (len {len(value)})")
        return value[index]
    raise SelectorError(f"cannot fetch {part!r} from {_type(value)}")


def _string_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SelectorError(f"{name}() needs a string, got {_type(value)}")
    return value


def _call(name: str, args: list[Any]) -> Any:
    if name == "len":
        (value,) = args
        if isinstance(value, str):
            return len(value.encode("utf-8"))
        if isinstance(value, list | dict):
            return len(value)
        raise SelectorError(f"invalid argument for len (type {_type(value)})")
    strings = [_string_arg(name, a) for a in args]
    if name == "lower":
        return strings[0].lower()
    if name == "upper":
        return strings[0].upper()
    if name == "trim":
        return strings[0].strip(" \t\n\r\v\f")
    if name == "trimPrefix":
        return strings[0].removeprefix(strings[1])
    if name == "trimSuffix":
        return strings[0].removesuffix(strings[1])
    if name == "hasPrefix":
        return strings[0].startswith(strings[1])
    return strings[0].endswith(strings[1])


def _bool(op: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SelectorError(f"invalid operation: {op} on {_type(value)}")
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("in", "not in"):
        if isinstance(right, list):
            found = any(_equal(left, item) for item in right)
        elif isinstance(right, dict) and isinstance(left, str):
            found = left in right
        else:
            raise SelectorError(f"invalid operation: {_type(left)} in {_type(right)}")
        return found if op == "in" else not found
    both_numbers = _is_number(left) and _is_number(right)
    if not (both_numbers or (isinstance(left, str) and isinstance(right, str))):
        raise SelectorError(f"invalid operation: {_type(left)} {op} {_type(right)}")
    if op == "<":
        return bool(left < right)
    if op == ">":
        return bool(left > right)
    if op == "<=":
        return bool(left <= right)
    return bool(left >= right)


def evaluate(node: Node, env: dict[str, Any]) -> Any:
    """Evaluate a parsed expression over an event environment, as expr would.

    ``env`` holds ``payload`` (the decoded JSON body), ``metadata`` (header -> list of
    values) and ``discriminator``. A missing map key reads as nil; fetching from nil,
    comparing values of types that do not order, a non-boolean operand of
    ``and``/``or``/``not`` and a wrong argument type raise SelectorError (Argo logs
    the error and the binding does not fire).
    """
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ListLiteral):
        return [evaluate(item, env) for item in node.items]
    if isinstance(node, Ref):
        value = env.get(node.root)
        for part in node.path:
            value = _fetch(value, part)
        return value
    if isinstance(node, Call):
        return _call(node.name, [evaluate(arg, env) for arg in node.args])
    if isinstance(node, Not):
        return not _bool("not", evaluate(node.operand, env))
    if isinstance(node, Logical):
        left = _bool(node.op, evaluate(node.left, env))
        if (node.op == "and") != left:
            return left
        return _bool(node.op, evaluate(node.right, env))
    return _compare(node.op, evaluate(node.left, env), evaluate(node.right, env))


def matches(selector: str, env: dict[str, Any]) -> bool:
    """Whether a selector holds for an event; SelectorError when it is not a boolean."""
    result = evaluate(parse(selector), env)
    if not isinstance(result, bool):
        raise SelectorError(f"the selector gives {_type(result)}, not a bool")
    return result


def parameter_value(result: Any) -> str:
    """The workflow parameter Argo makes of an expression's result.

    Argo JSON-encodes the result and strips the quotes of a string
    (``wfv1.Item.String``), so a string arrives as itself and anything else as JSON.
    """
    if isinstance(result, str):
        return result
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False)
