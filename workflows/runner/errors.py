"""Why the local runner refuses a manifest before it starts anything."""

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
