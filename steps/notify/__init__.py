"""The ``notify`` step: a run's alerts (failure, quality, SLA, rejected share) to a webhook.

``config.py`` is the contract the renderer fills in from Argo's ``{{workflow.*}}``
variables; ``run_rows.py`` reads what the run's steps counted from the store;
``alerts.py`` decides whether the alert fires; ``body.py`` formats it (JSON or Slack);
``webhook.py`` is the bounded POST; ``step.py`` ties them together.
"""
