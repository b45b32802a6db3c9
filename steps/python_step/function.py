"""Find a user's function from its spec and check it can take the step's inputs.

A spec is ``package.module:function``. The module is imported from ``sys.path``
(the image's virtualenv on the cluster, the pipeline's folder under the local
runner), and the function's signature is checked against the call the step makes:
one positional argument per input, in the order of ``inputs``, plus ``params=`` as a
keyword argument when the function has a parameter named ``params``.

The same check runs at render time (:func:`check_function`) and in the step
(:func:`load_function`), so a function that ``ferry render`` accepts is called the
same way in the pod. Every problem is one ``ValueError`` line naming the function
and what to do.
"""

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

_SPEC = re.compile(r"(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):(?P<function>[A-Za-z_]\w*)")

PARAMS = "params"
"""The keyword argument that carries the config's ``params``."""

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True)
class UserFunction:
    """A user's function, found and checked: how the step calls it."""

    spec: str
    function: Callable[..., Any]
    takes_params: bool
    """Whether the function has a ``params`` parameter (it then always gets ``params=``)."""

    def call(self, inputs: list[Any], params: dict[str, Any]) -> Any:
        """Call the function with one positional argument per input (and ``params=``)."""
        if self.takes_params:
            return self.function(*inputs, **{PARAMS: params})
        return self.function(*inputs)


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``package.module:function`` into module and function name, or raise ValueError."""
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise ValueError(
            f"function {spec!r} is not 'package.module:function'; write the module's import "
            "path, a colon and the function's name, e.g. 'my_steps.orders:enrich'"
        )
    return match["module"], match["function"]


def _import(spec: str, module_name: str) -> Any:
    try:
        return import_module(module_name)
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if module_name == missing or module_name.startswith(f"{missing}."):
            raise ValueError(
                f"function {spec!r}: module {module_name!r} is not importable (no module named "
                f"{missing!r}); install its package into the step image, or put it in the "
                "pipeline's folder for a local run"
            ) from None
        raise ValueError(
            f"function {spec!r}: importing module {module_name!r} failed: no module named "
            f"{missing!r}; install what the module imports into the step image"
        ) from None
    except Exception as err:  # a module that fails at import time: its code is at fault
        raise ValueError(
            f"function {spec!r}: importing module {module_name!r} failed: {_one_line(err)}; "
            "fix the module"
        ) from None


def _one_line(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text.splitlines()[0] if text else type(err).__name__


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _check_signature(
    spec: str, function: Callable[..., Any], input_count: int, *, has_params: bool
) -> bool:
    """Raise ValueError unless the step's call binds; return whether ``params=`` is passed."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # some builtins have none: the call itself will tell
        if has_params:
            raise ValueError(
                f"function {spec!r} has no inspectable signature, so it cannot be given "
                f"{PARAMS}; wrap it in a Python function with a {PARAMS} parameter"
            ) from None
        return False
    parameters = list(signature.parameters.values())
    params = signature.parameters.get(PARAMS)
    takes_params = params is not None and params.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )
    if has_params and not takes_params:
        raise ValueError(
            f"function {spec!r} has no {PARAMS} parameter but the step gives it params; add a "
            f"keyword parameter `*, {PARAMS}` to the function or drop params from the step"
        )
    variadic = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
    slots = [p for p in parameters if p.kind in _POSITIONAL and not (takes_params and p is params)]
    if takes_params and params is not None and params.kind in _POSITIONAL:
        before = [p for p in slots if parameters.index(p) < parameters.index(params)]
        if len(before) < input_count:
            raise ValueError(
                f"function {spec!r} has its {PARAMS} parameter at position {len(before) + 1}, "
                f"before all {_plural(input_count, 'input')}; put {PARAMS} after the input "
                f"parameters, or make it keyword-only (`*, {PARAMS}`)"
            )
    if not variadic and len(slots) < input_count:
        raise ValueError(
            f"function {spec!r} takes {_plural(len(slots), 'positional parameter')} but the "
            f"step has {_plural(input_count, 'input')}; give it one parameter per input, in "
            "the order of inputs (or *args)"
        )
    required = [p for p in slots if p.default is inspect.Parameter.empty]
    if len(required) > input_count:
        missing = ", ".join(p.name for p in required[input_count:])
        raise ValueError(
            f"function {spec!r} requires {_plural(len(required), 'positional parameter')} but "
            f"the step has {_plural(input_count, 'input')}: nothing is given for {missing}; "
            "give it one parameter per input, in the order of inputs"
        )
    keyword = [
        p
        for p in parameters
        if p.kind is inspect.Parameter.KEYWORD_ONLY
        and p.name != PARAMS
        and p.default is inspect.Parameter.empty
    ]
    if keyword:
        raise ValueError(
            f"function {spec!r} requires keyword-only parameter {keyword[0].name!r}, which the "
            f"step does not give; give it a default, or read it from {PARAMS}"
        )
    try:  # the last word: exactly the call the step makes
        signature.bind(*range(input_count), **({PARAMS: {}} if takes_params else {}))
    except TypeError as err:
        raise ValueError(
            f"function {spec!r} cannot be called with {_plural(input_count, 'input')}"
            f"{f' and {PARAMS}=' if takes_params else ''}: {err}; fix its parameters"
        ) from None
    return takes_params


def load_function(spec: str, input_count: int, *, has_params: bool) -> UserFunction:
    """Import and check the function ``spec`` names; raise ValueError with one line if unfit.

    ``has_params`` says whether the step's config gives ``params`` (non-empty): then the
    function must have a ``params`` parameter.
    """
    module_name, name = parse_spec(spec)
    module = _import(spec, module_name)
    try:
        function = getattr(module, name)
    except AttributeError:
        raise ValueError(
            f"function {spec!r}: module {module_name!r} has no attribute {name!r}; "
            "fix the function's name or define it in the module"
        ) from None
    if not callable(function):
        raise ValueError(
            f"function {spec!r} is a {type(function).__name__}, not a function; name a "
            "function defined with def"
        )
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        raise ValueError(
            f"function {spec!r} is async; write a plain function or generator (def ... yield)"
        )
    takes_params = _check_signature(spec, function, input_count, has_params=has_params)
    return UserFunction(spec=spec, function=function, takes_params=takes_params)


def check_function(spec: str, input_count: int, *, has_params: bool) -> None:
    """Check at render time that ``spec`` names a function the step can call.

    Imports the module (the caller arranges ``sys.path``) and checks the signature
    against ``input_count`` inputs (``len(inputs)``) and, when ``has_params`` (the
    step's ``params`` are not empty), a ``params`` parameter; the step itself checks
    the same way. Raises ValueError with one line naming the function and what to do.

    Example:
        >>> check_function("json:dumps", 1, has_params=False)
        >>> check_function("json:dumps", 1, has_params=True)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: function 'json:dumps' has no params parameter but the step gives it params; ...
    """
    load_function(spec, input_count, has_params=has_params)
