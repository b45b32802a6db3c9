"""Hera builders: a step plan -> WorkflowTemplate, Workflow and CronWorkflow dicts.

Thin wrappers over Hera: each ``_build_*`` function makes one Hera object from
the plan; nothing here decides *what* runs (that is ``workflows.render.plan``).
The shape follows docs/architecture.md, "Rendered manifests".
"""

import json
import re
from typing import Any

from hera.workflows import (
    DAG,
    ConfigMapEnv,
    Container,
    CronWorkflow,
    EmptyDirVolume,
    Env,
    Parameter,
    SecretEnv,
    Task,
    Workflow,
    WorkflowTemplate,
)
from hera.workflows import Resources as HeraResources
from hera.workflows import RetryStrategy as HeraRetryStrategy
from hera.workflows import models as m

from steps.contract import (
    DEFAULT_OUTPUTS_DIR,
    DETERMINISTIC_EXITS,
    OUTPUT_PARAMETERS,
    PARTITIONS_OUTPUT,
    PIPELINE_LABEL,
    PIPELINE_MUTEX_INTERVAL,
    PIPELINE_MUTEX_PREFIX,
    STEP_COMMAND,
    STEP_LABEL,
)
from steps.runtime.parameters import env_name
from steps.runtime.scheduled_interval import SCHEDULE_ENV, SCHEDULED_TIME_ENV
from workflows.pipeline import Pipeline, Resources
from workflows.render.exit_handler import ExitParts, add_exit_handler
from workflows.render.fanout import (
    KEY_PARAMETER,
    fanout_task,
    fanout_template,
    partition_suffix,
)
from workflows.render.metrics import step_metrics, workflow_metrics
from workflows.render.plan import PlannedStep, default_resources, plan_steps

ENTRYPOINT = "main"
"""Name of the DAG template every workflow starts at."""

STORE_SETTINGS = "ferry-s3"
"""Secret and ConfigMap with the S3 credentials and endpoint (both optional)."""

RETRY_EXPRESSION = "lastRetry.exitCode not in [{}]".format(
    ", ".join(f"'{code}'" for code in DETERMINISTIC_EXITS)
)
"""``retryStrategy.expression`` of every step: never retry a deterministic failure.

A step exits 2 (bad usage or config) or 3 (data rejected) when running it again fails
the same way. Argo passes ``lastRetry.exitCode`` as a string, ``'-1'`` when the pod
produced none (a pod error), so pod errors, OOM kills (``'137'``) and every other exit
are still retried as ``retryPolicy`` allows; Argo retries only when both agree.
"""

OUTPUT_DEFAULTS: dict[str, str] = {
    "input_rows": "{}",
    "warning": "",
    "cached": "",
    PARTITIONS_OUTPUT: "[]",
}
"""``valueFrom.default`` of the output parameters whose "nothing written" value is not "0".

Every other output parameter (row counts, quality) reports ``"0"`` when the step wrote
no file, so a step that failed early or wrote nothing still reports to the DAG and the
exit hooks instead of failing the node on a missing file.
"""

STEP_UID = 10001
"""The step image's user and group (images/step/Dockerfile)."""

EXECUTOR_CONTAINERS = {"initContainers": "init", "containers": "wait"}
"""Argo's own containers in every pod of the legacy (default) pod layout."""

EXECUTOR_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""Security context patched onto Argo's ``init`` and ``wait`` containers (Pod Security
"restricted"): the controller gives them only its ``executor.securityContext``, which
argo-helm leaves empty. The controller applies ``podSpecPatch`` last, as a strategic
merge keyed by container name (workflow/util ``ApplyPodSpecPatch``)."""

LOCAL_DEFAULTS_ANNOTATION = "ferry.dev/local-defaults"
"""WorkflowTemplate annotation naming the parameters whose default only works locally.

The chart refuses to install such a pipeline until the environment's values set each
of them (``pipelineOverrides.<pipeline>.parameters``), so a demo folder or a loopback
address never reaches a cluster."""

_LOOPBACK = re.compile(r"(^|[/@\[])(localhost|127(\.\d{1,3}){3}|0\.0\.0\.0|::1)(\]|:|/|$)")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

RUN_ID = "{{workflow.name}}"
STORE = "{{workflow.parameters.store}}"


def artifact_uri(step: str) -> str:
    """Where a step's artifact lives in the store, as rendered into the args."""
    return f"{STORE}/artifacts/{RUN_ID}/{step}"


def common_labels(pipeline: Pipeline) -> dict[str, str]:
    """Labels on every rendered resource and pod of a pipeline."""
    return {
        "app.kubernetes.io/name": "ferry",
        "app.kubernetes.io/part-of": "ferry",
        PIPELINE_LABEL: pipeline.name,
        **pipeline.labels,
    }


def is_local_default(value: str) -> bool:
    """Whether a parameter default cannot work in a pod: a loopback address or a file path.

    A pod has no folder of the pipeline's machine (only an empty ``/tmp``) and its
    loopback is the pod itself, so ``data/demo``, ``./in``, ``/home/me/x``,
    ``127.0.0.1:8765`` and ``http://localhost/api`` are local-only; ``s3://bucket/x``,
    ``db.internal:5432``, ``500`` and Argo expressions are not.
    """
    text = value.strip()
    if _LOOPBACK.search(text.split("://", 1)[-1]):
        return True
    if not text or text.startswith("{{") or _URI.match(text):
        return False
    return "/" in text or text.startswith(".") or text.startswith("~")


def local_default_parameters(pipeline: Pipeline) -> list[str]:
    """The pipeline's own parameters whose defaults only work locally (``is_local_default``)."""
    return [name for name, value in pipeline.params.items() if is_local_default(value)]


def step_args(pipeline: Pipeline, step: PlannedStep) -> list[str]:
    """The ``python -m steps`` arguments of one step (docs/architecture.md)."""
    args = [
        step.kind,
        "--pipeline",
        pipeline.name,
        "--step",
        step.name,
        "--run-id",
        RUN_ID,
        "--store",
        STORE,
        "--config",
        step.config_json,
    ]
    fanout = step.fanout
    own_partition = partition_suffix() if fanout else ""
    for name in step.inputs:
        partitionwise = fanout is not None and name in fanout.partitionwise
        args += ["--input", f"{name}={artifact_uri(name)}{own_partition if partitionwise else ''}"]
    if step.writes_output:
        args += ["--output", artifact_uri(step.name) + own_partition]
    if fanout:
        args += ["--partition", "{{inputs.parameters." + KEY_PARAMETER + "}}"]
    if step.cache is True:
        args += ["--cache"]
    elif step.cache is not False:
        args += ["--cache-ttl", str(step.cache)]
    return args


def mutex_name(pipeline: Pipeline) -> str:
    """The Argo mutex that keeps two runs of the pipeline from overlapping on the cluster."""
    return f"{PIPELINE_MUTEX_PREFIX}{pipeline.name}{PIPELINE_MUTEX_INTERVAL}"


def _build_synchronization(pipeline: Pipeline) -> m.Synchronization | None:
    """``synchronization.mutexes`` with the pipeline's mutex, unless its schedule says Allow.

    Argo holds a second run of the pipeline (a manual submit, an event, a cron tick)
    Pending until the first one ends; ``concurrency_policy: Allow`` asks for overlapping
    runs, so that pipeline gets none. Locally the same rule is the runner's store lock.
    """
    if pipeline.schedule is not None and pipeline.schedule.concurrency_policy == "Allow":
        return None
    return m.Synchronization(mutexes=[m.Mutex(name=mutex_name(pipeline))])


def store_env() -> list[Env | SecretEnv | ConfigMapEnv]:
    """The S3 credentials, endpoint and region every step gets from ``ferry-s3`` (optional)."""
    return [
        SecretEnv(
            name="AWS_ACCESS_KEY_ID",
            secret_name=STORE_SETTINGS,
            secret_key="access-key-id",
            optional=True,
        ),
        SecretEnv(
            name="AWS_SECRET_ACCESS_KEY",
            secret_name=STORE_SETTINGS,
            secret_key="secret-access-key",
            optional=True,
        ),
        ConfigMapEnv(
            name="AWS_ENDPOINT_URL",
            config_map_name=STORE_SETTINGS,
            config_map_key="endpoint",
            optional=True,
        ),
        ConfigMapEnv(
            name="AWS_REGION",
            config_map_name=STORE_SETTINGS,
            config_map_key="region",
            optional=True,
        ),
    ]


def _build_env(step: PlannedStep) -> list[Env | SecretEnv | ConfigMapEnv]:
    env = store_env()
    env += [
        Env(name=env_name(name), value="{{workflow.parameters." + name + "}}")
        for name in step.parameters
    ]
    if step.schedule_json is not None:
        env += [
            Env(name=SCHEDULE_ENV, value=step.schedule_json),
            Env(name=SCHEDULED_TIME_ENV, value="{{workflow.scheduledTime}}"),
        ]
    env += [
        Env(name=env_name(name), value="{{inputs.parameters." + name + "}}")
        for name in (step.fanout.parameters if step.fanout else [])
    ]
    builtin = {e.name for e in env}
    secrets = {s.env: s for s in step.config.secret_envs() if s.env not in builtin}
    env += [
        SecretEnv(name=s.env, secret_name=s.secret_name, secret_key=s.secret_key)
        for _, s in sorted(secrets.items())
    ]
    return env


def _build_retry(step: PlannedStep) -> HeraRetryStrategy:
    retry = step.retry
    return HeraRetryStrategy(
        limit=retry.limit,
        retry_policy=retry.policy,
        expression=RETRY_EXPRESSION,
        backoff=m.Backoff(
            duration=retry.backoff_duration,
            factor=m.IntOrString(root=retry.backoff_factor),
            cap=retry.backoff_cap,
        ),
    )


def _build_resources(res: Resources) -> HeraResources:
    return HeraResources(
        cpu_request=res.cpu_request,
        memory_request=res.memory_request,
        cpu_limit=res.cpu_limit,
        memory_limit=res.memory_limit,
        ephemeral_request=res.ephemeral_storage_request,
    )


def _build_pod_security_context() -> m.PodSecurityContext:
    """Pod level: every container, Argo's included, runs as the non-root step user."""
    return m.PodSecurityContext(
        run_as_non_root=True,
        run_as_user=STEP_UID,
        run_as_group=STEP_UID,
        fs_group=STEP_UID,
        seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
    )


def executor_pod_spec_patch(security_context: dict[str, Any] | None = None) -> str:
    """The ``podSpecPatch`` giving Argo's ``init`` and ``wait`` containers a security context."""
    context = EXECUTOR_SECURITY_CONTEXT if security_context is None else security_context
    patch = {
        key: [{"name": name, "securityContext": context}]
        for key, name in EXECUTOR_CONTAINERS.items()
    }
    return json.dumps(patch, sort_keys=True, separators=(",", ":"))


def build_security_context() -> m.SecurityContext:
    """A step container's security context: non-root, read-only root, no privileges."""
    return m.SecurityContext(
        run_as_non_root=True,
        run_as_user=10001,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        capabilities=m.Capabilities(drop=["ALL"]),
        seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
    )


def _build_outputs(extra: tuple[str, ...]) -> list[Parameter]:
    return [
        Parameter(
            name=name,
            value_from=m.ValueFrom(
                path=f"{DEFAULT_OUTPUTS_DIR}/{name}", default=OUTPUT_DEFAULTS.get(name, "0")
            ),
        )
        for name in (*OUTPUT_PARAMETERS, *extra)
    ]


def _build_container(pipeline: Pipeline, step: PlannedStep) -> Container:
    return Container(
        name=step.name,
        image=pipeline.image,
        image_pull_policy=pipeline.image_pull_policy,
        command=list(STEP_COMMAND),
        args=step_args(pipeline, step),
        env=_build_env(step),
        resources=None if step.resources is None else _build_resources(step.resources),
        security_context=build_security_context(),
        volumes=[
            EmptyDirVolume(
                name="tmp", mount_path="/tmp", size_limit=m.Quantity(root=step.tmp_size_limit)
            )
        ],
        inputs=[Parameter(name=p) for p in step.fanout.parameters] if step.fanout else None,
        outputs=_build_outputs(step.extra_outputs),
        retry_strategy=_build_retry(step),
        active_deadline_seconds=step.active_deadline_seconds,
        labels={STEP_LABEL: step.name},
        metrics=step_metrics(pipeline.name, step.name),
    )


def _build_dag(steps: list[PlannedStep], templates: dict[str, Container | DAG]) -> DAG:
    tasks: list[Task | m.DAGTask] = []
    for s in steps:
        template = templates[s.name]
        if s.fanout is not None and isinstance(template, DAG):
            tasks.append(fanout_task(s.name, s.fanout, template, s.dependencies))
        else:
            tasks.append(Task(name=s.name, template=template, dependencies=s.dependencies or None))
    return DAG(name=ENTRYPOINT, tasks=tasks)


def _build_arguments(pipeline: Pipeline) -> list[Parameter]:
    return [Parameter(name=k, value=v) for k, v in pipeline.parameter_defaults().items()]


def _workflow_fields(pipeline: Pipeline) -> dict[str, Any]:
    """Spec and labels shared by the WorkflowTemplate and the self-contained Workflow."""
    steps = plan_steps(pipeline)
    containers = {s.name: _build_container(pipeline, s) for s in steps}
    fanouts = {
        s.name: fanout_template(s.name, s.fanout, containers[s.name]) for s in steps if s.fanout
    }
    labels = common_labels(pipeline)
    fields: dict[str, Any] = {
        "labels": labels,
        "entrypoint": ENTRYPOINT,
        "arguments": _build_arguments(pipeline),
        "service_account_name": pipeline.service_account,
        "pod_metadata": m.Metadata(labels=labels),
        "templates": [
            _build_dag(steps, {**containers, **fanouts}),
            *fanouts.values(),
            *containers.values(),
        ],
        "active_deadline_seconds": pipeline.run_deadline_seconds,
        "pod_gc": m.PodGC(
            strategy=pipeline.pod_gc.strategy,
            delete_delay_duration=pipeline.pod_gc.delete_delay_duration,
        ),
        "ttl_strategy": m.TTLStrategy(
            seconds_after_success=pipeline.ttl.seconds_after_success,
            seconds_after_failure=pipeline.ttl.seconds_after_failure,
            seconds_after_completion=max(
                pipeline.ttl.seconds_after_success, pipeline.ttl.seconds_after_failure
            ),
        ),
        "security_context": _build_pod_security_context(),
        "pod_spec_patch": executor_pod_spec_patch(),
        "metrics": workflow_metrics(pipeline.name),
        "synchronization": _build_synchronization(pipeline),
    }
    if pipeline.resources is None:
        defaults = _build_resources(default_resources(pipeline)).build()
        fields["template_defaults"] = m.Template(container=m.Container(resources=defaults))
    return fields


def _with_pending_timeout(document: dict[str, Any], pipeline: Pipeline) -> dict[str, Any]:
    """Add ``pendingTimeout`` (Argo 4.1) to every container template; Hera 7.1 predates it."""
    for template in document["spec"]["templates"]:
        if "container" in template:
            template["pendingTimeout"] = pipeline.pending_timeout
    return document


def build_workflow_template(
    pipeline: Pipeline, exit_parts: ExitParts | None = None
) -> dict[str, Any]:
    """The WorkflowTemplate named after the pipeline, as a manifest dict.

    ``exit_parts``: the exit handler and hooks (``workflows.render.exit_handler``).
    """
    local = local_default_parameters(pipeline)
    annotations = {LOCAL_DEFAULTS_ANNOTATION: ",".join(local)} if local else None
    template = WorkflowTemplate(
        name=pipeline.name, annotations=annotations, **_workflow_fields(pipeline)
    )
    document = _with_pending_timeout(template.to_dict(), pipeline)
    return add_exit_handler(document, exit_parts or ExitParts())


def build_workflow(pipeline: Pipeline, exit_parts: ExitParts | None = None) -> dict[str, Any]:
    """A self-contained Workflow (``generateName: <pipeline>-``), as a manifest dict."""
    workflow = Workflow(generate_name=f"{pipeline.name}-", **_workflow_fields(pipeline))
    document = _with_pending_timeout(workflow.to_dict(), pipeline)
    return add_exit_handler(document, exit_parts or ExitParts())


def build_cron_workflow(pipeline: Pipeline) -> dict[str, Any] | None:
    """The CronWorkflow running the WorkflowTemplate on schedule, or None when unscheduled."""
    schedule = pipeline.schedule
    if schedule is None:
        return None
    labels = common_labels(pipeline)
    cron = CronWorkflow(
        name=pipeline.name,
        labels=labels,
        schedules=list(schedule.cron),
        timezone=schedule.timezone,
        concurrency_policy=schedule.concurrency_policy,
        starting_deadline_seconds=schedule.starting_deadline_seconds,
        successful_jobs_history_limit=schedule.successful_history_limit,
        failed_jobs_history_limit=schedule.failed_history_limit,
        cron_suspend=schedule.suspend,
        workflow_template_ref=m.WorkflowTemplateRef(name=pipeline.name),
    )
    model = cron.build()
    model.spec.workflow_metadata = m.ObjectMeta(labels=labels)  # type: ignore[union-attr]
    return model.model_dump(exclude_none=True, by_alias=True)  # type: ignore[no-any-return]
