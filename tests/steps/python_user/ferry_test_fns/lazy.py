"""Record, in order, when the step reads an input batch, hands it over and writes output.

Importing this module wraps ``ArtifactReader.batches`` and ``ArtifactWriter.write`` with
generators and functions that log what happens; the function then sees the log.
"""

import pyarrow as pa

from steps.runtime import artifacts

EVENTS: list[str] = []
_batches = artifacts.ArtifactReader.batches
_write = artifacts.ArtifactWriter.write


def _logged_batches(self, *args, **kwargs):
    for index, batch in enumerate(_batches(self, *args, **kwargs)):
        EVENTS.append(f"read {self.name} {index}")
        yield batch


def _logged_write(self, batch):
    EVENTS.append(f"wrote {batch.num_rows}")
    _write(self, batch)


artifacts.ArtifactReader.batches = _logged_batches  # type: ignore[method-assign]
artifacts.ArtifactWriter.write = _logged_write  # type: ignore[method-assign]


def probe(orders):
    """Yield each batch's first two rows; finally yield the event log."""
    for index, batch in enumerate(orders):
        EVENTS.append(f"saw {index}")
        yield batch.slice(0, 2).select(["order_id"])
    yield pa.record_batch({"order_id": pa.array([-1], pa.int64())})
    EVENTS.append("done")
    print("EVENTS " + "|".join(EVENTS))
