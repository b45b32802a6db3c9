"""The contract between the steps, the renderer and the local runner, in one place.

Everything the three sides must agree on lives here and nowhere else: the command a
container runs, where a step writes its output parameters and under which names, the
exit codes the rendered retry expression relies on, and the labels that tie pods and
run records to a pipeline and a step. It imports nothing, so a step pays nothing for it.
"""

STEP_COMMAND = ("python", "-m", "steps")
"""The step image's command; a kind and its arguments follow."""

OUTPUTS_DIR_ENV = "FERRY_OUTPUTS_DIR"
"""Environment variable naming the folder a step writes its output parameters to."""

DEFAULT_OUTPUTS_DIR = "/tmp/ferry/outputs"
"""That folder in a pod; rendered as ``outputs.parameters[].valueFrom.path`` under it."""

OUTPUT_PARAMETERS = (
    "rows_in",
    "rows_out",
    "rows_rejected",
    "quality_score",
    "input_rows",
    "warning",
    "cached",
)
"""Output parameters every step writes (a failed step too, with what it counted).

``input_rows`` is a JSON object of rows read per input; ``warning`` is one line (empty
when there is none), e.g. a checks step with ``severity: warn`` below its threshold;
``cached`` is empty unless the step adopted a cache entry, then a JSON object
``{"key": ..., "run_id": ...}``: the cache key and the run that computed the artifact."""

PARTITIONS_OUTPUT = "partitions"
"""Output parameter of the ``partitions`` step: the JSON list of partition items that
the fanned-out task expands with ``withParam`` (a few fields each, never data)."""

PARTITION_PARAMETER_PREFIX = "partition_"
"""An item field reaches a partition's step as the parameter of this prefix and the
field's name (``${param:partition_path}``, ``FERRY_PARAM_partition_path``), through
the fanned-out template's input parameter of the same name."""

PARTITIONS_FOLDER = "partitions"
"""Folder of a fanned-out step's artifact holding one partition artifact per key."""

EXIT_OK = 0
"""The step did its work."""

EXIT_FAILED = 1
"""The step failed in a way a retry may clear (a system unreachable, a lost connection)."""

EXIT_USAGE = 2
"""Bad usage or config: deterministic, never retried."""

EXIT_DATA = 3
"""Input data rejected (quality gate, malformed rows): deterministic, never retried."""

DETERMINISTIC_EXITS = (EXIT_USAGE, EXIT_DATA)
"""Exit codes the rendered ``retryStrategy.expression`` never retries."""

PARAMETER_ENV_PREFIX = "FERRY_PARAM_"
"""A workflow parameter reaches a step as the environment variable of this prefix and
its name (``FERRY_PARAM_run_date``), never spliced into ``--config``: Argo substitutes
``{{...}}`` as raw text, and a value with a quote would change the config's JSON."""

PARAMETER_PLACEHOLDER = "${{param:{name}}}"
"""How ``--config`` refers to a parameter (``${param:run_date}``); the step fills it in
from ``FERRY_PARAM_<name>`` after parsing the JSON, so no value can change its shape.
In a SQL field the value goes in as a quoted SQL string literal."""

PIPELINE_LABEL = "ferry.dev/pipeline"
"""Label on every rendered resource and pod: the pipeline's name."""

PIPELINE_MUTEX_PREFIX = "ferry-"
"""Argo mutex of a pipeline (``synchronization.mutexes``): ``ferry-<pipeline>`` followed
by ``PIPELINE_MUTEX_INTERVAL``."""

PIPELINE_MUTEX_INTERVAL = "{{workflow.parameters.interval_start}}"
"""The end of the mutex name: empty for an ordinary run (one mutex per pipeline), the
interval's start for a backfilled interval, so intervals may run side by side as the
local runner's per-interval lock lets them (Argo substitutes workflow parameters in
``spec.synchronization`` before it takes the lock)."""

STEP_LABEL = "ferry.dev/step"
"""Label on every step's pod: the step's name."""

NO_CACHE_ENV = "FERRY_NO_CACHE"
"""Set to ``1`` in a step's environment to run it without its cache (no lookup, no
entry written); ``ferry run --no-cache`` sets it for every step of one run."""
