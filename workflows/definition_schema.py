"""The JSON Schema of YAML pipeline definitions, so editors validate and complete them.

The Python API types a Source's or Target's ``config`` as any step config; in YAML the
config names its step kind (``kind: extract-files``), so the schema offers exactly the
registered configs of that role, each with its ``kind``. The schema is derived from the
same models that validate a definition, so it cannot drift from them; a test keeps the
committed copy (``docs/pipeline.schema.json``) equal to :func:`pipeline_schema`.
"""

import json
from typing import Annotated, Any, Literal, Union

from pydantic import Field, create_model

from steps.registry import KINDS
from steps.runtime.config import StepConfig
from workflows.pipeline import Checks, Pipeline, PythonStep, Source, Target, Transform

SCHEMA_ID = "https://ferry.dev/schemas/pipeline.schema.json"


def _with_kind(kind: str, config: type[StepConfig]) -> Any:
    tag: Any = Literal[kind]
    return create_model(
        config.__name__,
        __base__=config,
        kind=(tag, Field(description=f"The step kind: {kind}.")),
    )


def _configs(role: str) -> Any:
    members = [
        _with_kind(k.name, k.load_config_class())
        for k in KINDS.values()
        if role == k.load_config_class().ROLE
    ]
    return Annotated[Union[tuple(members)], Field(discriminator="kind")]  # noqa: UP007


def _node(node: type[Source | Target], role: str) -> Any:
    field = node.model_fields["config"]
    return create_model(
        node.__name__,
        __base__=node,
        config=(_configs(role), Field(description=field.description)),
    )


def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one YAML pipeline definition."""
    nodes: Any = (
        _node(Source, "source"),
        Checks,
        Transform,
        PythonStep,
        _node(Target, "target"),
    )
    step: Any = Annotated[Union[nodes], Field(discriminator="kind")]  # noqa: UP007
    steps_field = Pipeline.model_fields["steps"]
    model = create_model(
        "Pipeline",
        __base__=Pipeline,
        steps=(list[step], Field(description=steps_field.description)),
    )
    schema: dict[str, Any] = model.model_json_schema(mode="validation")
    return {
        **schema,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Ferry pipeline",
    }


def schema_text() -> str:
    """The schema as the committed file holds it: indented JSON, keys in a stable order."""
    return json.dumps(pipeline_schema(), indent=2, sort_keys=True) + "\n"
