"""The shipped example pipelines; each module defines a module-level ``pipeline``.

Their rendered manifests are committed in ``rendered/<pipeline>/`` and checked by
``tests/workflows/test_render_golden.py``.
"""
