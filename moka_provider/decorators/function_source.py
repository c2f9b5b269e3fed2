"""A ``@task.moka_pyspark`` function as the Spark driver receives it: its source, not a pickle.

The driver compiles the ``def`` alone, in a namespace of its own, so the function may use only
what it defines or imports itself, its parameters and builtins. What can be told on the worker is
checked here, when the DAG is parsed, and each problem named: no readable source, a lambda, a
coroutine, a closure over the enclosing function's variables, names of the DAG file's module
(imports, constants, helpers) used in the body or in default values. Annotations are not
evaluated in the driver, so they may name anything.
"""

from __future__ import annotations

import ast
import builtins
import dis
import inspect
import textwrap
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from moka_provider.exceptions import MokaJobSpecError

#: Names the driver's namespace has besides builtins.
_DRIVER_NAMES = frozenset(dir(builtins)) | {"__name__"}


@dataclass(frozen=True)
class FunctionSource:
    """What the runner needs to define the function: its ``def`` (dedented, decorators removed),
    and the file and line of that ``def`` (for tracebacks)."""

    name: str
    source: str
    file: str
    line: int


def function_source(function: Callable[..., Any]) -> FunctionSource:
    """The source of ``function`` for the driver; :class:`MokaJobSpecError` (``python_callable``)
    naming what makes it unfit."""
    name = getattr(function, "__name__", type(function).__name__)
    if not isinstance(function, types.FunctionType):
        _unfit(f"{name!r} is not a function defined with def (a {type(function).__name__})")
    if hasattr(function, "__wrapped__"):
        _unfit(
            f"{name}() has another decorator, which the driver would not apply: "
            "put @task.moka_pyspark alone on the def"
        )
    if name == "<lambda>":
        _unfit("a lambda cannot be sent to the driver: define the function with def")
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        _unfit(f"{name}() is async: the driver calls a plain function")
    if function.__code__.co_freevars:
        _unfit(
            f"{name}() uses variables of the function it is defined in ({', '.join(function.__code__.co_freevars)}),"
            " which the driver does not have: pass them as arguments"
        )
    try:
        lines, first_line = inspect.getsourcelines(function)
    except (OSError, TypeError) as error:
        _unfit(f"the source of {name}() cannot be read ({error}): define it in a file, not interactively")
    text = textwrap.dedent("".join(lines))
    try:
        definition = ast.parse(text).body[0]
    except SyntaxError as error:
        _unfit(f"the source of {name}() does not parse on its own once dedented: {error}")
    if not isinstance(definition, ast.FunctionDef):
        _unfit(f"the source of {name}() is not a def statement")
    outside = (_global_names(function.__code__) | _default_names(definition)) - _DRIVER_NAMES
    if outside:
        _unfit(
            f"{name}() uses names from outside it, which the driver does not have: "
            f"{', '.join(sorted(outside))}; import them inside the function, or pass values as arguments"
        )
    source = "".join(text.splitlines(keepends=True)[definition.lineno - 1 :])
    file = inspect.getsourcefile(function) or function.__code__.co_filename
    return FunctionSource(definition.name, source, file, first_line + definition.lineno - 1)


def _unfit(problem: str) -> NoReturn:
    raise MokaJobSpecError("python_callable", f"@task.moka_pyspark: {problem}")


def _global_names(code: types.CodeType) -> set[str]:
    """The module-level names ``code`` and the functions, classes and comprehensions in it read,
    less those it assigns with ``global``."""
    loaded: set[str] = set()
    stored: set[str] = set()
    for each in _code_objects(code):
        for instruction in dis.get_instructions(each):
            if instruction.opname == "LOAD_GLOBAL":
                loaded.add(str(instruction.argval))
            elif instruction.opname == "STORE_GLOBAL":
                stored.add(str(instruction.argval))
    return loaded - stored


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


def _default_names(definition: ast.FunctionDef) -> set[str]:
    """Names the default values read: evaluated when the driver defines the function."""
    defaults = [*definition.args.defaults, *(d for d in definition.args.kw_defaults if d is not None)]
    return {node.id for default in defaults for node in ast.walk(default) if isinstance(node, ast.Name)}
