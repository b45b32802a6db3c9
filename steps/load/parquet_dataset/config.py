"""The typed config of ``load-parquet``."""

from typing import Any, ClassVar, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from steps.runtime.config import StepConfig
from steps.runtime.store import S3_SCHEME


class ParquetDatasetLoad(StepConfig):
    """Load the single input artifact into a Parquet dataset folder, idempotently per run."""

    KIND: ClassVar[str] = "load-parquet"
    ROLE: ClassVar[str] = "target"

    path: str = Field(
        min_length=1,
        description="The dataset: a local folder (relative to the working directory) or "
        "`s3://bucket/prefix`.",
    )
    partition_by: list[str] = Field(
        default_factory=list,
        description="Columns to partition by, Hive style (`col=value/` folders, in this order). "
        "Their values live in the folder names, not in the files.",
    )
    mode: Literal["append", "overwrite", "overwrite-partitions", "merge"] = Field(
        default="append",
        description="append: add this run's files (a retry of the same run replaces them); "
        "overwrite: replace every data file of the dataset; overwrite-partitions: replace "
        "only the partitions the new data has rows in (needs partition_by); merge: upsert "
        "by key into the partitions the new data has rows in (needs key).",
    )
    key: list[str] = Field(
        default_factory=list,
        description="merge only: the columns whose values identify a row; a new row replaces "
        "the existing row with the same key in its partition.",
    )
    batch_size: int = Field(
        default=65_536, gt=0, description="Rows per record batch read from the input."
    )
    max_rows_per_file: int = Field(
        default=1_000_000, gt=0, description="Most rows in one Parquet file of the dataset."
    )

    @field_validator("path")
    @classmethod
    def _path_has_a_parent(cls, path: str) -> str:
        """Staging happens in a sibling of the dataset folder, so the dataset needs a parent."""
        if path.startswith(S3_SCHEME) and "/" not in path[len(S3_SCHEME) :].strip("/"):
            raise ValueError(
                f"{path!r} is a bucket root; loads stage their files next to the dataset "
                f"folder, so put the dataset under a prefix, e.g. {path.rstrip('/')}/<name>"
            )
        if path.strip("/") == "" and path.startswith("/"):
            raise ValueError("'/' cannot be a dataset; use a folder below it")
        return path

    @field_validator("partition_by")
    @classmethod
    def _partition_folders_are_visible(cls, partition_by: list[str]) -> list[str]:
        """Readers skip folders whose names start with ``_`` or ``.``: their rows would vanish."""
        hidden = [c for c in partition_by if c.startswith(("_", "."))]
        if hidden:
            raise ValueError(
                f"column(s) {', '.join(map(repr, hidden))} start with '_' or '.', so readers "
                "would skip their col=value folders; rename the column (e.g. in a transform) "
                "or leave it out of partition_by"
            )
        return partition_by

    @model_validator(mode="after")
    def _partitioning_fits_mode(self) -> "ParquetDatasetLoad":
        for field, columns in (("partition_by", self.partition_by), ("key", self.key)):
            duplicates = sorted({c for c in columns if columns.count(c) > 1})
            if duplicates:
                raise ValueError(f"{field} names {', '.join(duplicates)} more than once")
        if self.mode == "overwrite-partitions" and not self.partition_by:
            raise ValueError(
                "mode 'overwrite-partitions' needs partition_by; use 'overwrite' to replace "
                "the whole dataset"
            )
        if self.mode == "merge" and not self.key:
            raise ValueError(
                "mode 'merge' needs key, the columns that identify a row; set key, "
                'e.g. "key": ["order_id"]'
            )
        if self.mode != "merge" and self.key:
            raise ValueError(f"key is used only by mode 'merge', not {self.mode!r}; remove key")
        return self

    @model_serializer(mode="wrap")
    def _omit_unused_key(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out an empty ``key``, so configs of the other modes serialise as they did."""
        data: dict[str, Any] = handler(self)
        if not self.key:
            data.pop("key", None)
        return data

    def input_columns(self) -> dict[str, list[str]]:
        """The partition and merge-key columns, which the input must have."""
        return {"partition_by": list(self.partition_by), "key": list(self.key)}

    def redelivery_problem(self) -> str | None:
        """An append adds a re-delivered row again; merge replaces it by key."""
        if self.mode == "append":
            return "mode 'append' would duplicate those rows; use mode='merge' with a key"
        return None
