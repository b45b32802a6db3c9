"""Ferry's metrics: one catalog of names, rendered for Argo and computed from local runs.

``catalog`` names every metric once (name, type, labels, help);
``workflows.render.metrics`` turns it into ``metrics.prometheus`` for the cluster, and
``workflows.monitoring.metrics`` computes the same names from the local run records
(``ferry metrics``, later ``/metrics``). The package itself imports only the catalog,
so rendering does not pull in the runner. See docs/monitoring.md.
"""

from workflows.monitoring.catalog import CATALOG, MetricSpec

__all__ = ["CATALOG", "MetricSpec"]
