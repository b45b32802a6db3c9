"""``python -m workflows.cli``: the ``ferry`` command, for a child that needs no console script."""

from workflows.cli import console

console()
