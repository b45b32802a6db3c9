"""Pipelines that exist only to be measured by ``make bench``."""
