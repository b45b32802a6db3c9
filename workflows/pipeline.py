"""The pipeline API: a pipeline is sources -> checks -> transform -> targets.

A definition is plain data (pydantic models). Nothing runs here: ``ferry render``
validates it (``workflows.validation``) and renders it to Argo manifests
(``workflows.render``); ``ferry run`` executes those manifests.

Example:
    >>> from steps.extract.files.config import FilesExtract
    >>> from steps.load.parquet_dataset.config import ParquetDatasetLoad
    >>> pipeline = Pipeline(
    ...     name="copy-orders",
    ...     sources=[Source(name="orders", config=FilesExtract(path="in/*.csv", format="csv"))],
    ...     targets=[Target(name="out", input="orders", config=ParquetDatasetLoad(path="out"))],
    ... )
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from steps.checks.config import ChecksConfig, Rule
from steps.runtime.config import StepConfig
from steps.transform.config import DEFAULT_MEMORY_LIMIT, TransformConfig

BUILTIN_PARAMS = ("store", "run_date")
"""Workflow parameters every pipeline has; a pipeline's own ``params`` come on top."""

RUN_DATE_DEFAULT = (
    "{{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}"
    "-{{workflow.creationTimestamp.d}}"
)
"""Default of ``run_date``: the UTC day the workflow was created, as ``YYYY-MM-DD``."""


def param(name: str) -> str:
    """The Argo reference to a workflow parameter, for use inside any config string.

    Example:
        >>> param("run_date")
        '{{workflow.parameters.run_date}}'
    """
    return "{{workflow.parameters." + name + "}}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryPolicy(_Model):
    """How Argo retries a failed step (rendered as the template's ``retryStrategy``)."""

    limit: int = Field(default=2, ge=0, description="Retries after the first attempt.")
    policy: Literal["Always", "OnFailure", "OnError", "OnTransientError"] = Field(
        default="Always",
        description=(
            "Which attempts are retried: Always = a failed step or a pod error, OnFailure = "
            "only a failed step. Exits 2 (bad config) and 3 (data rejected) never are."
        ),
    )
    backoff_duration: str = Field(
        default="10s", description="Wait before the first retry (Go duration, e.g. 10s, 2m)."
    )
    backoff_factor: int = Field(
        default=2, ge=1, description="Each further wait is the previous one times this."
    )
    backoff_max_duration: str = Field(
        default="5m", description="Give up retrying once this much time has passed."
    )


class Resources(_Model):
    """CPU and memory of a step's container (Kubernetes quantities)."""

    cpu_request: str = Field(default="250m", description="CPU the scheduler reserves.")
    memory_request: str = Field(default="512Mi", description="Memory the scheduler reserves.")
    cpu_limit: str = Field(default="2", description="CPU the container may use at most.")
    memory_limit: str = Field(
        default="2Gi", description="Memory above which the container is killed."
    )


class Schedule(_Model):
    """When a pipeline runs on its own (rendered as a CronWorkflow)."""

    cron: list[str] = Field(description="Cron expressions (5 fields), e.g. ['0 2 * * *'].")
    timezone: str = Field(default="UTC", description="IANA timezone the cron is read in.")
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = Field(
        default="Forbid", description="What to do when a run is due while the last one runs."
    )
    suspend: bool = Field(default=False, description="True pauses the schedule.")
    starting_deadline_seconds: int = Field(
        default=300, ge=0, description="A run that missed its time by more than this is skipped."
    )
    successful_history_limit: int = Field(
        default=3, ge=0, description="Succeeded workflows Argo keeps."
    )
    failed_history_limit: int = Field(default=3, ge=0, description="Failed workflows Argo keeps.")


class _Node(_Model):
    name: str = Field(description="Step name: a Kubernetes name (lowercase, digits, '-').")
    retry: RetryPolicy | None = Field(
        default=None, description="Retry policy of this step; None uses the pipeline's."
    )
    resources: Resources | None = Field(
        default=None, description="Resources of this step; None uses the pipeline's."
    )
    active_deadline_seconds: int | None = Field(
        default=None, description="Kill this step after so many seconds; None uses the pipeline's."
    )

    def upstream(self) -> list[str]:
        """Names of the steps this one reads."""
        return []


class Source(_Node):
    """Extract data from a system into an artifact."""

    config: SerializeAsAny[StepConfig] = Field(
        description="An extract config, e.g. FilesExtract, SqlExtract, HttpExtract."
    )


class Checks(_Node):
    """Data-quality rules over one upstream step; failing rows go to quarantine."""

    input: str = Field(description="The step whose rows are checked.")
    rules: list[Rule] = Field(description="Rules every row (or the whole set) must pass.")
    threshold: float | None = Field(
        default=None,
        description="Lowest accepted share of passing rows (0..1); None uses the pipeline's.",
    )

    def upstream(self) -> list[str]:
        """Names of the steps this one reads."""
        return [self.input]

    def step_config(self, default_threshold: float) -> ChecksConfig:
        """The ``check`` step config this node runs as."""
        threshold = default_threshold if self.threshold is None else self.threshold
        return ChecksConfig(rules=self.rules, threshold=threshold)


class Transform(_Node):
    """SQL (DuckDB) over upstream steps; each input is a table named after its step."""

    inputs: list[str] = Field(description="Steps the SQL reads, each as a table of that name.")
    sql: str = Field(description="One SELECT statement; its result is this step's output.")
    memory_limit: str = Field(
        default=DEFAULT_MEMORY_LIMIT,
        description="DuckDB memory limit; beyond it DuckDB spills to the temp folder.",
    )
    keep_order: bool = Field(
        default=False,
        description="Keep the input's row order where the SQL has no ORDER BY (costs memory).",
    )

    def upstream(self) -> list[str]:
        """Names of the steps this one reads."""
        return list(self.inputs)

    def step_config(self) -> TransformConfig:
        """The ``transform`` step config this node runs as."""
        return TransformConfig(
            sql=self.sql, memory_limit=self.memory_limit, keep_order=self.keep_order
        )


class Target(_Node):
    """Load one upstream step's output into a system."""

    input: str = Field(description="The step whose rows are loaded.")
    config: SerializeAsAny[StepConfig] = Field(
        description="A load config, e.g. ParquetDatasetLoad, SqlTableLoad."
    )

    def upstream(self) -> list[str]:
        """Names of the steps this one reads."""
        return [self.input]


Node = Source | Checks | Transform | Target
"""Any step of a pipeline."""


class Pipeline(_Model):
    """One ETL pipeline: what to extract, check, transform and load, and how to run it."""

    name: str = Field(description="Pipeline name: a Kubernetes name of at most 52 characters.")
    sources: list[Source] = Field(description="Where data comes from; at least one.")
    checks: list[Checks] = Field(default=[], description="Data-quality gates, in any order.")
    transform: Transform | None = Field(default=None, description="At most one SQL transform.")
    targets: list[Target] = Field(description="Where data goes; at least one.")
    params: dict[str, str] = Field(
        default={},
        description="Extra workflow parameters with their defaults; use them via param(name).",
    )
    schedule: Schedule | None = Field(
        default=None, description="Run on a schedule (renders a CronWorkflow); None: on demand."
    )
    image: str = Field(
        default="ghcr.io/ferry-etl/ferry-step:0.1.0", description="The step image every step uses."
    )
    image_pull_policy: str = Field(
        default="IfNotPresent", description="Kubernetes imagePullPolicy of every step."
    )
    store: str = Field(
        default="s3://ferry",
        description="Default of the 'store' parameter: s3://bucket/prefix or a folder.",
    )
    retry: RetryPolicy = Field(
        default=RetryPolicy(), description="Retry policy of every step without its own."
    )
    resources: Resources = Field(
        default=Resources(), description="Resources of every step without its own."
    )
    quality_threshold: float = Field(
        default=0.95, description="Threshold of every Checks step without its own (0..1)."
    )
    active_deadline_seconds: int | None = Field(
        default=None, description="Deadline of every step without its own; None: no deadline."
    )
    service_account: str = Field(
        default="ferry-workflow", description="Kubernetes service account the pods run as."
    )
    labels: dict[str, str] = Field(
        default={}, description="Extra labels on every rendered resource and pod."
    )

    def nodes(self) -> list[Node]:
        """Every step in definition order: sources, checks, transform, targets."""
        nodes: list[Node] = [*self.sources, *self.checks]
        if self.transform is not None:
            nodes.append(self.transform)
        nodes.extend(self.targets)
        return nodes

    def step_config(self, node: Node) -> StepConfig:
        """The step config a node runs as: Source/Target carry one, Checks/Transform build one."""
        if isinstance(node, Source | Target):
            return node.config
        if isinstance(node, Checks):
            return node.step_config(self.quality_threshold)
        return node.step_config()

    def parameter_defaults(self) -> dict[str, str]:
        """Every workflow parameter with its default: built-ins first, then ``params``."""
        return {"store": self.store, "run_date": RUN_DATE_DEFAULT, **self.params}
