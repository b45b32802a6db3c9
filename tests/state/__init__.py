"""Tests of the incremental state and the commit-state step."""
