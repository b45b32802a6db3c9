"""What every SQL dialect provides: the interface generic code asks.

A dialect is a small object (one per folder, ``steps/databases/<dialect>/dialect.py``)
whose methods delegate to that folder's modules; drivers are imported inside those
methods, so a step imports only the driver it uses.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

import pyarrow as pa

from steps.databases.registry import DialectName

if TYPE_CHECKING:
    from steps.databases.bounds import Bounds
    from steps.databases.errors import DatabaseFault
    from steps.databases.load_target import TargetDatabase
    from steps.databases.url import DatabaseUrl

Kind = Literal["int", "float", "bool", "date", "timestamp", "text", "other"]
"""The kind of value an existing column accepts, as far as Ferry checks values."""


class SqlDialect(ABC):
    """One database family: quoting, types, connections, error classification."""

    name: ClassVar[DialectName]

    @abstractmethod
    def quote_part(self, part: str) -> str:
        """One identifier part (no dots) quoted."""

    @abstractmethod
    def escape_text(self, text: str) -> str:
        """``text`` escaped for the inside of a single-quoted literal."""

    @abstractmethod
    def sql_type(self, arrow: pa.DataType, *, is_key: bool = False) -> str:
        """The column type Ferry creates for ``arrow`` values."""

    @abstractmethod
    def kind_of(self, declared: str) -> Kind:
        """The kind of value an existing column of SQL type ``declared`` accepts."""

    def same_name(self, name: str) -> str:
        """``name`` as compared with the table's column names (exact by default)."""
        return name

    @abstractmethod
    def stream(
        self, url: "DatabaseUrl", password: str | None, sql: str, batch_size: int, bounds: "Bounds"
    ) -> Iterator[pa.RecordBatch]:
        """Run ``sql`` and yield its result as portable record batches (sizes as they come).

        Portable: plain Arrow types every target loads (no extension types); a value
        none holds raises :class:`steps.databases.errors.UnportableValue`.
        """

    @abstractmethod
    def open_target(
        self, url: "DatabaseUrl", password: str | None, bounds: "Bounds"
    ) -> "TargetDatabase":
        """A connection to a load target with this dialect's bulk path."""

    max_identifier: ClassVar[int | None] = None
    """The longest table name the database keeps (PostgreSQL: bytes), None: no limit."""

    @abstractmethod
    def classify(self, err: BaseException) -> "DatabaseFault | None":
        """What a driver exception means for a retry; None when it is not this driver's."""
