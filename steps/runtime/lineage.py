"""OpenLineage RunEvents of a step: START, then COMPLETE or FAIL, posted as JSON over HTTP.

Configured as the OpenLineage clients read it: ``OPENLINEAGE_URL`` (base URL),
``OPENLINEAGE_ENDPOINT`` (path, default ``api/v1/lineage``), ``OPENLINEAGE_API_KEY``
(sent as a bearer token; without it, user info in the URL is sent as basic auth) and
``OPENLINEAGE_NAMESPACE`` (the job namespace, default ``ferry``). The job is
``<pipeline>.<step>``; the run id is a UUID derived from the run id, step and attempt,
so every event of one attempt names the same run and an attempt sent twice stays one
run; the parent run facet names the pipeline run (job ``<pipeline>``, UUID derived
from the run id alone).

Posting never fails the step and is bounded: each event gets
``FERRY_LINEAGE_TIMEOUT_S`` seconds (default :data:`DEFAULT_TIMEOUT_S`), and after one
event could not be posted the step sends no more, so a consumer that is down costs a
step one timeout at most.
"""

import base64
import http.client
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from steps.runtime.lineage_datasets import Dataset

SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PRODUCER = "https://github.com/ferry-etl/ferry"
DEFAULT_NAMESPACE = "ferry"
DEFAULT_ENDPOINT = "api/v1/lineage"
DEFAULT_TIMEOUT_S = 5.0
TIMEOUT_ENV = "FERRY_LINEAGE_TIMEOUT_S"

_RUN_NAMESPACE = uuid.UUID("5b0f5e1c-3c7e-5d1a-9a55-6f0e2c1b7a42")
_FACETS = "https://openlineage.io/spec/facets"
_PARENT_SCHEMA = f"{_FACETS}/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
_ERROR_SCHEMA = f"{_FACETS}/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
_JOB_TYPE_SCHEMA = f"{_FACETS}/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
_SCHEMA_SCHEMA = f"{_FACETS}/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
_STATS_SCHEMA = (
    f"{_FACETS}/1-0-2/OutputStatisticsOutputDatasetFacet.json"
    "#/$defs/OutputStatisticsOutputDatasetFacet"
)


def run_uuid(run_id: str, step: str, attempt: int) -> str:
    """The OpenLineage run id of one attempt of one step: stable across re-sends."""
    return str(uuid.uuid5(_RUN_NAMESPACE, f"{run_id}/{step}/{attempt}"))


def pipeline_run_uuid(run_id: str) -> str:
    """The OpenLineage run id of the pipeline run (the parent of its steps' runs)."""
    return str(uuid.uuid5(_RUN_NAMESPACE, run_id))


@dataclass(frozen=True)
class LineageSettings:
    """Where events go and under which namespace."""

    url: str
    endpoint: str = DEFAULT_ENDPOINT
    api_key: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "LineageSettings":
        """Read the ``OPENLINEAGE_*`` variables (and Ferry's timeout)."""
        try:
            timeout = float(environ.get(TIMEOUT_ENV, "") or DEFAULT_TIMEOUT_S)
        except ValueError:
            timeout = DEFAULT_TIMEOUT_S
        return cls(
            url=environ["OPENLINEAGE_URL"].strip(),
            endpoint=environ.get("OPENLINEAGE_ENDPOINT", "").strip() or DEFAULT_ENDPOINT,
            api_key=environ.get("OPENLINEAGE_API_KEY", "").strip() or None,
            namespace=environ.get("OPENLINEAGE_NAMESPACE", "").strip() or DEFAULT_NAMESPACE,
            timeout_s=timeout if timeout > 0 else DEFAULT_TIMEOUT_S,
        )

    @property
    def target(self) -> str:
        """The URL events are POSTed to."""
        return f"{self.url.rstrip('/')}/{self.endpoint.lstrip('/')}"

    @property
    def shown(self) -> str:
        """The target without user info: what requests go to and messages show."""
        parts = urlsplit(self.target)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return f"{parts.scheme}://{host}{parts.path}"

    def authorization(self) -> str | None:
        """The Authorization header: the API key as a bearer token, else the URL's user info."""
        if self.api_key:
            return f"Bearer {self.api_key}"
        parts = urlsplit(self.url)
        if parts.username is None:
            return None
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        return f"Basic {base64.b64encode(pair.encode()).decode()}"


@dataclass
class DatasetFacts:
    """A dataset with what is known of it: columns (name, type) and rows written."""

    dataset: Dataset
    columns: Sequence[tuple[str, str]] | None = None
    row_count: int | None = None


def _facet(schema_url: str, **body: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": schema_url, **body}


def _dataset_json(facts: DatasetFacts, *, output: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"namespace": facts.dataset.namespace, "name": facts.dataset.name}
    if facts.columns is not None:
        fields = [{"name": n, "type": t} for n, t in facts.columns]
        doc["facets"] = {"schema": _facet(_SCHEMA_SCHEMA, fields=fields)}
    if output and facts.row_count is not None:
        doc["outputFacets"] = {"outputStatistics": _facet(_STATS_SCHEMA, rowCount=facts.row_count)}
    return doc


@dataclass
class LineageEmitter:
    """Builds and posts one step attempt's events."""

    settings: LineageSettings
    pipeline: str
    step: str
    run_id: str
    attempt: int
    problems: list[str] = field(default_factory=list)

    def event(
        self,
        event_type: str,
        inputs: Sequence[DatasetFacts],
        outputs: Sequence[DatasetFacts],
        error: str | None = None,
    ) -> dict[str, Any]:
        """The RunEvent document of ``event_type`` (START, COMPLETE or FAIL)."""
        run_facets: dict[str, Any] = {
            "parent": _facet(
                _PARENT_SCHEMA,
                run={"runId": pipeline_run_uuid(self.run_id)},
                job={"namespace": self.settings.namespace, "name": self.pipeline},
            )
        }
        if error is not None:
            run_facets["errorMessage"] = _facet(
                _ERROR_SCHEMA, message=error, programmingLanguage="python"
            )
        return {
            "eventType": event_type,
            "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "producer": PRODUCER,
            "schemaURL": SCHEMA_URL,
            "run": {
                "runId": run_uuid(self.run_id, self.step, self.attempt),
                "facets": run_facets,
            },
            "job": {
                "namespace": self.settings.namespace,
                "name": f"{self.pipeline}.{self.step}",
                "facets": {
                    "jobType": _facet(
                        _JOB_TYPE_SCHEMA,
                        processingType="BATCH",
                        integration="FERRY",
                        jobType="TASK",
                    )
                },
            },
            "inputs": [_dataset_json(f, output=False) for f in inputs],
            "outputs": [_dataset_json(f, output=True) for f in outputs],
        }

    def emit(self, document: Mapping[str, Any]) -> str | None:
        """POST ``document``; the one-line problem when it was not accepted, else None.

        After a first problem nothing more is sent: the consumer is down or refuses
        Ferry, and trying again would only make the step wait once more.
        """
        if self.problems:
            return self.problems[0]
        headers = {"Content-Type": "application/json"}
        authorization = self.settings.authorization()
        if authorization is not None:
            headers["Authorization"] = authorization
        request = urllib.request.Request(
            self.settings.shown,
            data=json.dumps(document).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                response.read(1024)
        except urllib.error.HTTPError as err:
            problem = f"{self.settings.shown} answered HTTP {err.code}"
        except (OSError, ValueError, http.client.HTTPException) as err:  # refused, timed out, ...
            reason = str(getattr(err, "reason", err))
            problem = f"{self.settings.shown}: {type(err).__name__}: {reason}".splitlines()[0]
        else:
            return None
        self.problems.append(problem)
        return problem
