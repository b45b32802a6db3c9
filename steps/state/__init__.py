"""Incremental high-water marks: the state file and the ``commit-state`` step."""
