"""The ``commit-state`` step; the state file itself is ``steps.incremental.state``."""
