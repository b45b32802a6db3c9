"""The local runner's fork server: step attempts forked with their imports already done.

A package of its own, outside ``workflows.runner``, so that ``ferry run`` can start
the server before it imports the runner, and the server imports nothing of the
runner it does not use.
"""
