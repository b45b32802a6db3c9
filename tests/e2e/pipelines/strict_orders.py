"""``strict-orders``: the demo pipeline with a quality threshold the demo data cannot meet."""

from workflows.pipelines.orders_daily import pipeline as demo

pipeline = demo.model_copy(
    update={
        "name": "strict-orders",
        "quality_threshold": 0.999,
        "schedule": None,
        "retry": demo.retry.model_copy(update={"limit": 0}),
    }
)
