"""Values in DAG source: reading the literal ones, seeing through built Bash commands, writing values back.

The rewriter converts a task only when every value it moves is a literal, known without running the
DAG file: strings (implicit concatenation, f-strings without substitutions), numbers, booleans,
``None``, and lists / tuples / dicts of those. Anything else (a name, a call, ``Variable.get()``,
``{**base, ...}``) is computed at parse time and left to the drop-in operators, which see the value.

For Bash commands a second, looser reading keeps the literal text of a built command and stands a
placeholder word in for every computed piece: enough to see that ``f"spark-submit --class {cls}
..."`` runs spark-submit (and is one command), not enough to translate it.

Writing back renders translated arguments as Python literals the way a formatter would: inline when
the line fits, else one item per line with a trailing comma.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Mapping
from typing import Any

#: Stands in for a computed piece of a Bash command.
PLACEHOLDER = "__moka_dynamic__"
#: The rewritten lines aim at this width (black's and ruff's default).
LINE_WIDTH = 88
_PERCENT_FIELD = re.compile(r"%(\([^)]*\))?[-#0 +]*(\*|\d+)?(\.(\*|\d+))?[diouxXeEfFgGcrsa]")


class NotLiteral(ValueError):
    """The value is computed when the DAG file runs."""


class _PlainFStrings(ast.NodeTransformer):
    """``f"text"`` without substitutions is a plain string."""

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        if all(isinstance(part, ast.Constant) for part in node.values):
            text = "".join(str(part.value) for part in node.values)  # type: ignore[attr-defined]
            return ast.copy_location(ast.Constant(text), node)
        return node


def _expression(code: str) -> ast.expr:
    """The expression of ``code``, an expression's source as it appears inside a call."""
    # Parenthesized, so that implicit concatenation across lines and a trailing comment parse.
    return ast.parse(f"(\n{code}\n)", mode="eval").body


def literal_value(code: str) -> Any:
    """The value of the expression ``code`` if it is a literal; :class:`NotLiteral` otherwise."""
    try:
        return ast.literal_eval(_PlainFStrings().visit(_expression(code)))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
        raise NotLiteral(code) from error


def command_text(code: str, constants: Mapping[str, str]) -> tuple[str, bool]:
    """The text of a string expression, with :data:`PLACEHOLDER` for computed pieces, and whether any
    piece was computed. ``constants`` are module-level names and the source of their values: a name
    is seen through (still computed: its value may change before the task is built)."""
    try:
        node = _expression(code)
    except SyntaxError:
        return PLACEHOLDER, True
    return _text(node, constants, depth=0)


def _text(node: ast.expr, constants: Mapping[str, str], depth: int) -> tuple[str, bool]:
    if isinstance(node, ast.Constant):
        return (node.value, False) if isinstance(node.value, str) else (PLACEHOLDER, True)
    if isinstance(node, ast.JoinedStr):
        pieces = [_text(part, constants, depth) for part in node.values]
        return "".join(text for text, _ in pieces), any(dynamic for _, dynamic in pieces)
    if isinstance(node, ast.FormattedValue):
        if node.format_spec is None and node.conversion == -1:  # {NAME}: the constant's text
            return _text(node.value, constants, depth)[0], True
        return PLACEHOLDER, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        (left, left_dynamic), (right, right_dynamic) = (
            _text(node.left, constants, depth),
            _text(node.right, constants, depth),
        )
        return left + right, left_dynamic or right_dynamic
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        template, _ = _text(node.left, constants, depth)
        return _PERCENT_FIELD.sub(PLACEHOLDER, template).replace("%%", "%"), True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _method_text(node, node.func, constants, depth)
    if isinstance(node, ast.Name) and depth < 3 and node.id in constants:
        try:
            value = _expression(constants[node.id])
        except SyntaxError:
            return PLACEHOLDER, True
        return _text(value, constants, depth + 1)[0], True
    return PLACEHOLDER, True


def _method_text(
    node: ast.Call, method: ast.Attribute, constants: Mapping[str, str], depth: int
) -> tuple[str, bool]:
    """``"...".format(...)`` and ``" ".join([...])``: the text they visibly build."""
    receiver, _ = _text(method.value, constants, depth)
    if method.attr == "format":
        try:
            fields = list(string.Formatter().parse(receiver))
        except ValueError:
            return PLACEHOLDER, True
        return "".join(text + (PLACEHOLDER if name is not None else "") for text, name, _, _ in fields), True
    if method.attr == "join" and len(node.args) == 1 and isinstance(node.args[0], ast.List | ast.Tuple):
        items = [_text(item, constants, depth)[0] for item in node.args[0].elts]
        return receiver.join(items), True
    return PLACEHOLDER, True


# -- writing values back ---------------------------------------------------------------------------


def render_string(text: str, quote: str = '"') -> str:
    """A Python string literal for ``text`` in ``quote`` (``"`` or ``'``) unless that needs more
    escapes than the other."""
    single = repr(text)  # single-quoted unless the text has a ' and no "
    if quote == '"' and single.startswith("'") and '"' not in text:
        return '"' + single[1:-1].replace("\\'", "'") + '"'
    return single


def inline_value(value: Any, quote: str = '"') -> str:
    """``value`` as Python source on one line, strings in ``quote``."""
    if isinstance(value, str):
        return render_string(value, quote)
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(inline_value(item, quote) for item in value) + "]"
    if isinstance(value, tuple):
        return (
            "("
            + ", ".join(inline_value(item, quote) for item in value)
            + ("," if len(value) == 1 else "")
            + ")"
        )
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f"{inline_value(key, quote)}: {inline_value(item, quote)}" for key, item in value.items()
            )
            + "}"
        )
    raise TypeError(f"cannot write a {type(value).__name__} as a literal")


def render_value(value: Any, indent: str, used: int, quote: str = '"') -> str:
    """``value`` as Python source whose first line already has ``used`` characters (with the comma
    after it) and whose further lines start at ``indent``. Containers too long for the line are
    written one item per line, each line measured again."""
    inline = inline_value(value, quote)
    if used + len(inline) <= LINE_WIDTH or not isinstance(value, dict | list | tuple) or not value:
        return inline
    inner = indent + "    "
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            head = f"{inner}{inline_value(key, quote)}: "
            lines.append(head + render_value(item, inner, len(head) + 1, quote) + ",")
        opening, closing = "{", "}"
    else:
        lines = [inner + render_value(item, inner, len(inner) + 1, quote) + "," for item in value]
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    return opening + "\n" + "\n".join(lines) + "\n" + indent + closing
