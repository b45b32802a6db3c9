"""What a step kind's ``run`` function gets: who it is, where its inputs and output are."""

from dataclasses import dataclass, field

from steps.runtime.artifacts import ArtifactReader, ArtifactWriter
from steps.runtime.errors import StepUsageError
from steps.runtime.log import EventLog
from steps.runtime.phases import NO_PHASES, Phases
from steps.runtime.store import Location


@dataclass
class StepContext:
    """The identity and the locations of one step invocation."""

    pipeline: str
    step: str
    run_id: str
    store: Location
    log: EventLog
    inputs: dict[str, Location] = field(default_factory=dict)
    output: Location | None = None
    warnings: list[str] = field(default_factory=list)
    phases: Phases = NO_PHASES
    """Where reading inputs and committing the output are reported (spans with tracing on)."""
    _writers: list[ArtifactWriter] = field(default_factory=list, init=False, repr=False)

    def close(self) -> None:
        """End what the step's writers still have running (their writes' thread).

        The harness calls it as the step ends, whether it committed or failed.
        """
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def warn(self, message: str) -> None:
        """Report a problem that does not fail the step (written as the ``warning`` output)."""
        self.warnings.append(message)
        self.log.event("step_warning", level="warning", message=message)

    def read_input(self, name: str) -> ArtifactReader:
        """Open the committed artifact of upstream step ``name``."""
        if name not in self.inputs:
            known = ", ".join(sorted(self.inputs)) or "none"
            raise StepUsageError(f"step {self.step!r} has no input {name!r} (inputs: {known})")
        loc = self.inputs[name]
        with self.phases.phase("read", input=name, artifact=loc.uri) as phase:
            reader = ArtifactReader(loc, name)
            phase.set(rows_in=reader.rows, rows_rejected=reader.rejected)
        return reader

    def only_input(self) -> ArtifactReader:
        """The single input of a step that takes exactly one."""
        if len(self.inputs) != 1:
            raise StepUsageError(
                f"step {self.step!r} takes exactly one --input, got {len(self.inputs)}"
            )
        return self.read_input(next(iter(self.inputs)))

    def artifact_writer(self) -> ArtifactWriter:
        """A writer for this step's own artifact at ``--output``."""
        if self.output is None:
            raise StepUsageError(f"step {self.step!r} needs --output ARTIFACT_URI")
        writer = ArtifactWriter(
            self.output,
            pipeline=self.pipeline,
            step=self.step,
            run_id=self.run_id,
            phases=self.phases,
        )
        self._writers.append(writer)
        return writer

    def state_location(self, source: str) -> Location:
        """Where the incremental high-water mark of ``source`` is kept."""
        return self.store.child("state", self.pipeline, f"{source}.json")
