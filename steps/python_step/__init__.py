"""The ``python`` step: a user's Python function over upstream artifacts, streamed.

Public names: :class:`~steps.python_step.config.PythonStepConfig` (the config),
:class:`~steps.python_step.rejected.Rejected` (what a function yields for rows it
rejects) and :func:`~steps.python_step.function.check_function` (the render-time check
of a function spec). Importing this package loads no pyarrow.
"""

from steps.python_step.config import PythonStepConfig
from steps.python_step.function import check_function
from steps.python_step.rejected import Rejected

__all__ = ["PythonStepConfig", "Rejected", "check_function"]
