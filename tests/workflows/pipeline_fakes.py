"""Small step configs for pipeline tests, independent of the real extract/load kinds."""

from typing import Any, ClassVar

from pydantic import Field

from steps.runtime.config import Cursor, SecretEnv, StepConfig
from workflows import Checks, Pipeline, Source, Target


class FakeExtract(StepConfig):
    KIND: ClassVar[str] = "extract-fake"
    ROLE: ClassVar[str] = "source"

    path: str = Field(description="Where to read.")
    columns: list[str] | None = Field(default=None, description="Declared columns.")
    cursor: str | None = Field(default=None, description="Incremental cursor field.")
    token_secret: str | None = Field(default=None, description="Secret holding an API token.")

    def declared_columns(self) -> list[str] | None:
        return self.columns

    def incremental_cursor(self) -> Cursor | None:
        return Cursor(field=self.cursor) if self.cursor else None

    def secret_envs(self) -> list[SecretEnv]:
        if self.token_secret is None:
            return []
        return [SecretEnv(env="FAKE_TOKEN", secret_name=self.token_secret, secret_key="token")]


class FakeLoad(StepConfig):
    KIND: ClassVar[str] = "load-fake"
    ROLE: ClassVar[str] = "target"

    path: str = Field(description="Where to write.")
    mode: str = Field(default="replace", description="append duplicates a re-delivery.")
    key: list[str] = Field(default=[], description="Columns the load needs.")

    def input_columns(self) -> dict[str, list[str]]:
        return {"key": list(self.key)}

    def redelivery_problem(self) -> str | None:
        return "mode 'append' would duplicate those rows" if self.mode == "append" else None


def minimal(**overrides: Any) -> Pipeline:
    """orders (extract) -> orders-checked (check) -> out (load), with fields replaced.

    ``sources``, ``checks``, ``transform`` and ``targets`` are groups of steps, put
    into ``steps`` in that order. Unless ``targets`` is given, ``out`` reads the
    last check (or ``orders`` when there are no checks).
    """
    from steps.checks.config import NotNull

    fields: dict[str, Any] = {
        "name": "p",
        "sources": [Source(name="orders", config=FakeExtract(path="in", columns=["id", "x"]))],
        "checks": [Checks(name="orders-checked", input="orders", rules=[NotNull(column="id")])],
    }
    fields.update(overrides)
    if "targets" not in fields:
        last = fields["checks"][-1].name if fields["checks"] else "orders"
        fields["targets"] = [Target(name="out", input=last, config=FakeLoad(path="out"))]
    transform = fields.pop("transform", None)
    steps = [
        *fields.pop("sources"),
        *fields.pop("checks"),
        *([transform] if transform is not None else []),
        *fields.pop("targets"),
    ]
    return Pipeline(steps=steps, **fields)
