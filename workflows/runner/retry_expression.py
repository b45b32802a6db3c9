"""Argo's ``retryStrategy.expression``, for the forms the local runner can evaluate.

Argo evaluates the expression (expr-lang) after every failed attempt and retries only
when it is true and the ``retryPolicy`` allows a retry too. The runner evaluates the
subset Ferry renders and nothing more: ``lastRetry.exitCode`` and ``lastRetry.status``
compared with quoted strings by ``==``, ``!=``, ``in [...]`` and ``not in [...]``,
joined by ``&&`` and ``||``, grouped by parentheses. Anything else is refused when the
manifest is read, so no expression is ever half-understood.

As in Argo, ``lastRetry.exitCode`` is a string: ``'-1'`` when the attempt has no exit
code, ``128 + n`` for a process killed by signal ``n`` (what Kubernetes reports).
"""

import re
from dataclasses import dataclass

EXIT_CODE = "lastRetry.exitCode"
STATUS = "lastRetry.status"
SUPPORTED_FORMS = (
    f"it evaluates only {EXIT_CODE} or {STATUS} compared with quoted strings by "
    "==, !=, in [...] or not in [...], joined by && or ||"
)
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^'\\]*'|\"[^\"\\]*\")|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<symbol>&&|\|\||==|!=|[()\[\],])"
    r"|(?P<other>[<>]=?|\S))"
)


class UnsupportedExpression(ValueError):
    """The expression is outside what the local runner evaluates (the text says where)."""


@dataclass(frozen=True)
class LastRetry:
    """The ``lastRetry`` variables of one ended attempt, as Argo provides them."""

    exit_code: str
    status: str

    @classmethod
    def of(cls, status: str, exit_code: int | None) -> "LastRetry":
        """The variables of an attempt that ended in phase ``status`` with ``exit_code``.

        Args:
            status: the attempt's phase, ``Failed`` or ``Error``.
            exit_code: the process's exit code; negative for a signal, None when it never ran.
        """
        if exit_code is None:
            code = "-1"
        elif exit_code < 0:
            code = str(128 - exit_code)
        else:
            code = str(exit_code)
        return cls(exit_code=code, status=status)

    def value(self, variable: str) -> str:
        """The value of ``lastRetry.exitCode`` or ``lastRetry.status``."""
        return self.exit_code if variable == EXIT_CODE else self.status


@dataclass(frozen=True)
class Comparison:
    """``VARIABLE == 'a'``, ``!= 'a'``, ``in ['a', ...]`` or ``not in ['a', ...]``."""

    variable: str
    negated: bool
    values: tuple[str, ...]

    def evaluate(self, last: LastRetry) -> bool:
        """Whether the comparison holds for ``last``."""
        return (last.value(self.variable) in self.values) != self.negated


@dataclass(frozen=True)
class AllOf:
    """Terms joined by ``&&``."""

    terms: tuple["RetryExpression", ...]

    def evaluate(self, last: LastRetry) -> bool:
        """Whether every term holds for ``last``."""
        return all(term.evaluate(last) for term in self.terms)


@dataclass(frozen=True)
class AnyOf:
    """Terms joined by ``||``."""

    terms: tuple["RetryExpression", ...]

    def evaluate(self, last: LastRetry) -> bool:
        """Whether any term holds for ``last``."""
        return any(term.evaluate(last) for term in self.terms)


RetryExpression = Comparison | AllOf | AnyOf


def parse_retry_expression(text: str) -> RetryExpression:
    """Parse a ``retryStrategy.expression`` the local runner can evaluate.

    Raises:
        UnsupportedExpression: with what is not supported and where.
    """
    return _Parser(_tokens(text)).parse()


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        assert match is not None and match.lastgroup is not None  # "other" takes any character
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent: ``any := all ('||' all)*; all := term ('&&' term)*``."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def parse(self) -> RetryExpression:
        if not self.tokens:
            raise UnsupportedExpression("the expression is empty")
        expression = self._any()
        if self.position < len(self.tokens):
            raise UnsupportedExpression(f"{self._peek().text!r} is not supported there")
        return expression

    def _peek(self) -> _Token:
        if self.position >= len(self.tokens):
            raise UnsupportedExpression("the expression ends early")
        return self.tokens[self.position]

    def _take(self, text: str | None = None) -> _Token:
        token = self._peek()
        if text is not None and token.text != text:
            raise UnsupportedExpression(f"{token.text!r} is not supported there (expected {text})")
        self.position += 1
        return token

    def _at(self, text: str) -> bool:
        return self.position < len(self.tokens) and self.tokens[self.position].text == text

    def _any(self) -> RetryExpression:
        terms = [self._all()]
        while self._at("||"):
            self._take("||")
            terms.append(self._all())
        return terms[0] if len(terms) == 1 else AnyOf(tuple(terms))

    def _all(self) -> RetryExpression:
        terms = [self._term()]
        while self._at("&&"):
            self._take("&&")
            terms.append(self._term())
        return terms[0] if len(terms) == 1 else AllOf(tuple(terms))

    def _term(self) -> RetryExpression:
        if self._at("("):
            self._take("(")
            inner = self._any()
            self._take(")")
            return inner
        variable = self._take()
        if variable.text not in (EXIT_CODE, STATUS):
            raise UnsupportedExpression(
                f"{variable.text!r} is not supported (only {EXIT_CODE} and {STATUS})"
            )
        operator = self._take().text
        if operator in ("==", "!="):
            return Comparison(variable.text, operator == "!=", (self._string(),))
        if operator == "not":
            self._take("in")
            return Comparison(variable.text, True, self._list())
        if operator == "in":
            return Comparison(variable.text, False, self._list())
        raise UnsupportedExpression(f"operator {operator!r} is not supported")

    def _list(self) -> tuple[str, ...]:
        self._take("[")
        values = [self._string()]
        while self._at(","):
            self._take(",")
            values.append(self._string())
        self._take("]")
        return tuple(values)

    def _string(self) -> str:
        token = self._take()
        if token.kind == "number":
            raise UnsupportedExpression(
                f"{token.text} is a number; lastRetry values are strings in Argo, "
                f"write '{token.text}'"
            )
        if token.kind != "string":
            raise UnsupportedExpression(f"{token.text!r} is not a quoted string")
        return token.text[1:-1]
