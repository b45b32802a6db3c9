"""An event against the rendered bindings, as argo-server dispatches it.

argo-server (server/event/dispatch/operation.go) builds the environment ``payload``
(the JSON body), ``metadata`` (the request's ``x-`` headers, lower-cased, each a
list of values) and ``discriminator``; every binding of the namespace whose selector
holds submits its WorkflowTemplate with the parameters its ``valueFrom.event``
expressions give (a string as itself, anything else as JSON). A selector or
parameter that fails on the event means that binding does not fire: logged as
``refused`` with the reason, while the other bindings still may.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows import event_selector
from workflows.serve.eventlog import EventLog
from workflows.serve.scheduler import Scheduler
from workflows.serve.served import Binding
from workflows.serve.state import Origin


@dataclass(frozen=True)
class Fired:
    """A binding that matched, and the id of the run it queued (None while stopping)."""

    binding: str
    pipeline: str
    parameters: dict[str, str]
    run: str | None


def event_metadata(headers: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """argo-server's ``metadata``: only ``x-`` headers (never ``authorization``), as lists."""
    found: dict[str, list[str]] = {}
    for name, value in headers:
        key = name.lower()
        if key.startswith("x-"):
            found.setdefault(key, []).append(value)
    return found


class Intake:
    """Receives events for the served bindings and queues the runs they start."""

    def __init__(self, bindings: Iterable[Binding], scheduler: Scheduler, log: EventLog) -> None:
        self.bindings = tuple(bindings)
        self.scheduler = scheduler
        self.log = log

    def receive(
        self,
        discriminator: str,
        payload: Any,
        metadata: Mapping[str, list[str]],
        origin: Origin = "event",
    ) -> list[Fired]:
        """Evaluate every binding on the event; queue a run for each that matches."""
        env = {"payload": payload, "metadata": dict(metadata), "discriminator": discriminator}
        self.log("event", discriminator=discriminator, origin=origin)
        fired = []
        for binding in self.bindings:
            parameters = self._evaluate(binding, env)
            if parameters is None:
                continue
            run = self.scheduler.submit(binding.pipeline, parameters, origin, binding.name)
            if run is None:
                self.log("refused", binding=binding.name, reason="the server is stopping")
            fired.append(Fired(binding.name, binding.pipeline, parameters, run))
        if not fired:
            self.log("unmatched", discriminator=discriminator, origin=origin)
        return fired

    def _evaluate(self, binding: Binding, env: dict[str, Any]) -> dict[str, str] | None:
        try:
            if not event_selector.matches(binding.selector, env):
                return None
            return {
                name: event_selector.parameter_value(
                    event_selector.evaluate(event_selector.parse(expression), env)
                )
                for name, expression in binding.parameters
            }
        except event_selector.SelectorError as err:
            self.log("refused", binding=binding.name, pipeline=binding.pipeline, reason=str(err))
            return None
