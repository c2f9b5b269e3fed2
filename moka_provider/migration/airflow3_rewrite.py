"""What ruff reports for Airflow 3 but does not fix, rewritten on a concrete syntax tree (libcst).

- imports from modules Airflow 3 no longer has (:mod:`~.airflow3_paths`): a used name moves to its
  Airflow 3 home (renamed where the class was, ``DummyOperator`` -> ``EmptyOperator``, with its
  uses); an unused one is removed (it would fail the import); a module with no known home is
  reported;
- ``days_ago(n)`` -> a fixed ``pendulum.datetime(...)``: n days before ``today``, at midnight UTC
  (``days_ago`` meant a start date that moved every day; the report asks for the real one);
- ``schedule_interval=`` -> ``schedule=`` in ``DAG(...)`` / ``@dag(...)``, and ``provide_context=``
  (Airflow 1; Airflow 3 rejects it) dropped from operator calls.

Each change is described in one line of :attr:`Airflow3Rewrite.changes`, and each thing left for a
person in :attr:`Airflow3Rewrite.left`, with its line (in the source, or where ``line_of`` says).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import (
    MetadataWrapper,
    PositionProvider,
    QualifiedName,
    QualifiedNameProvider,
    ScopeProvider,
)

from moka_provider.migration.airflow3_paths import MODULES, home_of, is_gone

DAYS_AGO = "airflow.utils.dates.days_ago"
#: Names an old module still has in Airflow 3 but not this one: an unused import of it is removed.
_GONE_NAMES = frozenset([DAYS_AGO])
_DAG_CALLABLES = frozenset(
    [
        "airflow.DAG",
        "airflow.models.DAG",
        "airflow.models.dag.DAG",
        "airflow.sdk.DAG",
        "airflow.decorators.dag",
        "airflow.sdk.dag",
    ]
)
_DAYS_AGO_PARTS = ("hour", "minute", "second", "microsecond")
#: Text a file needs for this pass to have anything to do (libcst is slow: skip files without it),
#: besides the old modules of the table.
_MARKERS = ("airflow.contrib", "days_ago", "schedule_interval", "provide_context", *MODULES)


@dataclass
class Airflow3Rewrite:
    """The new source, what changed (one line each) and what is left for a person."""

    source: str
    changes: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    #: The distributions the new imports need.
    providers: set[str] = field(default_factory=set)
    #: What the changes and left lines are about (names, keywords): ruff's findings about them are
    #: not reported again.
    subjects: set[str] = field(default_factory=set)


def rewrite_for_airflow3(
    source: str, today: datetime.date, line_of: Callable[[int], int] | None = None
) -> Airflow3Rewrite:
    """``source`` with what ruff leaves for Airflow 3 rewritten (see the module docstring).

    :param line_of: the line to report for a line of ``source`` (default: the same).
    """
    if not any(marker in source for marker in _MARKERS):
        return Airflow3Rewrite(source)
    wrapper = MetadataWrapper(cst.parse_module(source))
    planner = _Planner(today, line_of or (lambda line: line))
    wrapper.visit(planner)
    if not (planner.edits or planner.lines or planner.removed_args):
        return Airflow3Rewrite(source, left=planner.left, subjects=planner.subjects)
    new = wrapper.module.visit(_Applier(planner))
    if planner.needs_pendulum:
        new = _with_pendulum_import(new)
    return Airflow3Rewrite(new.code, planner.changes, planner.left, planner.providers, planner.subjects)


def _qualified(names: Collection[QualifiedName]) -> set[str]:
    return {name.name for name in names}


def _integer(node: cst.BaseExpression) -> int | None:
    """The value of an integer literal (possibly negative), else ``None``."""
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _integer(node.expression)
        return None if inner is None else -inner
    return None


def _dotted(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


class _Planner(cst.CSTVisitor):
    """Decides every change (by node), so that :class:`_Applier` only swaps nodes."""

    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider, ScopeProvider)

    def __init__(self, today: datetime.date, line_of: Callable[[int], int]) -> None:
        super().__init__()
        self.today = today
        self.line_of = line_of
        self.edits: dict[cst.CSTNode, cst.CSTNode] = {}
        self.removed_args: set[cst.Arg] = set()
        self.lines: dict[cst.SimpleStatementLine, list[cst.SimpleStatementLine]] = {}
        self.changes: list[str] = []
        self.left: list[str] = []
        self.providers: set[str] = set()
        self.needs_pendulum = False
        self.imports: list[tuple[cst.SimpleStatementLine, cst.ImportFrom]] = []
        self.removed_uses: set[cst.CSTNode] = set()  # names whose use a replaced call removes
        self.subjects: set[str] = set()

    def line(self, node: cst.CSTNode) -> int:
        """The line to report for ``node``."""
        return self.line_of(self.get_metadata(PositionProvider, node).start.line)

    def qualified(self, node: cst.CSTNode) -> set[str]:
        return _qualified(self.get_metadata(QualifiedNameProvider, node, set()))

    # -- calls: days_ago, schedule_interval, provide_context -------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        names = self.qualified(node.func)
        if DAYS_AGO in names:
            self._days_ago(node)
        if names & _DAG_CALLABLES:
            self._schedule_interval(node)
        if any(name.startswith("airflow.") for name in names):
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "provide_context":
                    self.removed_args.add(arg)
                    self.subjects.add("provide_context")
                    self.changes.append(
                        f"line {self.line(arg)}: removed provide_context= (Airflow 3 passes the context "
                        "to a callable that asks for it)"
                    )

    def _days_ago(self, node: cst.Call) -> None:
        self.subjects.add("days_ago")
        positional = ("n", *_DAYS_AGO_PARTS)
        values: dict[str, int | None] = {}
        for position, arg in enumerate(node.args):
            name = positional[position] if arg.keyword is None and position < len(positional) else None
            name = arg.keyword.value if arg.keyword is not None else name or "*"
            values[name] = None if arg.star else _integer(arg.value)
        if "n" not in values or any(value is None for value in values.values()):
            self.left.append(
                f"line {self.line(node)}: {cst.Module([]).code_for_node(node)}: days_ago is gone in Airflow 3 "
                "and its arguments are not numbers: write a fixed start date"
            )
            return
        day = self.today - datetime.timedelta(days=values.pop("n") or 0)
        parts = [day.year, day.month, day.day] + [values.get(part) or 0 for part in _DAYS_AGO_PARTS]
        while len(parts) > 3 and parts[-1] == 0:
            parts.pop()
        text = f'pendulum.datetime({", ".join(str(part) for part in parts)}, tz="UTC")'
        self.edits[node] = cst.parse_expression(text)
        self.removed_uses.add(node.func)
        self.needs_pendulum = True
        old = cst.Module([]).code_for_node(node)
        self.changes.append(
            f"line {self.line(node)}: {old} -> {text}: days_ago moved every day; "
            "a fixed start date of the day of the migration: check it is the one you want"
        )

    def _schedule_interval(self, node: cst.Call) -> None:
        keywords = {arg.keyword.value for arg in node.args if arg.keyword}
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "schedule_interval":
                self.subjects.add("schedule_interval")
                if "schedule" in keywords:
                    self.left.append(
                        f"line {self.line(arg)}: both schedule= and schedule_interval=: keep one"
                    )
                    continue
                self.edits[arg.keyword] = cst.Name("schedule")
                self.changes.append(f"line {self.line(arg)}: schedule_interval= -> schedule=")

    # -- imports (decided last: whether a name is still used depends on the calls replaced) --------

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        for statement in node.body:
            if isinstance(statement, cst.ImportFrom) and not statement.relative:
                self.imports.append((node, statement))
            elif isinstance(statement, cst.Import):
                for alias in statement.names:
                    module = _dotted(alias.name) or ""
                    if is_gone(module):
                        self.left.append(
                            f"line {self.line(statement)}: import {module}: Airflow 3 has no such module; "
                            "import what is used from its Airflow 3 home"
                        )

    def leave_Module(self, original_node: cst.Module) -> None:
        for line, statement in self.imports:
            self._import_from(line, statement)

    def _import_from(self, line: cst.SimpleStatementLine, statement: cst.ImportFrom) -> None:
        module = _dotted(statement.module) or ""
        where = f"line {self.line(statement)}"
        if isinstance(statement.names, cst.ImportStar):
            if is_gone(module):
                self.left.append(f"{where}: from {module} import *: Airflow 3 has no such module")
            return
        gone = [alias for alias in statement.names if _gone(module, _dotted(alias.name) or "")]
        if not gone:
            return
        if len(line.body) != 1:
            self.left.append(f"{where}: from {module} import ...: move it to its Airflow 3 home")
            return
        home = home_of(module)
        self.subjects.update(_dotted(alias.name) or "" for alias in gone)
        handled: set[cst.ImportAlias] = set()  # removed or moved
        moved: dict[str, list[cst.ImportAlias]] = {}
        for alias in gone:
            name = _dotted(alias.name) or ""
            local = alias.evaluated_alias or name
            uses = self._uses(statement, local)
            if all(use in self.removed_uses for use in uses):
                handled.add(alias)
                self.changes.append(f"{where}: removed the import of {name} from {module} (not in Airflow 3)")
            elif home is not None and is_gone(module):
                handled.add(alias)
                new_name = home.names.get(name, name)
                as_name = alias.evaluated_alias
                if as_name is None and new_name != name:
                    for use in uses:
                        if isinstance(use, cst.Name):
                            self.edits[use] = cst.Name(new_name)
                as_new = (
                    cst.AsName(cst.Name(as_name)) if as_name is not None and as_name != new_name else None
                )
                moved.setdefault(home.module, []).append(cst.ImportAlias(cst.Name(new_name), asname=as_new))
                self.providers.add(home.provider)
                renamed = f" (as {new_name})" if new_name != name else ""
                self.changes.append(f"{where}: {name} from {module} -> from {home.module}{renamed}")
            elif is_gone(module):
                self.left.append(
                    f"{where}: {name} from {module}: Airflow 3 has no such module and the migration knows "
                    "no home for it: import it from the provider that has it now"
                )
        if not handled:
            return
        kept = [alias for alias in statement.names if alias not in handled]
        if kept:  # the statement as written, without the names handled
            kept[-1] = kept[-1].with_changes(comma=statement.names[-1].comma)
        statements = ([statement.with_changes(names=kept)] if kept else []) + [
            _import_from(new_module, aliases) for new_module, aliases in moved.items()
        ]
        self.lines[line] = [
            line.with_changes(body=[new], leading_lines=line.leading_lines if index == 0 else [])
            for index, new in enumerate(statements)
        ]

    def _uses(self, statement: cst.ImportFrom, local: str) -> list[cst.CSTNode]:
        """The uses of the name ``local`` that ``statement`` binds."""
        scope = self.get_metadata(ScopeProvider, statement, None)
        if scope is None:
            return []
        return [
            reference.node
            for assignment in scope.assignments[local]
            if getattr(assignment, "node", None) is statement
            for reference in assignment.references
        ]


def _gone(module: str, name: str) -> bool:
    """Whether Airflow 3 has no ``name`` in ``module``."""
    return is_gone(module) or f"{module}.{name}" in _GONE_NAMES


def _import_from(module: str, aliases: list[cst.ImportAlias]) -> cst.ImportFrom:
    names = [alias.with_changes(comma=cst.MaybeSentinel.DEFAULT) for alias in aliases]
    return cst.ImportFrom(module=cst.parse_expression(module), names=names)  # type: ignore[arg-type]


class _Applier(cst.CSTTransformer):
    """Swaps the nodes :class:`_Planner` decided on."""

    def __init__(self, planner: _Planner) -> None:
        super().__init__()
        self.planner = planner
        self.dropped: set[cst.CSTNode] = set()  # lines to remove, by the block holding them

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        if isinstance(original_node, cst.SimpleStatementLine) and original_node in self.planner.lines:
            lines = self.planner.lines[original_node]
            if not lines:
                self.dropped.add(updated_node)
                return updated_node
            return cst.FlattenSentinel(lines)
        if isinstance(updated_node, cst.Module | cst.IndentedBlock):
            return updated_node.with_changes(body=self._kept(updated_node.body))
        if isinstance(original_node, cst.Call) and isinstance(updated_node, cst.Call):
            updated_node = self._without_removed_args(original_node, updated_node)
        return self.planner.edits.get(original_node, updated_node)

    def _kept(self, body: Sequence[Any]) -> list[Any]:
        """``body`` without the dropped lines; the blank lines and comments above one stay, above
        the statement after it."""
        kept: list[Any] = []
        above: list[cst.EmptyLine] = []
        for statement in body:
            if statement in self.dropped:
                above += statement.leading_lines
            elif above:
                kept.append(statement.with_changes(leading_lines=[*above, *statement.leading_lines]))
                above = []
            else:
                kept.append(statement)
        return kept

    def _without_removed_args(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """``updated`` without the arguments to remove; the last one left ends as the last did."""
        args = [
            new
            for old, new in zip(original.args, updated.args, strict=True)
            if old not in self.planner.removed_args
        ]
        if len(args) == len(updated.args):
            return updated
        if args:
            args[-1] = args[-1].with_changes(comma=updated.args[-1].comma)
        return updated.with_changes(args=args)


def _with_pendulum_import(module: cst.Module) -> cst.Module:
    """``module`` with ``import pendulum`` after its first imports, unless it imports it already."""
    body = list(module.body)
    position = 0
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            break
        small = statement.body
        if any(
            isinstance(item, cst.Import)
            and any(_dotted(a.name) == "pendulum" and a.asname is None for a in item.names)
            for item in small
        ):
            return module
        if all(isinstance(item, cst.Import | cst.ImportFrom) for item in small):
            position = index + 1
        elif index == 0 and isinstance(small[0], cst.Expr):  # the module docstring
            position = 1
        else:
            break
    body.insert(position, cst.parse_statement("import pendulum\n"))
    return module.with_changes(body=body)
