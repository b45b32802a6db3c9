"""The schema every file must fit: the declared one, or the first file's.

Files of one extract become one artifact with one schema. With declared columns the
config is the contract; without, the first file read fixes the schema and every
later file is held to it. Either way a mismatch is an error naming the file(s) and
the column, because guessing would silently change the data.
"""

import pyarrow as pa

from steps.extract.files.casting import CastFailure, UnsupportedCast, cast_batch
from steps.runtime.errors import DataRejected


def _listing(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


class TargetSchema:
    """The schema the output has, and the checks that hold each file to it."""

    def __init__(self, declared: pa.Schema | None) -> None:
        self.schema = declared
        self.declared = declared is not None
        self.first_file = ""

    def adopt(self, file: str, inferred: pa.Schema) -> None:
        """Fix the schema from the first file when none is declared (null types -> string)."""
        if self.schema is not None:
            return
        self.schema = pa.schema(
            [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in inferred]
        )
        self.first_file = file

    @property
    def names(self) -> list[str]:
        """The output column names, in output order."""
        assert self.schema is not None
        return list(self.schema.names)

    def check_columns(self, file: str, names: list[str], *, missing_ok: bool = False) -> None:
        """Fail unless ``names`` are the target's columns (any order).

        ``missing_ok`` accepts absent columns (JSON Lines: an absent key is null).
        """
        extra = [n for n in names if n not in self.names]
        missing = [] if missing_ok else [n for n in self.names if n not in names]
        if self.declared:
            if missing:
                raise DataRejected(
                    f"{file}: declared column {missing[0]!r} is missing (the file has "
                    f"{_listing(names)}); fix the file or the columns in the config"
                )
            if extra:
                raise DataRejected(
                    f"{file}: undeclared columns {_listing(extra)}; add them to columns in "
                    "the config or remove them from the file"
                )
        elif missing or extra:
            problem = (
                f"column {missing[0]!r} is missing"
                if missing
                else f"column {extra[0]!r} is not in that schema"
            )
            raise DataRejected(
                f"{file} does not match the schema inferred from {self.first_file} (the first "
                f"file): "
                f"{problem}; make the files agree or declare columns in the config"
            )

    def cast(
        self,
        file: str,
        batch: pa.RecordBatch,
        *,
        per_value_types: bool = False,
        exact_text: bool = False,
    ) -> tuple[pa.RecordBatch, list[CastFailure]]:
        """Cast a batch (columns already in target order) to the target schema.

        ``per_value_types`` (JSON Lines, where each value has a type) and ``exact_text``
        (CSV with an inferred schema): see ``cast_batch``.
        """
        assert self.schema is not None
        try:
            return cast_batch(
                batch, self.schema, per_value_types=per_value_types, exact_text=exact_text
            )
        except UnsupportedCast as err:
            if self.declared:
                raise DataRejected(
                    f"{file}: {err}; declare the column's real type and convert it in a transform"
                ) from None
            raise DataRejected(
                f"{file} does not match the schema inferred from {self.first_file} (the first "
                f"file): "
                f"{err}; make the files agree or declare columns in the config"
            ) from None
