"""Reading a DAG file for the rewriter: which calls, classes and imports concern the operators it knows.

Operators are recognised by qualified name (libcst's ``QualifiedNameProvider``), so every import
style counts: ``from ... import SparkSubmitOperator as S``, module aliases
(``spark_submit.SparkSubmitOperator``), Airflow 1's ``contrib`` paths. In-house wrappers
(:mod:`~.rewrite_wrappers`) are the classes given by name, and any ``*SparkSubmitOperator`` /
``*SparkSqlOperator`` imported from outside Airflow. The forms found besides plain calls:
``Operator.partial(...).expand(...)``, ``functools.partial`` aliases of an operator, and
``@task.bash`` functions. The reader also keeps what a decision or a note needs: module-level
constants (to see through ``bash_command=CMD``), the import lines (where new imports go), the
file's quote style, and ``os.environ`` settings of the YARN client.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import PositionProvider, QualifiedNameProvider, QualifiedNameSource

from moka_provider.migration.rewrite_calls import BASH, NEW_NAMES, SPARK_JDBC, SPARK_SQL, SPARK_SUBMIT
from moka_provider.migration.rewrite_wrappers import SUFFIXES, Wrapper
from moka_provider.migration.translate import CLIENT_ENV

#: The operator classes the rewriter knows, by qualified name.
OPERATORS = {
    "airflow.providers.apache.spark.operators.spark_submit.SparkSubmitOperator": SPARK_SUBMIT,
    "airflow.contrib.operators.spark_submit_operator.SparkSubmitOperator": SPARK_SUBMIT,
    "airflow.providers.apache.spark.operators.spark_sql.SparkSqlOperator": SPARK_SQL,
    "airflow.contrib.operators.spark_sql_operator.SparkSqlOperator": SPARK_SQL,
    "airflow.providers.apache.spark.operators.spark_jdbc.SparkJDBCOperator": SPARK_JDBC,
    "airflow.contrib.operators.spark_jdbc_operator.SparkJDBCOperator": SPARK_JDBC,
    "airflow.operators.bash.BashOperator": BASH,
    "airflow.operators.bash_operator.BashOperator": BASH,
    "airflow.operators.BashOperator": BASH,  # Airflow 1's lazy ``from airflow.operators import BashOperator``
    "airflow.providers.standard.operators.bash.BashOperator": BASH,
}
#: A statement that sets an environment variable of the process (``os.environ[NAME] = ...``).
_SETS_ENV = r"environ\s*\[\s*['\"]{name}['\"]\s*\]\s*=(?!=)|environ\.(setdefault|update)\(.*\b{name}\b|putenv\(\s*['\"]{name}"
#: Where the operators and the rewriter's own names live: classes from there are no wrappers.
_NOT_IN_HOUSE = ("airflow.", "moka_provider.")
_PARTIAL = ("functools.partial",)
_EXPAND = ("expand", "expand_kwargs")


@dataclass(frozen=True)
class Alias:
    """``name = functools.partial(Operator, ...)``: ``call`` is the ``functools.partial`` call."""

    name: str
    call: cst.Call
    kind: str
    top: cst.BaseStatement


@dataclass
class OperatorCall:
    """A call of a known operator (``kind``: :data:`~.rewrite_calls.SPARK_SUBMIT`, ...), of an
    in-house ``wrapper`` of one, or of a ``functools.partial`` ``alias`` of one."""

    node: cst.Call
    kind: str
    statement: cst.BaseStatement  # the innermost statement holding the call
    top: cst.BaseStatement  # the module-level statement holding it
    mapped: bool = False  # ``Operator.partial(...)``: dynamic task mapping
    expand: cst.Call | None = None  # the ``.expand(...)`` call of a mapped one, when chained
    wrapper: Wrapper | None = None
    alias: Alias | None = None


@dataclass
class BashTask:
    """A ``@task.bash`` function, its ``decorator``, and the module-level statement holding it."""

    function: cst.FunctionDef
    decorator: cst.Decorator
    top: cst.BaseStatement


@dataclass
class Subclass:
    """A class whose base ``arg`` is a Spark operator."""

    classdef: cst.ClassDef
    arg: cst.Arg
    kind: str


@dataclass
class OperatorImport:
    """An import binding an operator class (``kind``) or a module holding some (``kind`` None)."""

    line: cst.SimpleStatementLine
    statement: cst.Import | cst.ImportFrom
    alias: cst.ImportAlias
    name: str  # the name it binds
    top_level: bool
    kind: str | None  # of the operator class it imports (None: a module)


class Reader(cst.CSTVisitor):
    """Collects the operator calls, subclasses, relevant imports, module constants and notes."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self, module: cst.Module, wrappers: Mapping[str, Wrapper] | None = None) -> None:
        super().__init__()
        self.module = module
        self.wrappers = wrappers or {}
        self.statements: list[cst.BaseStatement] = []
        self.calls: list[OperatorCall] = []
        self.aliases: dict[str, Alias] = {}
        self.bash_tasks: list[BashTask] = []
        self.name_uses: Counter[str] = Counter()  # every Name node of the file, by its text
        self.bare_calls: Counter[str] = Counter()  # ``name()`` calls without arguments
        self.expanded: set[cst.Call] = set()  # ``.partial(...)`` calls read with their ``.expand``
        self.bases: list[Subclass] = []
        self.imports: list[OperatorImport] = []
        self.import_lines: list[cst.SimpleStatementLine] = []
        self.moka_names: set[str] = set()
        self.constants: dict[str, str | None] = {}
        self.notes: list[str] = []
        self.quotes: Counter[str] = Counter()
        self.default_keys: set[str] = set()  # keys of the file's default_args dicts

    @property
    def quote(self) -> str:
        """The quote most strings of the file use (``"`` when even)."""
        return "'" if self.quotes["'"] > self.quotes['"'] else '"'

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.quotes[node.quote[0]] += 1

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseStatement):
            self.statements.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.BaseStatement):
            self.statements.pop()
        super().on_leave(original_node)

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _kind(self, node: cst.CSTNode) -> str | None:
        operator = self._operator(node)
        return operator[0] if operator and operator[1] is None else None

    def _operator(self, node: cst.CSTNode) -> tuple[str, Wrapper | None] | None:
        """The kind of operator class ``node`` names, and the wrapper when it is an in-house one."""
        for name in self.get_metadata(QualifiedNameProvider, node, set()):
            if name.name in OPERATORS:
                return OPERATORS[name.name], None
            if name.name in self.wrappers:
                return self.wrappers[name.name].kind, self.wrappers[name.name]
            if name.source is QualifiedNameSource.IMPORT and not name.name.startswith(_NOT_IN_HOUSE):
                for suffix, kind in SUFFIXES.items():
                    if name.name.endswith(suffix):
                        return kind, Wrapper(name.name, kind)
        return None

    def visit_Name(self, node: cst.Name) -> None:
        self.name_uses[node.value] += 1

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and not node.args:
            self.bare_calls[node.func.value] += 1
        if node in self.expanded:
            return
        here = self.statements[-1], self.statements[0]
        if isinstance(node.func, cst.Name) and node.func.value in self.aliases:
            alias = self.aliases[node.func.value]
            self.calls.append(OperatorCall(node, alias.kind, *here, alias=alias))
            return
        func = node.func
        expand = None
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _EXPAND
            and isinstance(func.value, cst.Call)
        ):
            expand, node, func = node, func.value, func.value.func
        mapped = isinstance(func, cst.Attribute) and func.attr.value == "partial"
        operator = self._operator(func.value if isinstance(func, cst.Attribute) and mapped else func)
        if operator is None or (expand is not None and not mapped):
            return
        kind, wrapper = operator
        if expand is not None:
            self.expanded.add(node)
        self.calls.append(OperatorCall(node, kind, *here, mapped, expand, wrapper))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        for arg in node.bases:
            operator = self._operator(arg.value)
            if operator is not None and operator[1] is not None:
                self.notes.append(
                    f"line {self._line(node)}: class {node.name.value} extends {operator[1].name}, an in-house "
                    "Spark operator: left as it is; check what it runs"
                )
            elif operator is not None:
                self.bases.append(Subclass(node, arg, operator[0]))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            names = self.get_metadata(QualifiedNameProvider, decorator, set())
            if any(name.name.startswith("airflow.") and name.name.endswith(".task.bash") for name in names):
                self.bash_tasks.append(BashTask(node, decorator, self.statements[0]))

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(self.statements) != 1:
            return
        if all(isinstance(small, cst.Import | cst.ImportFrom) for small in node.body):
            self.import_lines.append(node)
        code = self.module.code_for_node(node)
        for name in CLIENT_ENV:
            if re.search(_SETS_ENV.format(name=name), code):
                self.notes.append(
                    f"line {self._line(node)}: sets {name} for the YARN client of the Airflow worker; "
                    "it has no effect on Moka (left as it is)"
                )

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and node.keyword.value == "default_args":
            self._default_args(node.value)

    def _default_args(self, value: cst.BaseExpression) -> None:
        """Keys of a ``default_args`` dict written as ``{...}`` or ``dict(...)``."""
        if isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                    self.default_keys.add(str(element.key.evaluated_value))
        elif isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
            self.default_keys.update(arg.keyword.value for arg in value.args if arg.keyword is not None)

    def visit_Assign(self, node: cst.Assign) -> None:
        names = [target.target.value for target in node.targets if isinstance(target.target, cst.Name)]
        if any("default_args" in name.lower() for name in names):
            self._default_args(node.value)
        if len(self.statements) == 1 and len(node.targets) == 1 and names:
            seen = names[0] in self.constants
            self.constants[names[0]] = None if seen else self.module.code_for_node(node.value)
            self._alias(names[0], node.value, seen)

    def _alias(self, name: str, value: cst.BaseExpression, seen: bool) -> None:
        """Record ``name = functools.partial(Operator, ...)``; a name assigned twice is no alias."""
        if seen:
            self.aliases.pop(name, None)
            return
        if not isinstance(value, cst.Call) or not value.args or value.args[0].keyword or value.args[0].star:
            return
        names = self.get_metadata(QualifiedNameProvider, value.func, set())
        if any(found.name in _PARTIAL for found in names):
            kind = self._kind(value.args[0].value)
            if kind is not None:
                self.aliases[name] = Alias(name, value, kind, self.statements[0])

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if alias.asname is not None:
                self._imported(node, alias, alias.evaluated_name, alias.evaluated_name)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = get_full_name_for_node(node.module) or ""
        if isinstance(node.names, cst.ImportStar):
            if any(known.startswith(module + ".") for known in OPERATORS):
                self.notes.append(
                    f"line {self._line(node)}: `from {module} import *` hides which names are operators: "
                    "its tasks are not rewritten; import the operators by name and run again"
                )
            return
        for alias in node.names:
            self._imported(node, alias, f"{module}.{alias.evaluated_name}", module)

    def _imported(
        self, node: cst.Import | cst.ImportFrom, alias: cst.ImportAlias, target: str, module: str
    ) -> None:
        name = alias.evaluated_alias or alias.evaluated_name
        line = self.statements[-1]
        in_house = target in self.wrappers or (
            target.endswith(tuple(SUFFIXES)) and not target.startswith(_NOT_IN_HOUSE)
        )
        if target in OPERATORS or in_house or any(known.startswith(target + ".") for known in OPERATORS):
            if isinstance(line, cst.SimpleStatementLine):
                kind = OPERATORS.get(target) or next(
                    (kind for suffix, kind in SUFFIXES.items() if target.endswith(suffix)), None
                )
                kind = self.wrappers[target].kind if target in self.wrappers else kind
                self.imports.append(OperatorImport(line, node, alias, name, len(self.statements) == 1, kind))
        elif target == f"{NEW_NAMES.get(name)}.{name}" and len(self.statements) == 1:
            self.moka_names.add(name)
