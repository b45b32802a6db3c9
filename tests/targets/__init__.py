"""Tests of the target (load) steps."""
