"""Manifests that work on a real cluster: every example with every values file.

The pods are built the way the Argo v4.1 controller builds them in its default
(legacy) layout, from ``workflow/controller/workflowpod.go``: the template merged
over ``templateDefaults`` (strategic merge, the template wins), an ``init`` init
container and a ``wait`` container that get only the controller's
``executor.securityContext`` (empty in argo-helm's default config), the template's
container renamed ``main``, the ``var-run-argo`` and ``tmp-dir-argo`` emptyDirs, the
pod security context from the template or the workflow spec, and ``podSpecPatch``
applied last as a strategic merge keyed by container name. The result is held to
the Pod Security Standards "restricted" profile.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.helpers import CHART, RENDERED, SCENARIOS
from workflows.render.manifests import is_local_default

ARGO_HELM_EXECUTOR_SECURITY_CONTEXT: dict[str, Any] | None = None
"""argo-helm's default ``controller.workflowDefaults``/``executor.securityContext``: none."""

RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as the controller applies it: maps merge, named lists merge by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(i, dict) and "name" in i for i in base + patch)
    ):
        merged = {i["name"]: i for i in base}
        for item in patch:
            merged[item["name"]] = _merge(merged.get(item["name"], {}), item)
        return list(merged.values())
    return patch


def build_pod(
    spec: dict[str, Any],
    template: dict[str, Any],
    executor_security_context: dict[str, Any] | None = ARGO_HELM_EXECUTOR_SECURITY_CONTEXT,
) -> dict[str, Any]:
    """The pod spec the controller creates for one container template of a workflow."""
    defaults = {
        k: v for k, v in (spec.get("templateDefaults") or {}).items() if k in ("container",)
    }
    tmpl = _merge(defaults, template)
    executor: dict[str, Any] = {"image": "quay.io/argoproj/argoexec:v4.1.2"}
    if executor_security_context is not None:
        executor["securityContext"] = executor_security_context
    mounts = [{"name": "var-run-argo", "mountPath": "/var/run/argo"}]
    main = dict(tmpl["container"])
    main["name"] = "main"
    main["volumeMounts"] = [*main.get("volumeMounts", []), *mounts]
    pod: dict[str, Any] = {
        "serviceAccountName": tmpl.get("serviceAccountName", spec.get("serviceAccountName")),
        "initContainers": [{"name": "init", **executor, "volumeMounts": mounts}],
        "containers": [{"name": "wait", **executor, "volumeMounts": mounts}, main],
        "volumes": [
            {"name": "var-run-argo", "emptyDir": {}},
            {"name": "tmp-dir-argo", "emptyDir": {}},
            *tmpl.get("volumes", []),
        ],
        "activeDeadlineSeconds": tmpl.get("activeDeadlineSeconds"),
    }
    context = tmpl.get("securityContext") or spec.get("securityContext")
    if context:
        pod["securityContext"] = context
    for patch in (spec.get("podSpecPatch"), tmpl.get("podSpecPatch")):
        if patch:
            pod = _merge(pod, yaml.safe_load(patch))
    return pod


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What in a pod spec the Pod Security "restricted" profile (and baseline) forbids."""
    found = []
    pod_sc = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            found.append(f"pod: {key}")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            found.append(f"volume {volume['name']}: {sorted(kinds)}")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod: runAsUser 0")
    containers = pod.get("initContainers", []) + pod.get("containers", [])
    for c in containers:
        sc = c.get("securityContext") or {}
        where = f"container {c['name']}"
        if sc.get("privileged"):
            found.append(f"{where}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation must be false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            found.append(f"{where}: capabilities must drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{where}: capabilities add {caps['add']}")
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if non_root is not True:
            found.append(f"{where}: runAsNonRoot must be true")
        if sc.get("runAsUser") == 0:
            found.append(f"{where}: runAsUser 0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost")
        if any(p.get("hostPort") for p in c.get("ports") or []):
            found.append(f"{where}: hostPort")
    return found


def _container_templates(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (t for t in spec["templates"] if "container" in t)


def _rendered_workflows() -> list[Path]:
    return sorted(RENDERED.glob("*/workflow.yaml"))


def test_the_restricted_check_finds_what_argo_helm_defaults_leave_open() -> None:
    # Before the fix: no pod securityContext, no podSpecPatch; init and wait are open.
    spec = yaml.safe_load(_rendered_workflows()[0].read_text())["spec"]
    bare = {k: v for k, v in spec.items() if k not in ("podSpecPatch", "securityContext")}
    problems = restricted_violations(build_pod(bare, next(_container_templates(bare))))
    assert "container init: allowPrivilegeEscalation must be false" in problems
    assert "container wait: capabilities must drop ALL" in problems
    assert "container wait: seccompProfile must be RuntimeDefault or Localhost" in problems
    hostile = build_pod(spec, next(_container_templates(spec)))
    hostile["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run"}})
    assert restricted_violations(hostile) == ["volume docker: ['hostPath']"]


@pytest.mark.parametrize("path", _rendered_workflows(), ids=lambda p: p.parent.name)
def test_every_pod_of_a_rendered_workflow_is_restricted(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())["spec"]
    for template in _container_templates(spec):
        pod = build_pod(spec, template)
        assert restricted_violations(pod) == [], f"{path.parent.name}/{template['name']}"
        assert [c["name"] for c in pod["initContainers"] + pod["containers"]] == [
            "init",
            "wait",
            "main",
        ]


def test_an_executor_security_context_in_the_controller_config_also_passes() -> None:
    # With workflow.executorSecurityContext={} the chart renders no patch; the controller's
    # executor.securityContext (docs/kubernetes.md) must then do it.
    spec = yaml.safe_load(_rendered_workflows()[0].read_text())["spec"]
    spec = {k: v for k, v in spec.items() if k != "podSpecPatch"}
    documented = json.loads(
        '{"runAsNonRoot": true, "allowPrivilegeEscalation": false,'
        ' "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}'
    )
    for template in _container_templates(spec):
        assert restricted_violations(build_pod(spec, template, documented)) == []


def _local_defaults() -> dict[str, list[str]]:
    out = {}
    for path in RENDERED.glob("*/workflowtemplate.yaml"):
        annotations = yaml.safe_load(path.read_text())["metadata"].get("annotations") or {}
        names = annotations.get("ferry.dev/local-defaults")
        if names:
            out[path.parent.name] = names.split(",")
    return out


def test_prod_values_set_every_parameter_whose_default_only_works_locally() -> None:
    prod = yaml.safe_load((CHART / "values-prod.yaml").read_text())
    overrides = prod.get("pipelineOverrides") or {}
    for pipeline, names in _local_defaults().items():
        given = (overrides.get(pipeline) or {}).get("parameters") or {}
        assert set(names) <= set(given), f"values-prod.yaml must set {pipeline}: {names}"


@pytest.mark.parametrize("values", SCENARIOS)
def test_every_example_with_every_values_file_is_cluster_ready(
    render: Callable[..., list[dict]], values: str
) -> None:
    docs = render(values)
    templates = [d for d in docs if d["kind"] == "WorkflowTemplate"]
    assert templates
    for wt in templates:
        name = wt["metadata"]["name"]
        spec = wt["spec"]
        for p in spec["arguments"]["parameters"]:
            value = str(p.get("value", ""))
            assert not is_local_default(value), f"{values} {name}: {p['name']}={value!r}"
            assert "data/demo" not in value, f"{values} {name}: {p['name']}={value!r}"
        assert spec["activeDeadlineSeconds"] > 0, name
        assert spec["podGC"]["strategy"], name
        assert spec["ttlStrategy"]["secondsAfterSuccess"] >= 0, name
        assert spec["ttlStrategy"]["secondsAfterFailure"] >= 0, name
        assert spec["serviceAccountName"], name
        defaults = (spec.get("templateDefaults") or {}).get("container") or {}
        for template in _container_templates(spec):
            where = f"{values} {name}/{template['name']}"
            assert template["activeDeadlineSeconds"] > 0, where
            assert template["pendingTimeout"], where
            backoff = template["retryStrategy"]["backoff"]
            assert "maxDuration" not in backoff and backoff["cap"], where
            resources = template["container"].get("resources") or defaults["resources"]
            requests = {
                **defaults.get("resources", {}).get("requests", {}),
                **resources["requests"],
            }
            assert requests.get("ephemeral-storage"), where
            tmp = next(v for v in template["volumes"] if v["name"] == "tmp")
            assert tmp["emptyDir"]["sizeLimit"], where
            for output in template["outputs"]["parameters"]:
                assert "default" in output["valueFrom"], f"{where}: {output['name']}"
            pod = build_pod(spec, template)
            assert restricted_violations(pod) == [], where
    sas = [  # the workflow pods' account; an event sender's account runs no pod
        d["metadata"]["name"]
        for d in docs
        if d["kind"] == "ServiceAccount"
        and d["metadata"]["labels"].get("app.kubernetes.io/component") == "workflow"
    ]
    if sas:
        assert {wt["spec"]["serviceAccountName"] for wt in templates} == set(sas)


def test_the_chart_and_the_plain_files_name_the_same_service_account(
    render: Callable[..., list[dict]],
) -> None:
    plain = {
        yaml.safe_load(p.read_text())["spec"]["serviceAccountName"]
        for p in RENDERED.glob("*/workflow.yaml")
    }
    sas = [d["metadata"]["name"] for d in render("values.yaml") if d["kind"] == "ServiceAccount"]
    assert plain == set(sas) == {"ferry-workflow"}


def test_per_environment_bounds_replace_the_rendered_ones(
    render: Callable[..., list[dict]],
) -> None:
    docs = render(
        "values.yaml",
        sets=(
            "workflow.activeDeadlineSeconds=7200",
            "workflow.stepActiveDeadlineSeconds=600",
            "workflow.pendingTimeout=3m",
            "workflow.tmpSizeLimit=3Gi",
            "workflow.podGC.strategy=OnPodCompletion",
            "workflow.ttlStrategy.secondsAfterSuccess=60",
            "pipelineOverrides.orders-daily.activeDeadlineSeconds=900",
            "workflow.executorSecurityContext=null",
        ),
    )
    wts = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "WorkflowTemplate"}
    assert wts["orders-daily"]["activeDeadlineSeconds"] == 900
    other = wts["customer-quality"]
    assert other["activeDeadlineSeconds"] == 7200
    assert other["podGC"] == {"strategy": "OnPodCompletion", "deleteDelayDuration": "5m"}
    assert other["ttlStrategy"]["secondsAfterSuccess"] == 60
    assert other["ttlStrategy"]["secondsAfterFailure"] == 604800
    assert "podSpecPatch" not in other
    for template in _container_templates(other):
        assert template["activeDeadlineSeconds"] == 600
        assert template["pendingTimeout"] == "3m"
        assert template["volumes"] == [{"emptyDir": {"sizeLimit": "3Gi"}, "name": "tmp"}]
