"""The typed config of the ``python`` step."""

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, JsonValue, field_validator

from steps.python_step.function import parse_spec
from steps.runtime.artifacts import DEFAULT_BATCH_SIZE
from steps.runtime.column_types import TYPE_NAMES_HELP, arrow_schema, validate_declared_columns
from steps.runtime.config import StepConfig

if TYPE_CHECKING:
    import pyarrow as pa


class PythonStepConfig(StepConfig):
    """Run a user's Python function over the step's inputs, batch by batch.

    The function gets one iterator of ``pyarrow.RecordBatch`` per input, positionally
    in the order of ``inputs`` (and ``params=`` when it has a ``params`` parameter),
    and yields ``pyarrow.RecordBatch``, ``pyarrow.Table`` or ``Rejected`` items (see
    docs/python-steps.md).
    """

    KIND: ClassVar[str] = "python"
    ROLE: ClassVar[str] = "python"

    function: str = Field(
        description="The function to run, as 'package.module:function' (e.g. "
        "'my_steps.orders:enrich'); the module is imported from the step image's "
        "virtualenv, or from the pipeline's folder in a local run."
    )
    inputs: list[str] = Field(
        min_length=1,
        description="Upstream step names, in the order the function receives their batch "
        "iterators as positional arguments; each needs its --input NAME=URI.",
    )
    params: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="JSON values passed to the function as its `params` keyword argument "
        "(the function must then have a `params` parameter).",
    )
    columns: dict[str, str] | None = Field(
        default=None,
        description=f"Declared output schema, column -> type name ({TYPE_NAMES_HELP}). Every "
        "output batch must have exactly these columns and is cast to these types (safely: a "
        "value that does not fit fails the step). None takes the schema of the first output "
        "batch and holds every later batch to it.",
    )
    batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE,
        gt=0,
        description="Rows per record batch read from each input (the function may yield "
        "batches of any size).",
    )

    @field_validator("function")
    @classmethod
    def _spec(cls, function: str) -> str:
        parse_spec(function)
        return function

    @field_validator("inputs")
    @classmethod
    def _distinct_inputs(cls, inputs: list[str]) -> list[str]:
        seen: set[str] = set()
        for name in inputs:
            if not name:
                raise ValueError("an input name is empty; name an upstream step")
            if name in seen:
                raise ValueError(f"input {name!r} is listed twice; list each input once")
            seen.add(name)
        return inputs

    @field_validator("columns")
    @classmethod
    def _known_types(cls, columns: dict[str, str] | None) -> dict[str, str] | None:
        return validate_declared_columns(columns)

    def cache_freshness(self) -> object | None:
        """The SHA-256 of the function's module source: editing the code invalidates."""
        import hashlib
        import importlib.util

        module, _ = parse_spec(self.function)
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        if origin is None or not origin.endswith(".py"):
            return None
        with open(origin, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def declared_columns(self) -> list[str] | None:
        """The declared output column names, in order, or None when taken from the output."""
        return list(self.columns) if self.columns is not None else None

    def declared_schema(self) -> "pa.Schema | None":
        """The declared columns as an Arrow schema, or None when not declared."""
        return arrow_schema(self.columns)

    def call_params(self) -> dict[str, Any]:
        """The ``params`` keyword argument's value."""
        return dict(self.params)
