"""User functions the ``python`` step tests run (a pipeline's own package)."""
