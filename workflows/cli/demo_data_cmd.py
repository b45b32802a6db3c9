"""``ferry demo-data``: write the deterministic demo input of ``orders-daily``."""

from pathlib import Path

import click


@click.command("demo-data")
@click.option(
    "--rows",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Order rows to generate.",
)
@click.option(
    "--customers",
    default=5_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Customers to generate.",
)
@click.option(
    "--files",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    help="Order CSV files to split the rows into.",
)
@click.option(
    "--seed", default=7, show_default=True, type=int, help="Random seed; same seed, same bytes."
)
@click.option(
    "--out",
    "out_dir",
    default="data/demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write orders/ and customers/ into.",
)
def demo_data(rows: int, customers: int, files: int, seed: int, out_dir: Path) -> None:
    """Generate the demo data: order CSVs with planted bad rows, and customers Parquet.

    Every 1000 rows carry seven kinds of planted defects (null customer, unknown
    status, negative amount, bad email, unknown currency, duplicate order id,
    unparsable amount), and each CSV file ends with two malformed lines, so a run
    shows checks and quarantine at work.

    \b
    Example:
      ferry demo-data --rows 1000000 --out data/demo
    """  # noqa: D301 - click needs the real \b (backspace) marker
    from workflows.demo_data import generate

    data = generate(out_dir, rows, customers=customers, files=files, seed=seed)
    click.echo(
        f"wrote {data.rows:,} order rows in {data.files} files and {data.customers:,} customers "
        f"to {out_dir}/ ({len(data.defects):,} planted defects, "
        f"{data.malformed_lines} malformed lines)"
    )
