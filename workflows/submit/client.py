"""Argo custom resources through the Kubernetes API, with the user's kubeconfig.

Talks to the Kubernetes API server directly (as ``kubectl`` does), so no Argo Server
and no argo CLI are needed; the caller needs RBAC to get WorkflowTemplates and to
create and get Workflows in the namespace.
"""

import json
import os
from typing import TYPE_CHECKING, Any

from workflows.errors import RunFailed, UsageError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

GROUP = "argoproj.io"
VERSION = "v1alpha1"


class ArgoClient:
    """Create and read Argo Workflows objects in one cluster."""

    def __init__(self, api: "ApiClient", server: str) -> None:
        from kubernetes.client import CustomObjectsApi

        self._objects = CustomObjectsApi(api)
        self.server = server

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str | None, context: str | None) -> "ArgoClient":
        """Connect with a kubeconfig file and context, or in-cluster credentials.

        Raises:
            UsageError: no usable kubeconfig or the context does not exist.
        """
        from kubernetes import config
        from kubernetes.client import ApiClient, Configuration

        path = kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        if (
            not kubeconfig
            and not os.path.exists(path)
            and os.environ.get("KUBERNETES_SERVICE_HOST")
        ):
            config.load_incluster_config()
            return cls(ApiClient(), Configuration.get_default_copy().host)
        check_kubeconfig(path)
        try:
            api = config.new_client_from_config(config_file=path, context=context)
        except (config.ConfigException, OSError) as err:
            where = f"context {context!r} of {path}" if context else path
            raise UsageError(
                f"cannot use kubeconfig {where}: {err}; pass --kubeconfig/--context"
            ) from None
        return cls(api, api.configuration.host)

    def get_workflow_template(self, namespace: str, name: str) -> dict[str, Any]:
        """Read one WorkflowTemplate.

        Raises:
            UsageError: it does not exist in the namespace.
        """
        return self._call(
            "get WorkflowTemplate",
            namespace,
            name,
            lambda: self._objects.get_namespaced_custom_object(
                GROUP, VERSION, namespace, "workflowtemplates", name
            ),
        )

    def create_workflow(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a Workflow; returns it as the API server stored it (with its name)."""
        return self._call(
            "create Workflow",
            namespace,
            body["metadata"].get("generateName", ""),
            lambda: self._objects.create_namespaced_custom_object(
                GROUP, VERSION, namespace, "workflows", body
            ),
        )

    def list_workflows(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        """The Workflows of the namespace whose labels match ``label_selector``."""
        found = self._call(
            "list Workflows",
            namespace,
            label_selector,
            lambda: self._objects.list_namespaced_custom_object(
                GROUP, VERSION, namespace, "workflows", label_selector=label_selector
            ),
        )
        return list(found.get("items") or [])

    def get_workflow(self, namespace: str, name: str) -> dict[str, Any]:
        """Read one Workflow, status included."""
        return self._call(
            "get Workflow",
            namespace,
            name,
            lambda: self._objects.get_namespaced_custom_object(
                GROUP, VERSION, namespace, "workflows", name
            ),
        )

    def _call(self, what: str, namespace: str, name: str, call: Any) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            result: dict[str, Any] = call()
            return result
        except ApiException as err:
            reason = _api_reason(err)
            if err.status == 404 and what == "get WorkflowTemplate":
                raise UsageError(
                    f"WorkflowTemplate {name!r} not found in namespace {namespace!r} at "
                    f"{self.server}; install it with the Helm chart or pass --namespace"
                ) from None
            raise RunFailed(
                f"{what} {name!r} in namespace {namespace!r} at {self.server} failed: "
                f"HTTP {err.status} {reason}"
            ) from None
        except HTTPError as err:
            raise RunFailed(
                f"cannot reach the Kubernetes API at {self.server} ({type(err).__name__}); "
                "check the cluster and --context/--kubeconfig"
            ) from None


def _api_reason(err: Any) -> str:
    try:
        message = json.loads(err.body or "{}").get("message")
    except ValueError:
        message = None
    return str(message or err.reason)


def check_kubeconfig(paths: str) -> None:
    """Refuse a kubeconfig file that is not a YAML mapping, with the file and line.

    The kubernetes client lets YAML parser errors and TypeErrors escape as tracebacks
    on such files; a missing file is left to the client (or to the defaults).

    Args:
        paths: one file, or several joined by ``os.pathsep`` as in ``$KUBECONFIG``.

    Raises:
        UsageError: a file is not valid YAML or its top level is not a mapping (exit 2).
    """
    import yaml

    for path in (p for p in paths.split(os.pathsep) if p and os.path.isfile(p)):
        try:
            with open(path, encoding="utf-8") as file:
                document = yaml.safe_load(file)
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise UsageError(
                f"kubeconfig {path} is not valid YAML ({_yaml_problem(err)}); "
                "fix the file or pass another with --kubeconfig"
            ) from None
        if document is not None and not isinstance(document, dict):
            raise UsageError(
                f"kubeconfig {path} is not a kubeconfig (its top level is a "
                f"{type(document).__name__}, not a mapping); "
                "fix the file or pass another with --kubeconfig"
            )


def _yaml_problem(err: Exception) -> str:
    """Where and what, on one line: ``line 2, column 1: expected ...``."""
    problem = getattr(err, "problem", None)
    mark = getattr(err, "problem_mark", None)
    text = str(problem or err)
    if mark is not None:
        text = f"line {mark.line + 1}, column {mark.column + 1}: {text}"
    return " ".join(text.split())


def kubeconfig_namespace(kubeconfig: str | None, context: str | None) -> str:
    """The namespace of the kubeconfig context (as kubectl picks it), else ``default``."""
    from kubernetes import config

    path = kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    check_kubeconfig(path)
    try:
        contexts, active = config.list_kube_config_contexts(config_file=path)
    except (config.ConfigException, OSError):
        return "default"
    chosen = next((c for c in contexts if c["name"] == context), None) if context else active
    return str(((chosen or {}).get("context") or {}).get("namespace") or "default")
