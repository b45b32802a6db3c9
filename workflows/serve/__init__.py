"""``ferry serve``: the local scheduler and event server, over the rendered manifests.

One process runs every scheduled pipeline on its rendered CronWorkflow's schedule,
serves argo-server's event endpoint for the rendered WorkflowEventBindings, watches
folders or S3 prefixes for ObjectArrival triggers, and serves ``/metrics`` and
``/healthz``. Each run is ``ferry run`` in a subprocess, so a crashing run cannot
take the server down. State lives in the store (``STORE/serve/``), so a restart
neither loses nor repeats a run. One module per job:

- :mod:`.served`: the pipelines as rendered (CronWorkflow and bindings, read back);
- :mod:`.state`: what the scheduler persists in the store;
- :mod:`.runs`: starting, watching and stopping run subprocesses;
- :mod:`.scheduler`: ticks, catch-up, concurrency policies, the run queue;
- :mod:`.intake`: an event against the bindings, as argo-server dispatches it;
- :mod:`.arrivals`: polling folders and S3 prefixes for new objects;
- :mod:`.app`: the HTTP app (Starlette);
- :mod:`.lifecycle`: start, the loop, signals, a clean stop.
"""

from workflows.serve.lifecycle import ServeOptions, serve

__all__ = ["ServeOptions", "serve"]
