"""Reading a DAG file for the rewriter: which calls, classes and imports concern the operators it knows.

Operators are recognised by qualified name (libcst's ``QualifiedNameProvider``), so every import
style counts: ``from ... import SparkSubmitOperator as S``, module aliases
(``spark_submit.SparkSubmitOperator``), Airflow 1's ``contrib`` paths. A same-named class from an
in-house module is not one of them: it is noted, not rewritten. The reader also keeps what a
decision or a note needs: module-level constants (to see through ``bash_command=CMD``), the import
lines (where new imports go), the file's quote style, and ``os.environ`` settings of the YARN client.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import PositionProvider, QualifiedNameProvider

from moka_provider.migration.rewrite_calls import BASH, NEW_NAMES, SPARK_SQL, SPARK_SUBMIT
from moka_provider.migration.translate import CLIENT_ENV

#: The operator classes the rewriter knows, by qualified name.
OPERATORS = {
    "airflow.providers.apache.spark.operators.spark_submit.SparkSubmitOperator": SPARK_SUBMIT,
    "airflow.contrib.operators.spark_submit_operator.SparkSubmitOperator": SPARK_SUBMIT,
    "airflow.providers.apache.spark.operators.spark_sql.SparkSqlOperator": SPARK_SQL,
    "airflow.contrib.operators.spark_sql_operator.SparkSqlOperator": SPARK_SQL,
    "airflow.operators.bash.BashOperator": BASH,
    "airflow.operators.bash_operator.BashOperator": BASH,
    "airflow.operators.BashOperator": BASH,  # Airflow 1's lazy ``from airflow.operators import BashOperator``
    "airflow.providers.standard.operators.bash.BashOperator": BASH,
}
#: A statement that sets an environment variable of the process (``os.environ[NAME] = ...``).
_SETS_ENV = r"environ\s*\[\s*['\"]{name}['\"]\s*\]\s*=(?!=)|environ\.(setdefault|update)\(.*\b{name}\b|putenv\(\s*['\"]{name}"
_SPARK_CLASS_SUFFIXES = ("SparkSubmitOperator", "SparkSqlOperator")


@dataclass
class OperatorCall:
    """A call of a known operator (``kind``: :data:`~.rewrite_calls.SPARK_SUBMIT`, ...)."""

    node: cst.Call
    kind: str
    statement: cst.BaseStatement  # the innermost statement holding the call
    top: cst.BaseStatement  # the module-level statement holding it
    mapped: bool = False  # ``Operator.partial(...)``: dynamic task mapping


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

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self.module = module
        self.statements: list[cst.BaseStatement] = []
        self.calls: list[OperatorCall] = []
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
        names = self.get_metadata(QualifiedNameProvider, node, set())
        return next((OPERATORS[name.name] for name in names if name.name in OPERATORS), None)

    def visit_Call(self, node: cst.Call) -> None:
        kind = self._kind(node.func)
        mapped = isinstance(node.func, cst.Attribute) and node.func.attr.value == "partial"
        if kind is None and isinstance(node.func, cst.Attribute) and mapped:
            kind = self._kind(node.func.value)
        if kind:
            self.calls.append(OperatorCall(node, kind, self.statements[-1], self.statements[0], mapped))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        for arg in node.bases:
            kind = self._kind(arg.value)
            if kind in (SPARK_SUBMIT, SPARK_SQL):
                self.bases.append(Subclass(node, arg, kind))

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
        if target in OPERATORS or any(known.startswith(target + ".") for known in OPERATORS):
            if isinstance(line, cst.SimpleStatementLine):
                use = OperatorImport(
                    line, node, alias, name, len(self.statements) == 1, OPERATORS.get(target)
                )
                self.imports.append(use)
        elif target == f"{NEW_NAMES.get(name)}.{name}" and len(self.statements) == 1:
            self.moka_names.add(name)
        elif target.endswith(_SPARK_CLASS_SUFFIXES) and not module.startswith("moka_provider"):
            self.notes.append(
                f"line {self._line(node)}: {alias.evaluated_name} comes from {module}, not from Airflow: "
                "its tasks are not rewritten; check what it runs"
            )
