"""Submit a pipeline run to Argo Workflows on Kubernetes (``ferry submit``).

``build_workflow`` makes the Workflow that ``argo submit --from workflowtemplate/NAME``
makes; ``ArgoClient`` creates and reads it through the Kubernetes API with the
user's kubeconfig; ``wait_for_workflow`` follows it to a final phase.
"""

from workflows.submit.client import ArgoClient
from workflows.submit.wait import FINAL_PHASES, wait_for_workflow
from workflows.submit.workflow import build_workflow, parse_parameters, ui_link

__all__ = [
    "FINAL_PHASES",
    "ArgoClient",
    "build_workflow",
    "parse_parameters",
    "ui_link",
    "wait_for_workflow",
]
