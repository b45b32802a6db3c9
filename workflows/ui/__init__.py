"""The web UI for runs: pipelines, their runs, a run's DAG and timeline, a step's details.

``ferry serve`` mounts :func:`create_ui_app` at ``/``; see docs/monitoring.md.
"""

from workflows.ui.app import create_ui_app

__all__ = ["create_ui_app"]
