"""Ferry's step programs: one entrypoint, ``python -m steps <kind> ...``.

The same command runs in the step image on Argo and as a subprocess under the local
runner; a step never knows which one started it.
"""
