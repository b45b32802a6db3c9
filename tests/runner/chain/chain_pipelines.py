"""Two real pipelines chained by a dependency trigger, for ``ferry run`` end-to-end tests.

``chain-report`` runs after ``chain-load`` succeeds, with its ``run_date``, and reads
what ``chain-load`` wrote.
"""

from workflows import (
    AfterPipeline,
    Checks,
    FilesExtract,
    NotNull,
    ParquetDatasetLoad,
    Pipeline,
    Source,
    Target,
    param,
)

load = Pipeline(
    name="chain-load",
    params={"data_dir": "data", "output_dir": "out"},
    steps=[
        Source(
            name="people",
            config=FilesExtract(
                path=f"{param('data_dir')}/people.csv",
                format="csv",
                columns={"id": "int64", "name": "string"},
            ),
        ),
        Target(
            name="people-dataset",
            input="people",
            config=ParquetDatasetLoad(path=f"{param('output_dir')}/people", mode="overwrite"),
        ),
    ],
)

report = Pipeline(
    name="chain-report",
    params={"output_dir": "out"},
    triggers=[AfterPipeline(pipeline="chain-load")],
    quality_threshold=0.5,
    steps=[
        Source(
            name="people",
            config=FilesExtract(path=f"{param('output_dir')}/people/*.parquet", format="parquet"),
        ),
        Checks(name="people-checked", input="people", rules=[NotNull(column="name")]),
        Target(
            name="report",
            input="people-checked",
            config=ParquetDatasetLoad(
                path=f"{param('output_dir')}/report/{param('run_date')}", mode="overwrite"
            ),
        ),
    ],
)
