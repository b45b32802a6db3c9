"""The whitelist: every manifest field the local runner reads or knowingly accepts.

Anything not listed here is refused by its path (``spec.templates[2].script``), so
no field is ever silently ignored. ``USED`` fields are honoured by the runner;
``ACCEPTED`` ones have no local meaning (resources, security context, scheduling,
labels, Argo's ``metrics.prometheus``) and are accepted as they are, not enforced.
"""

from typing import Any

USED = "used"
ACCEPTED = "accepted"

Shape = str | dict[str, "Shape"] | list["Shape"]

_ARGUMENT_PARAMETER: Shape = {"name": USED, "value": USED, "enum": USED, "description": ACCEPTED}
_INPUT_PARAMETER: Shape = {
    "name": USED,
    "value": USED,
    "default": USED,
    "enum": USED,
    "description": ACCEPTED,
}
_OUTPUT_PARAMETER: Shape = {
    "name": USED,
    "valueFrom": {"path": USED, "default": USED},
    "description": ACCEPTED,
}
_KEY_REF: Shape = {"name": USED, "key": USED, "optional": USED}
_ENV: Shape = {
    "name": USED,
    "value": USED,
    "valueFrom": {"secretKeyRef": _KEY_REF, "configMapKeyRef": _KEY_REF},
}
_VOLUME: Shape = {"name": USED, "emptyDir": ACCEPTED}
_VOLUME_MOUNT: Shape = {"name": USED, "mountPath": USED, "readOnly": ACCEPTED}
_CONTAINER: Shape = {
    "name": ACCEPTED,
    "image": ACCEPTED,
    "imagePullPolicy": ACCEPTED,
    "command": USED,
    "args": USED,
    "env": [_ENV],
    "resources": ACCEPTED,
    "securityContext": ACCEPTED,
    "volumeMounts": [_VOLUME_MOUNT],
}
_TASK: Shape = {
    "name": USED,
    "template": USED,
    "dependencies": USED,
    "depends": USED,
    "arguments": {"parameters": [_ARGUMENT_PARAMETER]},
    "withItems": USED,
    "withParam": USED,
    # Only exit-handler tasks may have one (workflows.runner.hooks checks where).
    "when": USED,
}
# Argo's controller emits these; locally `ferry metrics` computes the same names from the
# run records (workflows/monitoring/). Their tags are still checked (scopes.check_metrics).
_METRICS: Shape = ACCEPTED
_SCHEDULING: dict[str, Shape] = {
    "serviceAccountName": ACCEPTED,
    "securityContext": ACCEPTED,
    "nodeSelector": ACCEPTED,
    "tolerations": ACCEPTED,
    "affinity": ACCEPTED,
    "priorityClassName": ACCEPTED,
}
_TEMPLATE: Shape = {
    "name": USED,
    "dag": {"tasks": [_TASK]},
    "container": _CONTAINER,
    "resource": {"action": USED, "manifest": USED},
    "inputs": {"parameters": [_INPUT_PARAMETER]},
    "outputs": {"parameters": [_OUTPUT_PARAMETER]},
    "retryStrategy": {
        "limit": USED,
        "retryPolicy": USED,
        "expression": USED,
        "backoff": {"duration": USED, "factor": USED, "maxDuration": USED, "cap": USED},
    },
    "activeDeadlineSeconds": USED,
    # Nothing is ever Pending locally: a process starts or fails to start.
    "pendingTimeout": ACCEPTED,
    "parallelism": USED,
    "volumes": [_VOLUME],
    "metadata": ACCEPTED,
    "metrics": _METRICS,
    **_SCHEDULING,
}
# Argo's per-pipeline mutex (workflows.render.manifests.mutex_name); locally its meaning
# is the runner's per-pipeline store lock (run_store.PipelineLock), which every run takes.
# A mutex of another name is refused by parse.check_synchronization.
_SYNCHRONIZATION: Shape = {"mutexes": [{"name": USED}]}
_SPEC: Shape = {
    "entrypoint": USED,
    "arguments": {"parameters": [_ARGUMENT_PARAMETER]},
    "templates": [_TEMPLATE],
    "activeDeadlineSeconds": USED,
    "parallelism": USED,
    "volumes": [_VOLUME],
    # A mapping of hook name -> hook; workflows.runner.hooks checks each entry's fields.
    "hooks": USED,
    "onExit": USED,
    "podMetadata": ACCEPTED,
    "workflowMetadata": ACCEPTED,
    "ttlStrategy": ACCEPTED,
    "podGC": ACCEPTED,
    "imagePullSecrets": ACCEPTED,
    # Argo's init/wait containers do not exist locally; resources are not enforced.
    "podSpecPatch": ACCEPTED,
    "templateDefaults": {"container": {"resources": ACCEPTED}},
    "metrics": _METRICS,
    "synchronization": _SYNCHRONIZATION,
    **_SCHEDULING,
}
MANIFEST: Shape = {
    "apiVersion": USED,
    "kind": USED,
    "metadata": {
        "name": USED,
        "generateName": USED,
        "namespace": ACCEPTED,
        "labels": USED,
        "annotations": ACCEPTED,
    },
    "spec": _SPEC,
}


def unsupported_fields(document: Any, shape: Shape = MANIFEST, path: str = "") -> list[str]:
    """Every field of ``document`` outside the whitelist, as ``path: reason`` lines."""
    if isinstance(shape, str):
        return []
    if isinstance(shape, list):
        if not isinstance(document, list):
            return [f"{path or '(document)'}: expected a list"]
        problems: list[str] = []
        for index, item in enumerate(document):
            problems += unsupported_fields(item, shape[0], f"{path}[{index}]")
        return problems
    if not isinstance(document, dict):
        return [f"{path or '(document)'}: expected a mapping"]
    problems = []
    for key, value in document.items():
        child = f"{path}.{key}" if path else str(key)
        if key not in shape:
            problems.append(f"{child}: not supported by the local runner")
        else:
            problems += unsupported_fields(value, shape[key], child)
    return problems
