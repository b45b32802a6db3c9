"""The pipeline API: a pipeline is a graph of steps wired by their inputs.

A definition is plain data (pydantic models). Nothing runs here: ``ferry render``
validates it (``workflows.validation``) and renders it to Argo manifests
(``workflows.render``); ``ferry run`` executes those manifests.

Example:
    >>> from workflows import FilesExtract, ParquetDatasetLoad
    >>> pipeline = Pipeline(
    ...     name="copy-orders",
    ...     steps=[
    ...         Source(name="orders", config=FilesExtract(path="in/*.csv", format="csv")),
    ...         Target(name="out", input="orders", config=ParquetDatasetLoad(path="out")),
    ...     ],
    ... )
"""

import difflib
import re
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializeAsAny,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from steps.checks.config import ChecksConfig, Rule
from steps.partitions.spec import PartitionSpec
from steps.python_step.config import PythonStepConfig
from steps.runtime.config import StepConfig
from steps.transform.config import DEFAULT_MEMORY_LIMIT, TransformConfig
from workflows.alerts import Alert
from workflows.triggers import Trigger

BUILTIN_PARAMS = ("store", "run_date", "interval_start", "interval_end")
"""Workflow parameters every pipeline has; a pipeline's own ``params`` come on top.

``interval_start`` and ``interval_end`` are the data interval of a run (ISO 8601 with
offset, ``workflows.intervals``): a backfill passes them, an ordinary run leaves them
empty, so an incremental source whose cursor window uses them reads its state then."""

RUN_DATE_DEFAULT = (
    "{{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}"
    "-{{workflow.creationTimestamp.d}}"
)
"""Default of ``run_date``: the UTC day the workflow was created, as ``YYYY-MM-DD``."""


DEFAULT_STEP_DEADLINE_SECONDS = 3 * 3600
"""Deadline of one step attempt: ample for an hour-scale batch step, short of the run's."""

DEFAULT_RUN_DEADLINE_SECONDS = 12 * 3600
"""Deadline of a run: every attempt of a step at its deadline fits (3 x 3h), and a stuck
daily run ends well before the next tick, where ``concurrency_policy: Forbid`` would skip it."""

DEFINITION_PROBLEM = "ferry_definition"
"""pydantic error type of Ferry's own definition checks: their message says what and where."""


def definition_problem(message: str, field: str | None = None) -> PydanticCustomError:
    """A validation error whose message stands alone; ``field`` is the key it is about."""
    return PydanticCustomError(DEFINITION_PROBLEM, message, {"field": field} if field else None)


PARAM_REFERENCE = re.compile(r"\{\{\s*workflow\.parameters\.([^}\s]+)\s*\}\}")
"""What :func:`param` writes, ``{{workflow.parameters.NAME}}``; group 1 is the name."""


def param(name: str) -> str:
    """The Argo reference to a workflow parameter, for use inside any config string.

    Example:
        >>> param("run_date")
        '{{workflow.parameters.run_date}}'
    """
    return "{{workflow.parameters." + name + "}}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    MOVED_FIELDS: ClassVar[dict[str, str]] = {}
    """Fields that are gone -> the field that holds what they held, for the message."""

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        """Name a misspelt field and the one meant, instead of a bare "Field required"."""
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields) | {
            f.alias for f in cls.model_fields.values() if f.alias is not None
        }
        for key in data:
            if key in known or not isinstance(key, str):
                continue
            close = [cls.MOVED_FIELDS[key]] if key in cls.MOVED_FIELDS else []
            close = close or difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(known))}"
            named = f" {data['name']!r}" if isinstance(data.get("name"), str) else ""
            raise definition_problem(f"{cls.__name__}{named} has no field {key!r}; {hint}", key)
        return data


class RetryPolicy(_Model):
    """How Argo retries a failed step (rendered as the template's ``retryStrategy``).

    The backoff only spaces the attempts; how long a step may take in total is
    bounded by the deadlines (``active_deadline_seconds`` per attempt, the run's
    ``run_deadline_seconds``), never by the retry policy.
    """

    MOVED_FIELDS: ClassVar[dict[str, str]] = {"backoff_max_duration": "backoff_cap"}

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
    backoff_cap: str = Field(
        default="5m",
        description="Longest wait between two attempts (Argo backoff.cap, Go duration): "
        "the growing wait stops growing here. Not a time budget; deadlines are.",
    )


class Resources(_Model):
    """CPU, memory and scratch space of a step's container (Kubernetes quantities)."""

    cpu_request: str = Field(default="250m", description="CPU the scheduler reserves.")
    memory_request: str = Field(default="512Mi", description="Memory the scheduler reserves.")
    cpu_limit: str = Field(default="2", description="CPU the container may use at most.")
    memory_limit: str = Field(
        default="2Gi", description="Memory above which the container is killed."
    )
    ephemeral_storage_request: str = Field(
        default="1Gi",
        description="Local disk the scheduler reserves (the /tmp emptyDir where DuckDB "
        "spills lives on it).",
    )
    tmp_size_limit: str = Field(
        default="8Gi",
        description="sizeLimit of the /tmp emptyDir; a step writing more is evicted "
        "instead of filling the node's disk.",
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


class PodGC(_Model):
    """When Argo deletes a run's finished pods (rendered as the workflow's ``podGC``)."""

    strategy: Literal[
        "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"
    ] = Field(
        default="OnWorkflowSuccess",
        description="OnWorkflowSuccess deletes every pod of a succeeded run and keeps a failed "
        "run's pods for debugging until the run itself is deleted (ttl).",
    )
    delete_delay_duration: str = Field(
        default="5m", description="Wait after the strategy matches before deleting (Go duration)."
    )


class TTL(_Model):
    """How long finished runs stay in the cluster (rendered as ``ttlStrategy``)."""

    seconds_after_success: int = Field(
        default=86_400, ge=0, description="Delete a succeeded run after so many seconds (1 day)."
    )
    seconds_after_failure: int = Field(
        default=604_800,
        ge=0,
        description="Delete a failed or errored run after so many seconds (7 days).",
    )


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
    cache: bool | int = Field(
        default=False,
        description="Reuse an earlier run's artifact when the step's kind, config (parameters "
        "filled in), inputs, Ferry version and, for sources, files are unchanged: true caches "
        "with no expiry, a number of seconds is a TTL. Never for targets; a source other "
        "than files needs a TTL. `ferry run --no-cache` turns it off for one run.",
    )

    partitions: PartitionSpec | None = Field(
        default=None,
        description="Run this step once per partition, each in its own pod writing its own "
        "partition artifact: PartitionList, DateRange, FileGlob, FromStep or SameAs (YAML: a "
        "mapping with kind list, dates, files, from-step or same-as). The config reads the "
        "partition through partition('field'); downstream steps read the union of the "
        "partitions, or follow them with SameAs.",
    )

    @field_validator("cache")
    @classmethod
    def _positive_ttl(cls, cache: bool | int) -> bool | int:
        if not isinstance(cache, bool) and cache <= 0:
            raise ValueError(f"cache TTL {cache} must be a positive number of seconds, or true")
        return cache

    ROLE: ClassVar[str] = ""
    """The role a config must have to run as this node (``StepConfig.ROLE``)."""

    INPUT_FIELD: ClassVar[str | None] = None
    """The field naming this node's upstream steps, for messages."""

    def upstream(self) -> list[str]:
        """Names of the steps this one reads, in order."""
        return []


def _config_of_role(value: Any, role: str, node: str) -> Any:
    """A config given as a mapping (YAML) becomes the config class its ``kind`` names."""
    if not isinstance(value, dict):
        return value
    from steps.registry import KINDS

    kinds = sorted(k.name for k in KINDS.values() if role == k.load_config_class().ROLE)
    kind = value.get("kind")
    if kind is None:
        raise definition_problem(f"{node} config needs a 'kind': one of {', '.join(kinds)}")
    if kind not in kinds:
        close = difflib.get_close_matches(str(kind), kinds, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = ", ".join(kinds)
        raise definition_problem(
            f"{node} config kind {kind!r} is not a {role} kind; {hint}use one of {known}", "kind"
        )
    fields = {k: v for k, v in value.items() if k != "kind"}
    return KINDS[kind].load_config_class().model_validate(fields)


class Source(_Node):
    """Extract data from a system into an artifact."""

    kind: Literal["source"] = Field(default="source", description="Node kind (YAML: source).")
    config: SerializeAsAny[StepConfig] = Field(
        description="An extract config, e.g. FilesExtract, SqlExtract, HttpExtract "
        "(YAML: a mapping with kind: extract-files, extract-sql or extract-http)."
    )

    ROLE: ClassVar[str] = "source"

    @field_validator("config", mode="before")
    @classmethod
    def _config_from_mapping(cls, value: Any) -> Any:
        return _config_of_role(value, "source", "a Source")


class Checks(_Node):
    """Data-quality rules over one upstream step; failing rows go to quarantine."""

    kind: Literal["checks"] = Field(default="checks", description="Node kind (YAML: checks).")
    input: str = Field(description="The step whose rows are checked.")
    rules: list[Rule] = Field(description="Rules every row (or the whole set) must pass.")
    threshold: float | None = Field(
        default=None,
        description="Lowest accepted share of passing rows (0..1); None uses the pipeline's.",
    )
    severity: Literal["error", "warn"] = Field(
        default="error",
        description="Below the threshold: 'error' fails the run (nothing downstream runs); "
        "'warn' quarantines and reports, lets downstream steps run and records the warning.",
    )
    profile_drift: float | None = Field(
        default=2.0,
        gt=1.0,
        description="Warn when the row count or a column's null share changes by this factor "
        "or more since the previous run; None switches the comparison off.",
    )

    ROLE: ClassVar[str] = "check"
    INPUT_FIELD: ClassVar[str | None] = "input"

    def upstream(self) -> list[str]:
        """Names of the steps this one reads."""
        return [self.input]

    def step_config(self, default_threshold: float) -> ChecksConfig:
        """The ``check`` step config this node runs as."""
        threshold = default_threshold if self.threshold is None else self.threshold
        return ChecksConfig(
            rules=self.rules,
            threshold=threshold,
            severity=self.severity,
            profile_drift=self.profile_drift,
        )


class Transform(_Node):
    """SQL (DuckDB) over upstream steps; each input is a table named after its step."""

    kind: Literal["transform"] = Field(
        default="transform", description="Node kind (YAML: transform)."
    )
    inputs: list[str] = Field(description="Steps the SQL reads, each as a table of that name.")
    sql: str = Field(description="DuckDB SQL; the result of its last statement is the output.")
    memory_limit: str = Field(
        default=DEFAULT_MEMORY_LIMIT,
        description="DuckDB memory limit; beyond it DuckDB spills to the temp folder.",
    )
    keep_order: bool = Field(
        default=False,
        description="Keep the input's row order where the SQL has no ORDER BY (costs memory).",
    )

    ROLE: ClassVar[str] = "transform"
    INPUT_FIELD: ClassVar[str | None] = "inputs"

    def upstream(self) -> list[str]:
        """Names of the steps this one reads."""
        return list(self.inputs)

    def step_config(self) -> TransformConfig:
        """The ``transform`` step config this node runs as."""
        return TransformConfig(
            sql=self.sql, memory_limit=self.memory_limit, keep_order=self.keep_order
        )


class PythonStep(_Node):
    """A Python function over upstream steps, batch by batch (docs/python-steps.md).

    The function gets one iterator of ``pyarrow.RecordBatch`` per input, in the order
    of ``inputs`` (and ``params=`` when it declares ``params``), and yields batches,
    tables or ``Rejected(rows, reason=...)`` for rows that go to quarantine.
    """

    kind: Literal["python"] = Field(default="python", description="Node kind (YAML: python).")
    inputs: list[str] = Field(
        description="Steps the function reads, each an iterator of record batches, in order."
    )
    function: str = Field(
        description="The function as 'package.module:function', importable from the "
        "pipeline's folder locally and from the step image on the cluster."
    )
    params: dict[str, JsonValue] = Field(
        default={}, description="JSON values passed as the function's params keyword."
    )
    columns: dict[str, str] | None = Field(
        default=None,
        description="Declared output schema (column -> type name); None takes the first "
        "output batch's schema and holds every later batch to it.",
    )

    ROLE: ClassVar[str] = "python"
    INPUT_FIELD: ClassVar[str | None] = "inputs"

    def upstream(self) -> list[str]:
        """Names of the steps this one reads."""
        return list(self.inputs)

    def step_config(self) -> PythonStepConfig:
        """The ``python`` step config this node runs as."""
        return PythonStepConfig(
            function=self.function, inputs=self.inputs, params=self.params, columns=self.columns
        )


class Target(_Node):
    """Load one upstream step's output into a system."""

    kind: Literal["target"] = Field(default="target", description="Node kind (YAML: target).")
    input: str = Field(description="The step whose rows are loaded.")
    config: SerializeAsAny[StepConfig] = Field(
        description="A load config, e.g. ParquetDatasetLoad, SqlTableLoad "
        "(YAML: a mapping with kind: load-parquet or load-sql)."
    )

    ROLE: ClassVar[str] = "target"
    INPUT_FIELD: ClassVar[str | None] = "input"

    @field_validator("config", mode="before")
    @classmethod
    def _config_from_mapping(cls, value: Any) -> Any:
        return _config_of_role(value, "target", "a Target")

    def upstream(self) -> list[str]:
        """Names of the steps this one reads."""
        return [self.input]


Node = Annotated[Source | Checks | Transform | PythonStep | Target, Field(discriminator="kind")]
"""Any step of a pipeline, told apart by ``kind`` (set by each class; YAML writes it)."""

AnyNode = Source | Checks | Transform | PythonStep | Target
"""The node classes, for ``isinstance`` and annotations."""


_N = TypeVar("_N", bound=_Node)


class Pipeline(_Model):
    """One pipeline: a graph of steps wired by their inputs, and how and when it runs."""

    MOVED_FIELDS: ClassVar[dict[str, str]] = {
        "sources": "steps",
        "checks": "steps",
        "transform": "steps",
        "targets": "steps",
    }

    name: str = Field(description="Pipeline name: a Kubernetes name of at most 52 characters.")
    steps: list[Node] = Field(
        description="The steps: sources, checks, transforms, Python steps and targets, in any "
        "number, each reading the steps its input/inputs name."
    )
    params: dict[str, str] = Field(
        default={},
        description="Extra workflow parameters with their defaults; use them via param(name).",
    )
    schedule: Schedule | None = Field(
        default=None, description="Run on a schedule (renders a CronWorkflow); None: on demand."
    )
    triggers: list[Trigger] = Field(
        default=[],
        description="What starts a run besides the schedule: EventTrigger, ObjectArrival (YAML: "
        "kind event or object-arrival; each renders a WorkflowEventBinding) and AfterPipeline "
        "(kind after-pipeline; renders into the upstream's exit handler).",
    )
    alerts: list[Alert] = Field(
        default=[],
        description="Webhooks told when a run fails, is slow (SLA), scores low on quality or "
        "rejects many rows; each renders a notify task of the exit handler (or a hook).",
    )
    image: str = Field(
        default="ghcr.io/ferry-etl/ferry-step:0.1.0",
        description="The step image of the plain rendered files (the chart sets its own, a "
        "required value).",
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
    resources: Resources | None = Field(
        default=None,
        description="Resources of every step without its own; None renders Resources() as "
        "the workflow's templateDefaults, which the chart's workflow.resources replaces.",
    )
    quality_threshold: float = Field(
        default=0.95, description="Threshold of every Checks step without its own (0..1)."
    )
    active_deadline_seconds: int = Field(
        default=DEFAULT_STEP_DEADLINE_SECONDS,
        ge=1,
        description="Deadline of one attempt of every step without its own (3 hours).",
    )
    run_deadline_seconds: int = Field(
        default=DEFAULT_RUN_DEADLINE_SECONDS,
        ge=1,
        description="Deadline of the whole run, retries and pending pods included (12 hours).",
    )
    pending_timeout: str = Field(
        default="15m",
        description="Fail a step attempt whose pod is still Pending after this long (an image "
        "that cannot be pulled, a missing Secret, no node fits); Go duration, Argo >= 4.1.",
    )
    pod_gc: PodGC = Field(default=PodGC(), description="When finished pods are deleted.")
    ttl: TTL = Field(default=TTL(), description="How long finished runs are kept.")
    service_account: str = Field(
        default="ferry-workflow", description="Kubernetes service account the pods run as."
    )
    labels: dict[str, str] = Field(
        default={}, description="Extra labels on every rendered resource and pod."
    )

    def nodes(self) -> list[AnyNode]:
        """Every step in definition order."""
        return list(self.steps)

    def of_kind(self, kind: type[_N]) -> list[_N]:
        """The steps of one node class, in definition order."""
        return [n for n in self.steps if isinstance(n, kind)]

    def graph(self) -> dict[str, list[str]]:
        """Step name -> the names of the steps it reads (see ``workflows.graph``)."""
        return {n.name: n.upstream() for n in self.steps}

    def step_config(self, node: AnyNode) -> StepConfig:
        """The step config a node runs as: Source/Target carry one, the others build one."""
        if isinstance(node, Source | Target):
            return node.config
        if isinstance(node, Checks):
            return node.step_config(self.quality_threshold)
        return node.step_config()

    def parameter_defaults(self) -> dict[str, str]:
        """Every workflow parameter with its default: built-ins first, then ``params``."""
        return {
            "store": self.store,
            "run_date": RUN_DATE_DEFAULT,
            "interval_start": "",
            "interval_end": "",
            **self.params,
        }
