"""Source kinds: each sub-package reads one kind of source into a step artifact."""
