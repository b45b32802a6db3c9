"""Pipelines the UI tests run for real: a scheduled one, one failing mid-way, one that warns.

Built from the shipped examples; only modules are imported at module level, so
discovery finds exactly the three pipelines defined here.
"""

from pathlib import Path

import workflows.pipelines.orders_daily as daily
from workflows.definition_yaml import load_yaml_pipeline

EXAMPLES = Path(daily.__file__).parent

ui_daily = daily.pipeline.model_copy(update={"name": "ui-daily"})
"""The demo pipeline under another name, schedule kept: what "run now" starts."""

ui_strict = daily.pipeline.model_copy(
    update={"name": "ui-strict", "quality_threshold": 0.999, "schedule": None}
)
"""Fails at its checks step (the demo data scores 0.994): the later steps are omitted."""

ui_segments = load_yaml_pipeline(EXAMPLES / "orders_by_segment.yaml").model_copy(
    update={"name": "ui-segments"}
)
"""The YAML example: a warn-severity gate that lets the run succeed with a warning."""
