"""The typed config of ``extract-files``."""

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steps.runtime.column_types import TYPE_NAMES_HELP, arrow_schema, validate_declared_columns
from steps.runtime.config import StepConfig

if TYPE_CHECKING:
    import pyarrow as pa


class CsvOptions(BaseModel):
    """How CSV files are split into fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = Field(
        default=",", min_length=1, max_length=1, description="Field separator, one character."
    )
    header: bool = Field(
        default=True,
        description="Whether the first line names the columns. Without a header, declare "
        "`columns` (their order is the field order) or get f0, f1, ...",
    )
    null_values: list[str] = Field(
        default_factory=lambda: [""],
        description="Field texts read as null (in every column, strings included).",
    )
    quote_char: str = Field(
        default='"', min_length=1, max_length=1, description="Quote character, one character."
    )
    max_field_bytes: int = Field(
        default=1 << 20,
        gt=0,
        description="Longest quoted value, in bytes. A quoted value not closed within this "
        "many bytes of its opening quote (or not before the end of the file) makes its record "
        "malformed: that record ends with the line where the quote opened.",
    )
    block_size: int = Field(
        default=4 << 20,
        gt=0,
        description="Bytes read at a time; the longest record. The first block is the sample "
        "that infers an undeclared schema. Must be larger than max_field_bytes.",
    )

    @model_validator(mode="after")
    def _field_fits_in_block(self) -> "CsvOptions":
        if self.max_field_bytes >= self.block_size:
            raise ValueError(
                f"max_field_bytes ({self.max_field_bytes}) must be less than block_size "
                f"({self.block_size}), since a record must fit in one block; raise block_size"
            )
        return self


class FilesExtract(StepConfig):
    """Read files (local or ``s3://``) in record batches into the step's artifact."""

    KIND: ClassVar[str] = "extract-files"
    ROLE: ClassVar[str] = "source"
    DECLARES_FRESHNESS: ClassVar[bool] = True

    path: str = Field(
        min_length=1,
        description="A file, a glob (`data/orders/*.csv`, `**` spans folders) or "
        "`s3://bucket/prefix/*.parquet`. Relative local paths resolve against the working "
        "directory. Files are read in sorted order; names starting with `.` or `_` are "
        "skipped by globs.",
    )
    format: Literal["csv", "jsonl", "parquet"] = Field(
        description="File format: `csv`, `jsonl` (JSON Lines) or `parquet`."
    )
    compression: Literal["auto", "none", "gzip", "zstd", "bz2", "lz4"] = Field(
        default="auto",
        description="How CSV and JSON Lines files are compressed. `auto` goes by each file's "
        "suffix (`.gz`/`.gzip` gzip, `.zst`/`.zstd` zstd, `.bz2` bz2, `.lz4` lz4 frames, "
        "anything else none); a file read uncompressed that starts like a compressed one is "
        "refused. Parquet compresses inside the file: leave `auto`.",
    )
    columns: dict[str, str] | None = Field(
        default=None,
        description=f"Declared schema, column -> type name ({TYPE_NAMES_HELP}). Files must have "
        "exactly these columns; values are cast to these types. None infers the schema from "
        "the first file and enforces it on the others.",
    )
    csv: CsvOptions = Field(
        default_factory=CsvOptions, description="CSV parsing options (format csv only)."
    )
    on_bad_row: Literal["fail", "quarantine"] = Field(
        default="fail",
        description="What to do with a malformed row or a value that does not fit its type: "
        "fail the step naming file and line, or move the row to the quarantine part.",
    )
    batch_size: int = Field(
        default=65_536, gt=0, description="Rows per record batch (and per Parquet row group)."
    )

    @model_validator(mode="after")
    def _compression_for_text_formats(self) -> "FilesExtract":
        if self.format == "parquet" and self.compression != "auto":
            raise ValueError(
                f"compression {self.compression!r} applies to csv and jsonl files; Parquet "
                "files are compressed inside, so leave compression out"
            )
        return self

    @field_validator("columns")
    @classmethod
    def _known_types(cls, columns: dict[str, str] | None) -> dict[str, str] | None:
        return validate_declared_columns(columns)

    def declared_columns(self) -> list[str] | None:
        """The declared column names, in order, or None when the schema is inferred."""
        return list(self.columns) if self.columns is not None else None

    def declared_schema(self) -> "pa.Schema | None":
        """The declared columns as an Arrow schema, or None when inferred."""
        return arrow_schema(self.columns)

    def cache_freshness(self) -> object | None:
        """The files ``path`` names, each with its size and modification time (ns)."""
        from steps.extract.files.listing import list_source_files
        from steps.extract.files.source import reading

        listing: list[list[object]] = []
        for loc in list_source_files(self.path):
            with reading(loc):
                info = loc.fs.get_file_info(loc.path)
            listing.append([loc.uri, info.size, info.mtime_ns])
        return listing
