"""The typed config of ``load-parquet``."""

from typing import Any, ClassVar, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from steps.runtime.config import StepConfig


class ParquetDatasetLoad(StepConfig):
    """Load the single input artifact into a Parquet dataset folder, idempotently per run."""

    KIND: ClassVar[str] = "load-parquet"

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
