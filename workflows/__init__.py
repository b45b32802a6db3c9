"""Ferry's pipeline side: define pipelines, render them to Argo, run them locally.

The pipeline API is re-exported here::

    from workflows import Checks, Pipeline, Schedule, Source, Target, Transform, param

The re-exports load on first use, so importing a sub-package (e.g. the CLI) does
not import the pipeline API and the step configs behind it.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.pipeline import (
        Checks,
        Pipeline,
        Resources,
        RetryPolicy,
        Schedule,
        Source,
        Target,
        Transform,
        param,
    )

__all__ = [
    "Checks",
    "Pipeline",
    "Resources",
    "RetryPolicy",
    "Schedule",
    "Source",
    "Target",
    "Transform",
    "param",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from workflows import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'workflows' has no attribute {name!r}")
