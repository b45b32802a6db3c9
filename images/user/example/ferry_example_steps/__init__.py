"""Example functions for Ferry ``python`` steps."""
