"""Render a pipeline to Argo Workflows manifests (WorkflowTemplate, Workflow, CronWorkflow).

Example:
    >>> from workflows.pipelines.orders_daily import pipeline
    >>> rendered = render_pipeline(pipeline)
    >>> sorted(rendered.documents)
    ['cronworkflow.yaml', 'workflow.yaml', 'workflowtemplate.yaml']
"""

from workflows.render.output import (
    RenderedPipeline,
    render_pipeline,
    render_pipelines,
    to_yaml,
    write_files,
    write_rendered,
)

__all__ = [
    "RenderedPipeline",
    "render_pipeline",
    "render_pipelines",
    "to_yaml",
    "write_files",
    "write_rendered",
]
