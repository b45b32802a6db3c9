"""``runner-tiny``: the smallest real pipeline, for ``ferry run`` end-to-end tests.

One CSV source, one not-null check, one Parquet target, all paths from parameters.
"""

from steps.checks.config import NotNull
from steps.extract.files.config import FilesExtract
from steps.load.parquet_dataset.config import ParquetDatasetLoad
from workflows.pipeline import Checks, Pipeline, Source, Target, param

pipeline = Pipeline(
    name="runner-tiny",
    params={"data_dir": "data", "output_dir": "out"},
    sources=[
        Source(
            name="people",
            config=FilesExtract(
                path=f"{param('data_dir')}/people.csv",
                format="csv",
                columns={"id": "int64", "name": "string"},
            ),
        )
    ],
    checks=[Checks(name="people-checked", input="people", rules=[NotNull(column="name")])],
    targets=[
        Target(
            name="people-dataset",
            input="people-checked",
            config=ParquetDatasetLoad(path=f"{param('output_dir')}/people", mode="overwrite"),
        )
    ],
)
