"""``runner-tiny``: the smallest real pipeline, for ``ferry run`` end-to-end tests.

One CSV source, one not-null check, one Parquet target, all paths from parameters.
"""

from workflows import (
    Checks,
    FilesExtract,
    NotNull,
    ParquetDatasetLoad,
    Pipeline,
    Source,
    Target,
    param,
)

pipeline = Pipeline(
    name="runner-tiny",
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
        Checks(name="people-checked", input="people", rules=[NotNull(column="name")]),
        Target(
            name="people-dataset",
            input="people-checked",
            config=ParquetDatasetLoad(path=f"{param('output_dir')}/people", mode="overwrite"),
        ),
    ],
)
