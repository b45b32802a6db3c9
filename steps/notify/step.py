"""The ``notify`` step: decide whether an alert fires and, if so, send it to the webhook.

It runs in the workflow's exit handler (or while the run goes on, for an SLA), after
the steps whose facts it reports, so it must not make a run worse: a webhook that
cannot be reached leaves the run's result as it is (exit 0, the ``warning`` output
says what happened). Only what a person must fix stops it: the webhook variable
unset or not a URL, or a bad config (exit 2).
"""

import os

from steps.notify.alerts import build_alert, decide
from steps.notify.body import render_body
from steps.notify.config import NotifyConfig
from steps.notify.run_rows import RunRows, read_run_rows, run_artifacts
from steps.notify.webhook import Webhook, url_problem
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.errors import StepError, StepUsageError

NEEDS_ROWS = ("quality", "rejected_share")
"""Alerts that cannot be decided without the run's row counts."""


def webhook_url(config: NotifyConfig) -> str:
    """The webhook URL from ``webhook_env``; refused (never shown) when unset or not a URL."""
    name = config.webhook_env
    url = os.environ.get(name, "").strip()
    if not url:
        raise StepUsageError(
            f"environment variable {name} (webhook_env) is not set; set it to the webhook URL, "
            "or check the Secret it is rendered from (webhook_secret)"
        )
    problem = url_problem(url)
    if problem:
        raise StepUsageError(
            f"environment variable {name} (webhook_env) does not hold a webhook URL: "
            f"{problem}; set it to the http(s) URL the receiver gave you"
        )
    return url


def _run_rows(ctx: StepContext, config: NotifyConfig) -> RunRows:
    """The run's row counts; without them only alerts that need none still go out."""
    try:
        return read_run_rows(ctx.store, ctx.run_id)
    except (OSError, ValueError, KeyError, StepError) as err:
        where = run_artifacts(ctx.store, ctx.run_id).uri
        reason = " ".join(f"{type(err).__name__}: {err}".split())
        if config.alert in NEEDS_ROWS:
            raise StepError(
                f"cannot read the run's row counts under {where}: {reason}; check the store "
                "(the step retries)"
            ) from None
        ctx.warn(f"the alert goes out without row counts: cannot read {where}: {reason}")
        return RunRows(())


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def run(ctx: StepContext, config: NotifyConfig) -> RowCounts:
    """Send ``config``'s alert for this run when it fires; a failed POST only warns."""
    url = webhook_url(config)
    rows = _run_rows(ctx, config)
    verdict = decide(config, rows)
    if not verdict.firing:
        ctx.log.event(
            "alert_not_firing",
            alert=config.alert,
            message=f"alert {config.alert} not firing: {verdict.reason}",
        )
        return RowCounts(rows_in=0, rows_out=0)
    alert = build_alert(config, ctx.pipeline, ctx.run_id, rows, verdict)
    webhook = Webhook(
        url, timeout_s=config.timeout_seconds, max_attempts=config.max_attempts, log=ctx.log
    )
    delivery = webhook.post(render_body(alert, config.format))
    if delivery.delivered:
        ctx.log.event(
            "alert_sent",
            alert=config.alert,
            format=config.format,
            status=delivery.status,
            attempts=delivery.attempts,
            summary=alert.summary,
        )
    else:
        ctx.warn(f"webhook failed after {_attempts(delivery.attempts)}: {delivery.reason}")
    return RowCounts(rows_in=0, rows_out=0)
