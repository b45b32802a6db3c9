"""A module that raises while it is imported."""

raise RuntimeError("ORDERS_REGION is not set")
