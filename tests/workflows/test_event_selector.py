"""Ferry's subset of Argo's event expressions: what parses, what is refused, how it evaluates."""

from typing import Any

import pytest

from workflows.event_selector import (
    SelectorError,
    evaluate,
    matches,
    parameter_value,
    parse,
    references,
)

MINIO = {
    "EventName": "s3:ObjectCreated:Put",
    "Key": "landing/orders/2024-05-01 a.csv",
    "Records": [
        {
            "eventTime": "2024-05-01T02:00:00.000Z",
            "s3": {
                "bucket": {"name": "landing"},
                "object": {"key": "orders/2024-05-01+a.csv", "size": 1234, "eTag": "abc"},
            },
        }
    ],
}
ENV: dict[str, Any] = {
    "discriminator": "orders",
    "metadata": {"x-source": ["crm"]},
    "payload": {"kind": "daily", "date": "2024-05-01", "n": 3, "tags": ["a", "b"], **MINIO},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ('discriminator == "orders"', True),
        ("discriminator != 'orders'", False),
        ('payload.kind == "daily" && payload.n > 2', True),
        ('payload.kind == "daily" and payload.n < 3', False),
        ("payload.n >= 3 or false", True),
        ("payload.n <= 2.5 || payload.n == 3.0", True),
        ('not (payload.kind == "full")', True),
        ('!(payload.kind in ["full", "delta"])', True),
        ('payload.kind not in ["full", "delta"]', True),
        ('"a" in payload.tags', True),
        ('"kind" in payload', True),
        ('metadata["x-source"] == ["crm"]', True),
        ("payload.missing == nil", True),
        ('payload["Records"][0].s3.object.size > 1000', True),
        ("payload.Records[-1].s3.bucket.name == 'landing'", True),
        ('hasPrefix(payload.Key, "landing/orders/") && hasSuffix(payload.Key, ".csv")', True),
        ('lower(upper(payload.kind)) == "daily" && len(payload.tags) == 2', True),
        ('trim("  x ") == "x" && len("é") == 2', True),
        ("payload.n == 3 && payload.n != true", True),
        ('"2024-04-30" < payload.date', True),
        ("-1 < 0", True),
    ],
)
def test_selectors_evaluate_as_expr_does(selector: str, expected: bool) -> None:
    assert matches(selector, ENV) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("payload.date", "2024-05-01"),
        ('trimPrefix(payload.Key, "landing/")', "orders/2024-05-01 a.csv"),
        ("payload.n", "3"),
        ("payload.tags", '["a","b"]'),
        ("payload.missing", "null"),
        ("payload.Records[0].s3.object.size", "1234"),
    ],
)
def test_parameter_values_are_what_argo_passes(expression: str, expected: str) -> None:
    assert parameter_value(evaluate(parse(expression), ENV)) == expected


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ('payload.kind + "x"', "'+'"),
        ("payload.a ?? 1", "'?"),
        ("payload?.a", "'?"),
        ("payload.a | lower()", "pipe"),
        ('payload.Key startsWith "a"', "startsWith"),
        ('payload.Key matches "a.*"', "matches"),
        ('payload.Key contains "a"', "contains"),
        ('sprig.trim("a")', "'sprig'"),
        ("toJson(payload)", "function 'toJson'"),
        ("namespace == 'argo'", "'namespace'"),
        ("filter(payload.tags, # == 'a')", "predicates"),
        ("filter(payload.tags)", "function 'filter'"),
        ("payload.n > 1 ? true : false", "'?"),
        ("`raw`", "raw strings"),
        ("let x = 1; x", "let"),
        ("{a: 1}", "map literals"),
        ("payload.tags[0:1]", "slices"),
        ("1..3", "'..'"),
        ("payload.a = 1", "operator '='"),
        ("payload.a & 1", "'&'"),
        ("hasPrefix(payload.Key)", "takes 2 argument(s)"),
        ("", "empty"),
        ("payload.a ==", "ends too early"),
        ("payload.a payload.b", "unexpected 'payload'"),
        ("payload[payload.k]", "string or an integer literal"),
        ('"\\x41"', "escape"),
        ("payload.contains == 1 && payload.let == 2", None),
    ],
)
def test_anything_outside_the_subset_is_refused_by_name(expression: str, named: str | None) -> None:
    if named is None:  # the same words as field names are fine
        parse(expression)
        return
    with pytest.raises(SelectorError) as caught:
        parse(expression)
    assert named in str(caught.value)


@pytest.mark.parametrize(
    "selector",
    [
        "payload.missing.deeper == 1",  # fetching from nil
        "payload.kind < 1",  # string and number do not order
        "payload.n and true",  # a non-bool operand
        "payload.Records[5].s3 == nil",  # index out of range
        "hasPrefix(payload.n, 'a')",  # a number where a string is needed
        '"a" in payload.kind',  # in a string
    ],
)
def test_runtime_errors_are_errors_not_matches(selector: str) -> None:
    with pytest.raises(SelectorError):
        matches(selector, ENV)


def test_a_selector_must_give_a_bool() -> None:
    with pytest.raises(SelectorError, match="not a bool"):
        matches("payload.date", ENV)


def test_short_circuit_skips_the_failing_side() -> None:
    assert matches("payload.missing != nil && payload.missing.x == 1", ENV) is False
    assert matches("payload.missing == nil || payload.missing.x == 1", ENV) is True


def test_strings_unescape_and_references_are_listed() -> None:
    tree = parse('payload["a b"] == "x\\ty\\u00e9" && metadata.x == discriminator')
    assert evaluate(tree, {"payload": {"a b": "x\ty\u00e9"}, "metadata": {}, "discriminator": None})
    assert [(r.root, r.path) for r in references(tree)] == [
        ("payload", ("a b",)),
        ("metadata", ("x",)),
        ("discriminator", ()),
    ]
