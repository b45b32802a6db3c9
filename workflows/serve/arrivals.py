"""Object arrival without a webhook: poll a folder or an S3 prefix for new objects.

On the cluster MinIO posts a bucket notification to the event endpoint. Locally the
server lists ``<root>/<bucket>/<prefix>`` every ``poll_seconds`` (a folder holding one
sub-folder per bucket, or ``s3://`` for the buckets at ``AWS_ENDPOINT_URL``) and,
for each new or changed object ending in the suffix, posts MinIO's webhook body to
the trigger's discriminator through the same intake as an HTTP event, so the
rendered binding decides the run and its parameters. What was seen is kept in
``STORE/serve/arrivals/<discriminator>.json``: a restart does not fire again for
objects already handled. The first poll of a new watch only records what is there.
A local file must look the same on two polls in a row (size and modification time)
before it counts, so a file still being written does not start a run; hidden files
(``.name``) never count.
"""

import json
import posixpath
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from steps.runtime.store import Location, exists, open_location, read_text, write_text_atomic
from workflows.serve.eventlog import EventLog
from workflows.serve.intake import Intake
from workflows.triggers import OBJECT_CREATED, ObjectArrival

ARRIVALS_FOLDER = "arrivals"
MIN_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 300.0


@dataclass(frozen=True)
class SeenObject:
    """An object in a listing: its key (without the bucket), size and change signature."""

    key: str
    size: int
    signature: str


def minio_event(bucket: str, obj: SeenObject, when: datetime) -> dict[str, object]:
    """The body MinIO's webhook posts for a put of ``obj`` (docs/scheduling.md)."""
    name = f"{OBJECT_CREATED}Put"
    return {
        "EventName": name,
        "Key": f"{bucket}/{obj.key}",
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "minio:s3",
                "eventTime": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "eventName": name,
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {"key": quote(obj.key), "size": obj.size, "eTag": obj.signature},
                },
            }
        ],
    }


@dataclass
class ArrivalWatch:
    """One ObjectArrival trigger's watch: where to list and what was already seen."""

    trigger: ObjectArrival
    root: str
    store: Location
    seen: dict[str, str] | None = None
    candidates: dict[str, str] = field(default_factory=dict)

    @property
    def discriminator(self) -> str:
        """Where the synthesised events are posted."""
        return self.trigger.effective_discriminator()

    def bucket_location(self) -> Location:
        """The bucket: ``<root>/<bucket>`` for a folder, ``s3://<bucket>`` for ``s3://``."""
        if self.root.rstrip("/") in ("s3:", "s3:/"):
            return open_location(f"s3://{self.trigger.bucket}")
        return open_location(self.root).child(self.trigger.bucket)

    def state_location(self) -> Location:
        """``STORE/serve/arrivals/<discriminator>.json``."""
        return self.store.child("serve", ARRIVALS_FOLDER, f"{self.discriminator}.json")

    def listing(self) -> list[SeenObject]:
        """Objects under the prefix ending in the suffix, hidden local files left out."""
        import pyarrow.fs as pafs

        bucket = self.bucket_location()
        prefix = self.trigger.prefix
        base = posixpath.join(bucket.path, posixpath.dirname(prefix))
        selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
        found = []
        for info in bucket.fs.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            key = posixpath.relpath(info.path, bucket.path)
            if not key.startswith(prefix) or not key.endswith(self.trigger.suffix):
                continue
            if bucket.is_local and posixpath.basename(key).startswith("."):
                continue
            mtime = info.mtime_ns if info.mtime_ns is not None else 0
            found.append(SeenObject(key, info.size or 0, f"{info.size}-{mtime}"))
        return sorted(found, key=lambda o: o.key)

    def load(self) -> None:
        """Read what was seen from the store (None: a new watch)."""
        location = self.state_location()
        self.seen = json.loads(read_text(location))["objects"] if exists(location) else None

    def save(self) -> None:
        """Write what was seen."""
        write_text_atomic(self.state_location(), json.dumps({"objects": self.seen}, indent=1))

    def poll(self, intake: Intake, log: EventLog) -> int:
        """List once; post an event per new object; return how many were posted."""
        if self.seen is None:
            self.load()
        objects = self.listing()
        if self.seen is None:
            self.seen = {o.key: o.signature for o in objects}
            self.save()
            log("watch", discriminator=self.discriminator, objects=len(objects), root=self.root)
            return 0
        stable_needed = self.bucket_location().is_local
        fresh = []
        candidates = {}
        for obj in objects:
            if self.seen.get(obj.key) == obj.signature:
                continue
            if stable_needed and self.candidates.get(obj.key) != obj.signature:
                candidates[obj.key] = obj.signature
                continue
            fresh.append(obj)
        self.candidates = candidates
        for obj in fresh:
            log("arrival", discriminator=self.discriminator, key=obj.key, size=obj.size)
            body = minio_event(self.trigger.bucket, obj, datetime.now(UTC))
            intake.receive(self.discriminator, body, {}, origin="arrival")
            self.seen[obj.key] = obj.signature
        listed = {o.key for o in objects}
        gone = [key for key in self.seen if key not in listed]
        for key in gone:
            del self.seen[key]
        if fresh or gone:
            self.save()
        return len(fresh)
