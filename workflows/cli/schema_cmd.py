"""``ferry schema``: the JSON Schema of YAML pipeline definitions."""

from pathlib import Path

import click


@click.command("schema")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of standard output.",
)
def schema(out: Path | None) -> None:
    """Print the JSON Schema of a YAML pipeline definition, for editors and CI.

    Point an editor at it (e.g. a first line
    "# yaml-language-server: $schema=pipeline.schema.json") to get completion and
    validation while writing a pipeline; the same models validate it in Ferry.

    \b
    Example:
      ferry schema --out pipeline.schema.json
    """  # noqa: D301 (click needs a real \b)
    from workflows.definition_schema import schema_text
    from workflows.errors import UsageError

    text = schema_text()
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write the schema to {out}: {err.strerror}") from None
