"""``bench-trivial-chain``: six steps that do next to nothing, one after the other.

A one-row CSV is extracted, passed through four transforms and loaded into a
Parquet dataset. What a run of it
takes is what the local runner and the step programs cost around the work: starting
the interpreter and a step's modules, reading inputs' manifests, committing, and
scheduling the next step (``python -m bench orchestration``).
"""

from workflows import FilesExtract, ParquetDatasetLoad, Pipeline, Source, Target, Transform, param

TRANSFORMS = 4

pipeline = Pipeline(
    name="bench-trivial-chain",
    params={"data_dir": "data", "output_dir": "out"},
    steps=[
        Source(
            name="one-row",
            config=FilesExtract(
                path=f"{param('data_dir')}/one_row.csv",
                format="csv",
                columns={"id": "int64", "name": "string"},
            ),
        ),
        *(
            Transform(
                name=f"pass-{n}",
                inputs=["one-row" if n == 1 else f"pass-{n - 1}"],
                sql=f'select * from "{"one-row" if n == 1 else f"pass-{n - 1}"}"',
            )
            for n in range(1, TRANSFORMS + 1)
        ),
        Target(
            name="dataset",
            input=f"pass-{TRANSFORMS}",
            config=ParquetDatasetLoad(path=f"{param('output_dir')}/one_row", mode="overwrite"),
        ),
    ],
)
