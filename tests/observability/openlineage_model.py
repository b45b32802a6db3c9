"""Check an OpenLineage event against the model the OpenLineage Python client generates
from the spec's JSON Schema (``OpenLineage.json`` and the facet schemas).

No PyPI package ships the schema files themselves, so an event is rebuilt field by
field as the client's typed, validating classes: an unknown or missing field, a run id
that is not a UUID, a time that is not ISO 8601 or a producer that is not a URI fails
there. The facet schema URLs must name the versions the client was generated from.
"""

from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated import (
    error_message_run,
    job_type_job,
    output_statistics_output_dataset,
    parent_run,
    schema_dataset,
)
from openlineage.client.serde import Serde


def _facet(built: Any, received: dict[str, Any]) -> Any:
    assert received["_schemaURL"] == built._schemaURL, (received["_schemaURL"], built._schemaURL)
    return built


def _schema(doc: dict[str, Any]) -> Any:
    fields = [schema_dataset.SchemaDatasetFacetFields(**f) for f in doc["fields"]]
    return _facet(schema_dataset.SchemaDatasetFacet(fields, producer=doc["_producer"]), doc)


def _dataset_facets(doc: dict[str, Any]) -> dict[str, Any]:
    facets = dict(doc.get("facets", {}))
    assert set(facets) <= {"schema"}, facets
    return {"schema": _schema(facets["schema"])} if "schema" in facets else {}


def _run_facets(facets: dict[str, Any]) -> dict[str, Any]:
    built: dict[str, Any] = {}
    for name, doc in facets.items():
        body = {k: v for k, v in doc.items() if not k.startswith("_")}
        if name == "parent":
            facet: Any = parent_run.ParentRunFacet(
                run=parent_run.Run(**body["run"]),
                job=parent_run.Job(**body["job"]),
                producer=doc["_producer"],
            )
        elif name == "errorMessage":
            facet = error_message_run.ErrorMessageRunFacet(**body, producer=doc["_producer"])
        else:
            raise AssertionError(f"unexpected run facet {name}")
        built[name] = _facet(facet, doc)
    return built


def rebuild(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` rebuilt as the client's classes and serialised again (it must be equal)."""
    job_facets = {}
    for name, doc in event["job"].get("facets", {}).items():
        assert name == "jobType", name
        body = {k: v for k, v in doc.items() if not k.startswith("_")}
        job_facets[name] = _facet(
            job_type_job.JobTypeJobFacet(**body, producer=doc["_producer"]), doc
        )
    outputs = []
    for doc in event["outputs"]:
        output_facets = {}
        for name, facet in doc.get("outputFacets", {}).items():
            assert name == "outputStatistics", name
            body = {k: v for k, v in facet.items() if not k.startswith("_")}
            stats = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                **body, producer=facet["_producer"]
            )
            output_facets[name] = _facet(stats, facet)
        outputs.append(
            OutputDataset(doc["namespace"], doc["name"], output_facets, facets=_dataset_facets(doc))
        )
    typed = RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        run=Run(event["run"]["runId"], _run_facets(event["run"].get("facets", {}))),
        job=Job(event["job"]["namespace"], event["job"]["name"], job_facets),
        inputs=[
            InputDataset(d["namespace"], d["name"], facets=_dataset_facets(d))
            for d in event["inputs"]
        ],
        outputs=outputs,
        producer=event["producer"],
    )
    assert typed.schemaURL == event["schemaURL"], (typed.schemaURL, event["schemaURL"])
    rebuilt: dict[str, Any] = Serde.to_dict(typed)
    return rebuilt
