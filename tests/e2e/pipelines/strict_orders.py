"""``strict-orders``: the demo pipeline with a quality threshold the demo data cannot meet.

It keeps the default retry policy, so a run shows that a rejected quality gate (exit 3)
fails at once instead of being retried. ``strict-orders-no-retry`` turns retries off
for failures a retry would only slow down in a test (an input that is not there).
"""

from workflows.pipelines.orders_daily import pipeline as demo

pipeline = demo.model_copy(
    update={"name": "strict-orders", "quality_threshold": 0.999, "schedule": None}
)
no_retry = pipeline.model_copy(
    update={"name": "strict-orders-no-retry", "retry": demo.retry.model_copy(update={"limit": 0})}
)
