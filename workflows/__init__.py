"""Ferry's pipeline side: define pipelines, render them to Argo, run them locally.

Everything a pipeline definition needs comes from this one import::

    from workflows import Checks, FilesExtract, NotNull, Pipeline, Source, Target

The names load on first use, so importing a sub-package (e.g. the CLI) does not
import the pipeline API and the step configs behind it.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steps.checks.config import (
        AcceptedValues,
        NotNull,
        Range,
        Regex,
        RowCount,
        Rule,
        SqlRule,
        Unique,
    )
    from steps.databases.config import SecretRef
    from steps.extract.files.config import CsvOptions, FilesExtract
    from steps.extract.http.config import (
        ApiKeyAuth,
        BasicAuth,
        BearerAuth,
        CursorPagination,
        HttpExtract,
        LinkHeaderPagination,
        NextLinkPagination,
        OffsetPagination,
        PagePagination,
    )
    from steps.extract.sql.config import SqlExtract
    from steps.load.parquet_dataset.config import ParquetDatasetLoad
    from steps.load.sql_table.config import SqlTableLoad
    from steps.python_step.rejected import Rejected
    from steps.runtime.config import Cursor
    from workflows.alerts import Alert
    from workflows.partitions import (
        DateRange,
        FileGlob,
        FromStep,
        KeyRanges,
        PartitionList,
        SameAs,
        partition,
    )
    from workflows.pipeline import (
        TTL,
        Checks,
        Pipeline,
        PodGC,
        PythonStep,
        Resources,
        RetryPolicy,
        Schedule,
        Source,
        Target,
        Transform,
        param,
    )
    from workflows.triggers import AfterPipeline, EventTrigger, ObjectArrival

_EXPORTS = {
    "workflows.alerts": ("Alert",),
    "workflows.pipeline": (
        "Checks",
        "Pipeline",
        "PodGC",
        "PythonStep",
        "Resources",
        "RetryPolicy",
        "Schedule",
        "Source",
        "Target",
        "Transform",
        "TTL",
        "param",
    ),
    "workflows.partitions": (
        "DateRange",
        "FileGlob",
        "FromStep",
        "KeyRanges",
        "PartitionList",
        "SameAs",
        "partition",
    ),
    "steps.checks.config": (
        "AcceptedValues",
        "NotNull",
        "Range",
        "Regex",
        "RowCount",
        "Rule",
        "SqlRule",
        "Unique",
    ),
    "steps.databases.config": ("SecretRef",),
    "steps.extract.files.config": ("CsvOptions", "FilesExtract"),
    "steps.extract.http.config": (
        "ApiKeyAuth",
        "BasicAuth",
        "BearerAuth",
        "CursorPagination",
        "HttpExtract",
        "LinkHeaderPagination",
        "NextLinkPagination",
        "OffsetPagination",
        "PagePagination",
    ),
    "steps.extract.sql.config": ("SqlExtract",),
    "steps.load.parquet_dataset.config": ("ParquetDatasetLoad",),
    "steps.load.sql_table.config": ("SqlTableLoad",),
    "steps.python_step.rejected": ("Rejected",),
    "steps.runtime.config": ("Cursor",),
    "workflows.triggers": ("AfterPipeline", "EventTrigger", "ObjectArrival"),
}
"""Module -> the public names it provides."""

_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "TTL",
    "AcceptedValues",
    "AfterPipeline",
    "Alert",
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "Checks",
    "CsvOptions",
    "Cursor",
    "CursorPagination",
    "DateRange",
    "EventTrigger",
    "FileGlob",
    "FilesExtract",
    "FromStep",
    "HttpExtract",
    "KeyRanges",
    "LinkHeaderPagination",
    "NextLinkPagination",
    "NotNull",
    "ObjectArrival",
    "OffsetPagination",
    "PagePagination",
    "ParquetDatasetLoad",
    "PartitionList",
    "Pipeline",
    "PodGC",
    "PythonStep",
    "Range",
    "Regex",
    "Rejected",
    "Resources",
    "RetryPolicy",
    "RowCount",
    "Rule",
    "SameAs",
    "Schedule",
    "SecretRef",
    "Source",
    "SqlExtract",
    "SqlRule",
    "SqlTableLoad",
    "Target",
    "Transform",
    "Unique",
    "param",
    "partition",
]


def __getattr__(name: str) -> Any:
    if name in _MODULE_OF:
        return getattr(import_module(_MODULE_OF[name]), name)
    raise AttributeError(f"module 'workflows' has no attribute {name!r}")
