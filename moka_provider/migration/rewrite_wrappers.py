"""In-house wrappers of the Spark operators: what the rewriter knows of them, and a call's arguments
for the parent operator.

A team's ``SparkSubmitOperator`` wrapper (``team_airflow.spark_submit.SparkSubmitOperator``) is a
subclass whose ``__init__`` takes a few arguments of its own and passes fixed values and renamed
parameters to the parent. When its source is in the scanned tree, :func:`find_wrappers` reads that
``__init__`` (libcst, no import): a wrapper that only passes values (``super().__init__(conf=...,
yarn_queue=team_queue, **kwargs)``) is *transparent*, and :func:`parent_keywords` turns a call of it
into the keywords of the parent operator, so the call can move onto the drop-in (or be converted).
Anything else the class does (statements in ``__init__``, overridden methods) is listed in
``opaque``: its calls need a person. Pure: sources in, facts out.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import PositionProvider, QualifiedNameProvider

from moka_provider.migration.rewrite_calls import (
    CONVERTED,
    DROP_IN,
    DROP_INS,
    NEEDS_HUMAN,
    SPARK_SQL,
    SPARK_SUBMIT,
    SPARK_SUBMIT_ARGUMENTS,
    CallSite,
    Plan,
    plan_call,
    shorten,
)
from moka_provider.migration.rewrite_values import NotLiteral, literal_value
from moka_provider.migration.spark_submit import SPARK_SQL_FIELDS

#: The kinds a ``--wrapper`` may name, and the class-name ending that makes an import a wrapper.
WRAPPER_KINDS = {"spark-submit": SPARK_SUBMIT, "spark-sql": SPARK_SQL}
SUFFIXES = {"SparkSubmitOperator": SPARK_SUBMIT, "SparkSqlOperator": SPARK_SQL}
#: SparkSqlOperator's own arguments.
SPARK_SQL_ARGUMENTS = frozenset(["sql", "conf", "yarn_queue", *SPARK_SQL_FIELDS])
#: The Airflow class of each kind.
_PARENTS = {SPARK_SUBMIT: "SparkSubmitOperator", SPARK_SQL: "SparkSqlOperator"}
#: Class attributes that change nothing a task does.
_HARMLESS_ATTRIBUTES = ("ui_color", "ui_fgcolor")


@dataclass(frozen=True)
class Wrapper:
    """An in-house subclass of a Spark operator (``kind``), known by its qualified ``name``.

    ``origin`` says where its class was read (``path:line``; ``None``: its source is not in the
    scanned tree). ``parameters`` are the ``__init__`` parameters (name -> the source of its
    default, ``None`` without one), ``passed`` the parent's keywords it sets (keyword -> a literal's
    source, or the name of one of ``parameters``), ``opaque`` what else the class does."""

    name: str
    kind: str
    origin: str | None = None
    parameters: Mapping[str, str | None] = field(default_factory=dict)
    passed: Mapping[str, str] = field(default_factory=dict)
    opaque: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def parse_wrapper_option(text: str) -> tuple[str, str]:
    """``MODULE.CLASS=spark-submit|spark-sql`` as (qualified class name, kind); ValueError if malformed."""
    name, equals, kind = (part.strip() for part in text.partition("="))
    kinds = "|".join(WRAPPER_KINDS)
    if not equals or kind not in WRAPPER_KINDS:
        raise ValueError(f"{text!r}: expected MODULE.CLASS={kinds}")
    module, dot, cls = name.rpartition(".")
    if not dot or not all(part.isidentifier() for part in [*module.split("."), cls]):
        raise ValueError(f"{text!r}: {name!r} is not a MODULE.CLASS name")
    return name, WRAPPER_KINDS[kind]


def parent_arguments(kind: str) -> frozenset[str]:
    """Every keyword the parent operator of ``kind`` accepts: its own and BaseOperator's."""
    return (
        SPARK_SUBMIT_ARGUMENTS if kind == SPARK_SUBMIT else SPARK_SQL_ARGUMENTS
    ) | _base_operator_arguments()


@functools.cache
def _base_operator_arguments() -> frozenset[str]:
    import inspect

    from airflow.sdk import BaseOperator  # here: Airflow's SDK is slow to import and only this needs it

    parameters = inspect.signature(BaseOperator.__init__).parameters.values()
    return frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


def module_names(path: PurePosixPath) -> list[str]:
    """The module names a file of the scanned tree may be imported as (each folder on ``sys.path``):
    ``plugins/team/ops.py`` is ``plugins.team.ops``, ``team.ops`` or ``ops``."""
    parts = [*path.parent.parts, path.stem] if path.stem != "__init__" else list(path.parent.parts)
    return [".".join(parts[start:]) for start in range(len(parts)) if parts[start:]]


def find_wrappers(
    sources: Iterable[tuple[PurePosixPath, str]], operators: Mapping[str, str]
) -> dict[str, Wrapper]:
    """The wrappers defined in ``sources`` (relative path, text): classes whose base is one of
    ``operators`` (qualified name -> kind) or named ``*SparkSubmitOperator`` / ``*SparkSqlOperator``,
    by every qualified name they may be imported as. Files that do not parse are skipped."""
    found: dict[str, Wrapper] = {}
    for path, text in sources:
        if not any(suffix in text for suffix in SUFFIXES):
            continue
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue
        wrapper = cst.MetadataWrapper(module)
        reader = _ClassReader(operators)
        wrapper.visit(reader)
        for cls, kind, line in reader.classes:
            for name in module_names(path):
                found[f"{name}.{cls.name.value}"] = _read_class(
                    f"{name}.{cls.name.value}", kind, f"{path}:{line}", cls
                )
    return found


class _ClassReader(cst.CSTVisitor):
    """Module-level classes extending a Spark operator (by qualified name or by name)."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self, operators: Mapping[str, str]) -> None:
        super().__init__()
        self.operators = operators
        self.classes: list[tuple[cst.ClassDef, str, int]] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        for base in node.bases:
            kind = self._kind(base.value)
            if kind is not None:
                line = self.get_metadata(PositionProvider, node).start.line
                self.classes.append((node, kind, line))
                break
        return False  # nested classes are no wrappers a DAG imports

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def _kind(self, node: cst.BaseExpression) -> str | None:
        names = self.get_metadata(QualifiedNameProvider, node, set())
        for name in names:
            if name.name in self.operators:
                return self.operators[name.name]
        full = get_full_name_for_node(node) or ""
        return next((kind for suffix, kind in SUFFIXES.items() if full.endswith(suffix)), None)


def _read_class(name: str, kind: str, origin: str, cls: cst.ClassDef) -> Wrapper:
    opaque: list[str] = []
    if len(cls.bases) != 1 or cls.keywords:
        opaque.append("it has more than one base class")
    init: cst.FunctionDef | None = None
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
            init = statement
        elif isinstance(statement, cst.FunctionDef):
            opaque.append(f"it overrides {statement.name.value}()")
        elif not _harmless(statement):
            opaque.append(f"its class body sets {shorten(cst.Module([]).code_for_node(statement), 40)}")
    if init is None:
        return Wrapper(name, kind, origin, opaque=tuple(opaque))
    parameters, passed, problems = _read_init(init)
    return Wrapper(name, kind, origin, parameters, passed, tuple([*opaque, *problems]))


def _harmless(statement: cst.CSTNode) -> bool:
    """A docstring, ``pass``, or a class attribute that only changes the UI."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Pass) or (
        isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
    ):
        return True
    targets = (
        small.targets
        if isinstance(small, cst.Assign)
        else [small]
        if isinstance(small, cst.AnnAssign)
        else []
    )
    return bool(targets) and all(
        isinstance(target.target, cst.Name) and target.target.value in _HARMLESS_ATTRIBUTES
        for target in targets
    )


def _read_init(init: cst.FunctionDef) -> tuple[dict[str, str | None], dict[str, str], list[str]]:
    """The parameters of ``__init__``, the keywords it passes to the parent, and what else it does."""
    code = cst.Module([]).code_for_node
    params = init.params
    problems = []
    if params.star_arg is not cst.MaybeSentinel.DEFAULT and isinstance(params.star_arg, cst.Param):
        problems.append(f"__init__ takes *{params.star_arg.name.value}")
    named = [*params.posonly_params, *params.params, *params.kwonly_params][1:]  # without self
    parameters = {param.name.value: None if param.default is None else code(param.default) for param in named}
    kwargs = params.star_kwarg.name.value if params.star_kwarg is not None else None
    passed: dict[str, str] = {}
    calls = 0
    for statement in init.body.body:
        if _harmless(statement) or _stores_parameter(statement, parameters):
            continue
        call = _parent_call(statement)
        if call is None:
            problems.append(f"__init__ runs {shorten(code(statement), 50)}")
            continue
        calls += 1
        for arg in call.args:
            if arg.keyword is not None:
                passed[arg.keyword.value] = value = code(arg.value)
                if not _fixed_or_parameter(value, parameters):
                    problems.append(f"__init__ computes {arg.keyword.value}={shorten(value, 40)}")
            elif not (arg.star == "**" and isinstance(arg.value, cst.Name) and arg.value.value == kwargs):
                problems.append(f"__init__ passes {shorten(code(arg), 40)} to the parent")
    if calls != 1:
        problems.append("__init__ does not call the parent's __init__ once")
    return parameters, passed, problems


def _stores_parameter(statement: cst.CSTNode, parameters: Mapping[str, str | None]) -> bool:
    """``self.name = parameter``: the wrapper keeps a value for itself."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    return (
        isinstance(small, cst.Assign)
        and all(
            isinstance(t.target, cst.Attribute) and get_full_name_for_node(t.target.value) == "self"
            for t in small.targets
        )
        and isinstance(small.value, cst.Name)
        and small.value.value in parameters
    )


def _parent_call(statement: cst.CSTNode) -> cst.Call | None:
    """The call of ``super().__init__(...)`` (or ``super(Cls, self).__init__``) that ``statement`` is."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
        return None
    func = small.value.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
        return None
    target = func.value
    is_super = isinstance(target, cst.Call) and get_full_name_for_node(target.func) == "super"
    return small.value if is_super else None


def _fixed_or_parameter(value: str, parameters: Mapping[str, str | None]) -> bool:
    if value in parameters:
        return True
    try:
        literal_value(value)
    except NotLiteral:
        return False
    return True


@dataclass
class ParentCall:
    """A wrapper call's keywords for the parent operator (name -> source), which of the call's own
    keywords go (``removed``), which parent keywords are new (``added``), and notes for the report."""

    keywords: dict[str, str]
    removed: tuple[str, ...]
    added: dict[str, str]
    notes: list[str]


def parent_keywords(wrapper: Wrapper, keywords: Mapping[str, str]) -> ParentCall:
    """What a call of the transparent ``wrapper`` with ``keywords`` passes to the parent operator:
    its own parameters renamed or left out, the fixed values added, the rest as they are."""
    renamed = {value: keyword for keyword, value in wrapper.passed.items() if value in wrapper.parameters}
    result: dict[str, str] = {}
    removed: list[str] = []
    notes: list[str] = []
    for keyword, value in keywords.items():
        if keyword in wrapper.parameters and keyword not in renamed:
            removed.append(keyword)
            notes.append(f"{keyword}= is {wrapper.name}'s own and never reaches Spark: left out")
        elif keyword in renamed:
            result[renamed[keyword]] = value
            if renamed[keyword] != keyword:
                removed.append(keyword)
                notes.append(f"{keyword}= is {renamed[keyword]}= of {_PARENTS[wrapper.kind]}")
        else:
            result[keyword] = value
    for keyword, value in wrapper.passed.items():
        if keyword in result:
            continue
        if value in wrapper.parameters:
            value = wrapper.parameters[value] or "None"
            if value == "None":
                continue
        result[keyword] = value
        notes.append(f"{keyword}={shorten(value, 40)}: set by {wrapper.name}")
    added = {keyword: value for keyword, value in result.items() if keyword not in keywords}
    return ParentCall(result, tuple(removed), added, notes)


def plan_wrapper_call(
    site: CallSite, wrapper: Wrapper, *, mapped: bool = False, **options: Mapping[str, str] | None
) -> Plan:
    """What to do with a call of ``wrapper``: the plan of the parent operator's call with the
    wrapper's values applied when it is transparent (never converted when ``mapped``: the drop-in
    reads the mapped arguments); the drop-in when its source is unknown but every keyword is the
    parent's; otherwise a person decides, told why."""
    parent, short = _PARENTS[wrapper.kind], wrapper.short_name
    if wrapper.origin is None:
        unknown = sorted(set(site.keywords) - parent_arguments(wrapper.kind))
        if unknown or site.hidden:
            what = f"takes {', '.join(unknown)}, which {parent} does not" if unknown else "is called with "
            what += "" if unknown else ", ".join(shorten(hidden, 40) for hidden in site.hidden)
            return Plan(
                NEEDS_HUMAN,
                [
                    f"{wrapper.name} is an in-house {parent} whose source is not in the scanned tree; the call "
                    f"{what}: migrate its source too (the plugins folder), or move the task by hand"
                ],
            )
        plan = plan_call(site, **options)
        if plan.outcome not in (CONVERTED, DROP_IN):
            return plan
        reason = (
            f"{wrapper.name} is an in-house {parent} whose source is not in the scanned tree; every keyword is "
            f"{parent}'s: check what {short} sets besides them"
        )
        return Plan(DROP_IN, [reason], callee=DROP_INS[wrapper.kind])
    if wrapper.opaque:
        return Plan(
            NEEDS_HUMAN,
            [
                f"{short} ({wrapper.origin}) does more than pass values to {parent}: {'; '.join(wrapper.opaque)}"
            ],
        )
    if site.hidden and set(wrapper.parameters) - set(wrapper.passed.values()):
        own = ", ".join(sorted(set(wrapper.parameters) - set(wrapper.passed.values())))
        hidden = ", ".join(shorten(hidden, 40) for hidden in site.hidden)
        return Plan(NEEDS_HUMAN, [f"{hidden} may hold arguments of {short} itself ({own})"])
    call = parent_keywords(wrapper, site.keywords)
    plan = plan_call(dataclasses.replace(site, keywords=call.keywords), **options)
    if plan.outcome == CONVERTED and not mapped:
        added = {key: value for key, value in call.added.items() if key not in plan.removed}
        return dataclasses.replace(
            plan, removed=(*plan.removed, *call.removed), added=added, reasons=[*call.notes, *plan.reasons]
        )
    if plan.outcome in (CONVERTED, DROP_IN):
        reasons = [*call.notes, *(plan.reasons if plan.outcome == DROP_IN else [])]
        return Plan(DROP_IN, reasons, callee=DROP_INS[wrapper.kind], removed=call.removed, added=call.added)
    return dataclasses.replace(plan, reasons=[*plan.reasons, f"{short} ({wrapper.origin}) is left as it is"])
