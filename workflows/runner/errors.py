"""Why the local runner refuses a manifest before it starts anything, and how it collects why."""

from dataclasses import dataclass, field

from workflows.errors import UsageError


class ManifestRefused(UsageError):
    """The manifest uses something the local runner cannot honour (exit 2).

    Every problem is collected first, so one run of ``ferry run`` names all of
    them at once instead of one per attempt.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: the local runner refuses this manifest: {'; '.join(problems)}")


@dataclass
class Problems:
    """The ``path: message`` lines found while reading one manifest, in the order found."""

    items: list[str] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        """Record that the field at ``path`` (``spec.templates[1].retryStrategy``) is refused."""
        self.items.append(f"{path}: {message}")
