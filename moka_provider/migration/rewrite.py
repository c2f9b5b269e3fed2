"""Rewriting a DAG file's Monarch Spark tasks for Moka, leaving every other byte as it was.

:mod:`~.rewrite_read` finds the operator calls, subclasses and imports with libcst,
:mod:`~.rewrite_calls` decides per call, and the changes are applied as text edits at the nodes'
byte offsets: comments, layout and unrelated code cannot move. What changes:
the callee of a call (a drop-in operator), the arguments of a converted call (the kept ones copied
as written) or of an in-house wrapper's call (its own arguments out, the values it passed in), the
operator a ``functools.partial`` alias names, a ``@task.bash`` function returning one spark-submit
(it then returns the operator: the decorator goes), the base class of an in-house subclass, comment
lines above changed statements, and the imports (added after the import block; an old name removed only when nothing uses it any
more). Task ids, variables and dependencies are never touched. Converted and renamed calls no longer
match, so a second run changes nothing.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import (
    Assignment,
    ByteSpanPositionProvider,
    MetadataWrapper,
    PositionProvider,
    ScopeProvider,
)

from moka_provider.migration.rewrite_calls import (
    BASH,
    CLASS_DROP_INS,
    CONVERTED,
    DROP_IN,
    DROP_INS,
    MOKA_SPARK,
    MONARCH_BASH,
    NEEDS_HUMAN,
    NEW_NAMES,
    CallSite,
    Plan,
    plan_call,
)
from moka_provider.migration.rewrite_read import (
    Alias,
    BashTask,
    OperatorCall,
    OperatorImport,
    Reader,
    Subclass,
)
from moka_provider.migration.rewrite_values import LINE_WIDTH, inline_value, render_string, render_value
from moka_provider.migration.rewrite_wrappers import Wrapper, plan_wrapper_call
from moka_provider.migration.translate import Finding

_MAPPED = "dynamic task mapping (.partial / .expand): the drop-in operator reads the mapped arguments"
_COMMENT = "# moka migrate: "
_COMMENT_WIDTH = 100
#: Text any file the rewriter changes or notes contains (a class name, ``os.environ``), besides
#: the names of the in-house wrappers it is given.
_MARKERS = (
    "SparkSubmitOperator",
    "SparkSqlOperator",
    "SparkJDBCOperator",
    "BashOperator",
    "task.bash",
    "environ",
    "putenv",
)


@dataclass
class TaskRewrite:
    """One operator call (or in-house subclass) and what became of it. ``task_id`` is the source
    text of its ``task_id=`` value (``None`` for a class); ``operator`` the callee as written;
    ``spark`` False for a Bash task that does not run Spark."""

    line: int
    task_id: str | None
    operator: str
    outcome: str
    findings: list[Finding] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    spark: bool = True


@dataclass
class FileRewrite:
    """The new text of a file, whether it differs, its tasks, and notes about the file as a whole.
    ``error`` says why a file was not rewritten (it does not parse); ``source`` is then the input."""

    source: str
    changed: bool
    tasks: list[TaskRewrite] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    #: What the Airflow 3 pass (:mod:`~.airflow3`) changed and left for a person, one line each.
    airflow3: list[str] = field(default_factory=list)


def rewrite_source(
    source: str,
    *,
    path_map: Mapping[str, str] | None = None,
    priority_classes: Mapping[str, str] | None = None,
    wrappers: Mapping[str, Wrapper] | None = None,
) -> FileRewrite:
    """The Moka version of the DAG file ``source`` (see the module docstring). Pure: no I/O.

    :param path_map: path prefixes (``hdfs://nn/data``) and what replaces them.
    :param priority_classes: YARN priorities (as text) and the PriorityClass each becomes.
    :param wrappers: in-house wrappers of the Spark operators, by qualified class name.
    """
    try:
        ast.parse(source)
        markers = [*_MARKERS, *(name.rsplit(".", 1)[-1] for name in wrappers or {})]
        if not any(marker in source for marker in markers):
            return FileRewrite(source, False)  # nothing to change or note: libcst is slow, skip it
        module = cst.parse_module(source)
    except SyntaxError as error:
        return FileRewrite(source, False, error=f"does not parse: line {error.lineno}: {error.msg}")
    except (cst.ParserSyntaxError, ValueError) as error:
        return FileRewrite(source, False, error=f"does not parse: {' '.join(str(error).split())}")
    options = {"path_map": path_map, "priority_classes": priority_classes}
    result = _Rewriter(source, module, options, wrappers or {}).run()
    try:
        ast.parse(result.source)
    except SyntaxError as error:  # a bug of the rewriter: say so, and leave the file as it was
        return FileRewrite(
            source, False, result.tasks, result.notes, error=f"the rewrite is not valid Python ({error.msg})"
        )
    return result


# -- writing the changes ---------------------------------------------------------------------------


def _comments(whitespace: cst.BaseParenthesizableWhitespace | None) -> tuple[str | None, list[str]]:
    """The comment ending the line of ``whitespace``, and the comment lines after it."""
    if not isinstance(whitespace, cst.ParenthesizedWhitespace):
        return None, []
    first = whitespace.first_line.comment
    return (first.value if first else None), [
        line.comment.value for line in whitespace.empty_lines if line.comment
    ]


class _CommentCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node.value)


def _comments_in(node: cst.CSTNode) -> list[str]:
    """Every comment inside ``node`` (a removed argument's value: kept above the new arguments)."""
    collector = _CommentCollector()
    node.visit(collector)
    return collector.found


def _after(arg: cst.Arg) -> cst.BaseParenthesizableWhitespace:
    return arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else arg.whitespace_after_arg


def _closing(own: cst.BaseParenthesizableWhitespace, closing: cst.BaseParenthesizableWhitespace) -> Any:
    """The whitespace before a closing parenthesis: ``own`` line's comment, ``closing``'s indent."""
    if isinstance(own, cst.ParenthesizedWhitespace) and isinstance(closing, cst.ParenthesizedWhitespace):
        return own.with_changes(indent=closing.indent, last_line=closing.last_line)
    return closing


def _without(statement: cst.Import | cst.ImportFrom, kept: list[cst.ImportAlias]) -> cst.CSTNode:
    """``statement`` importing only ``kept``; the new last name keeps its comment, and the end of the
    statement (trailing comma, closing parenthesis) stays as it was."""
    last, new_last = statement.names[-1], kept[-1]  # type: ignore[index]
    if new_last is last:
        return statement.with_changes(names=kept)
    own = new_last.comma.whitespace_after if isinstance(new_last.comma, cst.Comma) else None
    if isinstance(last.comma, cst.Comma):
        closing = last.comma.whitespace_after
        comma = last.comma.with_changes(whitespace_after=_closing(own, closing) if own else closing)
        return statement.with_changes(names=[*kept[:-1], new_last.with_changes(comma=comma)])
    names = [*kept[:-1], new_last.with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    rpar = statement.rpar if isinstance(statement, cst.ImportFrom) else None
    if rpar is not None and own is not None:
        rpar = rpar.with_changes(whitespace_before=_closing(own, rpar.whitespace_before))
        return statement.with_changes(names=names, rpar=rpar)
    return statement.with_changes(names=names)


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _returned(body: list[cst.CSTNode]) -> cst.BaseExpression | None:
    """The expression of a body that is one ``return``."""
    if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
        return None
    statement = body[0].body[0]
    return statement.value if isinstance(statement, cst.Return) else None


def _leftmost_name(node: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node


def _comment_line(text: str) -> str:
    """A comment line, cut at a word to :data:`_COMMENT_WIDTH` characters (the report has it all)."""
    printable = "".join(char if char.isprintable() else repr(char)[1:-1] for char in " ".join(text.split()))
    line = _COMMENT + printable
    if len(line) <= _COMMENT_WIDTH:
        return line
    return line[: _COMMENT_WIDTH - 3].rsplit(" ", 1)[0].rstrip(",;:") + "..."


class _Rewriter:
    """Plans every call, then turns the plans into text edits and applies them."""

    def __init__(
        self, source: str, module: cst.Module, options: dict[str, Any], wrappers: Mapping[str, Wrapper]
    ) -> None:
        self.options = options
        self.wrapper = MetadataWrapper(module)
        self.module = self.wrapper.module
        self.reader = Reader(self.module, wrappers)
        self.wrapper.visit(self.reader)
        self.spans = self.wrapper.resolve(ByteSpanPositionProvider)
        self.positions = self.wrapper.resolve(PositionProvider)
        self.source = source
        self.data = source.encode("utf-8", "surrogatepass")
        self.edits: list[tuple[int, int, str]] = []
        self.comments: dict[cst.BaseStatement, list[str]] = defaultdict(list)
        self.written: set[str] = set()  # names of the new operators the rewrite uses
        self.replaced: set[cst.CSTNode] = set()  # name nodes whose use the rewrite removes
        self.seen: set[cst.CSTNode] = set()  # name nodes of the calls and bases looked at
        self.tops: list[cst.BaseStatement] = []  # module-level statements with a change
        self.tasks: list[TaskRewrite] = []

    def start(self, node: cst.CSTNode) -> int:
        return self.spans[node].start

    def end(self, node: cst.CSTNode) -> int:
        span = self.spans[node]
        return span.start + span.length

    def text(self, node: cst.CSTNode) -> str:
        return self.data[self.start(node) : self.end(node)].decode("utf-8", "surrogatepass")

    def line_start(self, offset: int) -> int:
        return self.data.rfind(b"\n", 0, offset) + 1

    def indentation(self, offset: int) -> str:
        line = self.data[self.line_start(offset) : offset].decode("utf-8", "surrogatepass")
        return line[: len(line) - len(line.lstrip(" \t"))]

    def run(self) -> FileRewrite:
        constants = {name: code for name, code in self.reader.constants.items() if code is not None}
        converted: list[tuple[int, int]] = []
        aliased: dict[Alias, list[tuple[OperatorCall, Plan]]] = defaultdict(list)
        for call in sorted(self.reader.calls, key=lambda call: self.start(call.node)):
            self.seen.add(_leftmost_name(call.node.func))
            if any(start <= self.start(call.node) < end for start, end in converted):
                continue  # inside the arguments of a converted call: copied as written
            site = self._site(call.node, call.kind, constants, call.alias, call.expand)
            if call.wrapper is not None:
                plan = plan_wrapper_call(site, call.wrapper, mapped=call.mapped, **self.options)
            else:
                plan = plan_call(site, **self.options)
            if call.alias is not None:
                aliased[call.alias].append((call, plan))
                continue
            if call.mapped and plan.outcome in (CONVERTED, DROP_IN):  # a wrapper's plan is a drop-in then
                reasons = [*(plan.reasons if call.wrapper else []), _MAPPED]
                removed = plan.removed if call.wrapper else ()
                plan = Plan(DROP_IN, reasons, callee=DROP_INS[call.kind], removed=removed, added=plan.added)
            self._apply(call, plan)
            if plan.arguments is not None:
                converted.append((self.start(call.node), self.end(call.node)))
        for alias, plans in aliased.items():
            self._alias(alias, plans)
        for bash_task in self.reader.bash_tasks:
            self._bash_task(bash_task, constants)
        for base in self.reader.bases:
            self.seen.add(_leftmost_name(base.arg.value))
            self._subclass(base)
        for statement, lines in self.comments.items():  # before the imports: an import added at
            offset = self.line_start(self.start(statement))  # the same offset goes above them
            indent = self.indentation(self.start(statement))
            unique = list(dict.fromkeys(lines))
            self.edits.append((offset, offset, "".join(f"{indent}{line}\n" for line in unique)))
        self._imports()
        new = self._edited()
        self.tasks.sort(key=lambda task: task.line)
        return FileRewrite(new, new != self.source, self.tasks, self.reader.notes)

    def _site(
        self,
        node: cst.Call,
        kind: str,
        constants: Mapping[str, str],
        alias: Alias | None = None,
        expand: cst.Call | None = None,
    ) -> CallSite:
        """The call as source text; an alias's ``functools.partial`` arguments come first (the
        call's own win), and the keywords of a chained ``.expand(...)`` are read as mapped."""
        keywords: dict[str, str] = {}
        hidden = []
        args = [*(alias.call.args[1:] if alias else ()), *node.args]
        mapped = [arg for arg in expand.args if arg.keyword is not None] if expand else []
        for arg in [*args, *mapped]:
            code = self.module.code_for_node(arg.value)
            if arg.keyword is not None:
                keywords[arg.keyword.value] = code
            else:
                hidden.append(f"{arg.star}{code}" if arg.star else f"the positional argument {code}")
        names = frozenset(arg.keyword.value for arg in mapped if arg.keyword is not None)
        return CallSite(kind, keywords, tuple(hidden), constants, frozenset(self.reader.default_keys), names)

    def _record(self, node: cst.CSTNode, task_id: str | None, operator: str, plan: Plan) -> None:
        line = self.positions[node].start.line
        self.tasks.append(
            TaskRewrite(line, task_id, operator, plan.outcome, plan.findings, plan.reasons, plan.spark)
        )

    def _apply(self, call: OperatorCall, plan: Plan) -> None:
        node = call.node
        task_id = next(
            (arg.value for arg in node.args if arg.keyword and arg.keyword.value == "task_id"), None
        )
        self._record(
            node, None if task_id is None else self.module.code_for_node(task_id), self.text(node.func), plan
        )
        callee = node.func.value if call.mapped and isinstance(node.func, cst.Attribute) else node.func
        if plan.callee is not None and (plan.removed or plan.added):  # an in-house wrapper's call
            head = plan.callee + (".partial" if call.mapped else "")
            inserted = [(key, value, value) for key, value in plan.added.items()]
            self.edits.append(
                (self.start(node), self.end(node), self._call_text(node, head, plan.removed, inserted))
            )
            self._used(callee, plan.callee, call.top)
        elif plan.callee is not None:
            self._rename(callee, plan.callee, call.top)
        elif plan.arguments is not None:
            self.edits.append((self.start(node), self.end(node), self._converted_call(node, plan)))
            self._used(node.func, MOKA_SPARK, call.top)
            for finding in plan.findings:
                if finding.kind == "attention":
                    self.comments[call.statement].append(
                        _comment_line(f"check {finding.subject}: {finding.detail}")
                    )

    def _alias(self, alias: Alias, plans: list[tuple[OperatorCall, Plan]]) -> None:
        """The calls of a ``functools.partial`` alias: the alias names the drop-in when every task it
        makes runs Spark and can move; otherwise each Spark task it makes needs a person."""
        operator = alias.call.args[0].value
        self.seen.add(_leftmost_name(operator))
        line, drop_in = self.positions[alias.call].start.line, DROP_INS[alias.kind]
        moves = all(plan.spark and plan.outcome in (CONVERTED, DROP_IN) for _, plan in plans)
        if moves:
            self._rename(operator, drop_in, alias.top)
        for call, plan in plans:
            if moves:
                plan = Plan(
                    DROP_IN,
                    [f"made by the functools.partial alias {alias.name} (line {line}), now of {drop_in}"],
                )
            elif plan.spark and plan.outcome in (CONVERTED, DROP_IN):
                reason = (
                    f"made by the functools.partial alias {alias.name} (line {line}), which also makes tasks "
                    f"that stay {self.text(operator)}: give this one an alias of {drop_in}"
                )
                plan = Plan(NEEDS_HUMAN, [reason])
            task_id = next(
                (arg.value for arg in call.node.args if arg.keyword and arg.keyword.value == "task_id"), None
            )
            self._record(
                call.node, None if task_id is None else self.module.code_for_node(task_id), alias.name, plan
            )

    def _bash_task(self, task: BashTask, constants: Mapping[str, str]) -> None:
        """A ``@task.bash`` function: converted (it returns the MokaSparkOperator; the decorator
        goes) when it only returns a literal spark-submit command and is called once, without
        arguments; otherwise a person moves it."""
        function, decorator = task.function, task.decorator
        name = function.name.value
        body: list[cst.CSTNode] = [line for line in function.body.body if not _is_docstring(line)]
        returned = _returned(body)
        options = decorator.decorator.args if isinstance(decorator.decorator, cst.Call) else ()
        keywords = {arg.keyword.value: self.module.code_for_node(arg.value) for arg in options if arg.keyword}
        code = self.module.code_for_node(returned) if returned else self.text(function.body)
        site = CallSite(BASH, {**keywords, "bash_command": code}, constants=constants)
        plan = plan_call(site, **self.options)
        task_id = keywords.get("task_id") or render_string(name, self.reader.quote)
        problems = [
            problem
            for problem, found in (
                ("it takes arguments", bool(function.params.params or function.params.kwonly_params)),
                ("it does more than return the command", returned is None),
                ("the decorator has positional arguments", any(not arg.keyword for arg in options)),
                ("it is used other than called once without arguments", self._not_called_once(name)),
                ("the command is built when the task runs", plan.outcome == DROP_IN),
            )
            if found
        ]
        if plan.outcome == CONVERTED and not problems and isinstance(body[0], cst.SimpleStatementLine):
            self._bash_task_converted(task, body[0], task_id, plan)
            plan.reasons.append(
                "@task.bash runs the command in a shell: the function now returns the operator"
            )
        elif plan.spark and plan.outcome in (CONVERTED, DROP_IN):
            reason = (
                f"@task.bash runs the command in a shell; Moka runs none, and {'; '.join(problems)}: make the "
                f"function build {MONARCH_BASH}(task_id=..., bash_command=...) or {MOKA_SPARK}"
            )
            plan = Plan(NEEDS_HUMAN, [reason])
        self._record(function, task_id, "@task.bash", plan)

    def _not_called_once(self, name: str) -> bool:
        return self.reader.name_uses[name] != 2 or self.reader.bare_calls[name] != 1  # the def and one call

    def _bash_task_converted(
        self,
        task: BashTask,
        statement: cst.SimpleStatementLine,
        task_id: str,
        plan: Plan,
    ) -> None:
        decorator_start = self.line_start(self.start(task.decorator))
        self.edits.append((decorator_start, self.line_start(self.start(task.function)), ""))
        indent = self.indentation(self.start(statement)) + "    "
        quote = self.reader.quote
        kept = [("task_id", task_id, task_id)]
        options = task.decorator.decorator.args if isinstance(task.decorator.decorator, cst.Call) else ()
        for arg in options:
            if arg.keyword and arg.keyword.value not in (*plan.removed, "task_id"):
                value = self.module.code_for_node(arg.value)
                kept.append((arg.keyword.value, value, value))
        for key, value in (plan.arguments or {}).items():
            block = render_value(value, indent, len(indent) + len(key) + 2, quote)
            kept.append((key, inline_value(value, quote), block))
        one_line = f"{MOKA_SPARK}({', '.join(f'{key}={inline}' for key, inline, _ in kept)})"
        if len(indent) + len("return ") + len(one_line) - 4 <= LINE_WIDTH:
            text = one_line
        else:
            lines = [f"{indent}{key}={block}," for key, _, block in kept]
            text = "\n".join([f"{MOKA_SPARK}(", *lines, indent[:-4] + ")"])
        small = statement.body[0]  # the return statement: the value's parentheses go too
        self.edits.append((self.start(small), self.end(small), f"return {text}"))
        self.written.add(MOKA_SPARK)
        self.tops.append(task.top)
        for finding in plan.findings:
            if finding.kind == "attention":
                self.comments[statement].append(_comment_line(f"check {finding.subject}: {finding.detail}"))

    def _used(self, replaced: cst.BaseExpression, name: str, top: cst.BaseStatement) -> None:
        self.replaced.add(_leftmost_name(replaced))
        self.written.add(name)
        self.tops.append(top)

    def _rename(self, node: cst.BaseExpression, name: str, top: cst.BaseStatement) -> None:
        self.edits.append((self.start(node), self.end(node), name))
        self._used(node, name, top)

    def _subclass(self, base: Subclass) -> None:
        drop_in = CLASS_DROP_INS[base.kind]
        classdef = base.classdef
        top = next(
            statement
            for statement in self.module.body
            if self.start(statement) <= self.start(classdef) < self.end(statement)
        )
        old = self.text(base.arg.value)
        self._rename(base.arg.value, drop_in, top)
        reason = (
            f"an in-house subclass of {old}: it now extends {drop_in}; check what it overrides "
            "(execute, the hook, the command it builds)"
        )
        self.tasks.append(
            TaskRewrite(
                self.positions[classdef].start.line,
                None,
                f"class {classdef.name.value}({old})",
                NEEDS_HUMAN,
                reasons=[reason],
            )
        )
        self.comments[classdef].append(_comment_line(f"needs a human: {reason}"))

    def _converted_call(self, node: cst.Call, plan: Plan) -> str:
        """The MokaSparkOperator call of ``node`` (see :meth:`_call_text`), with the translated
        arguments and an in-house wrapper's values that are not translated."""
        indent = self.indentation(self.start(node)) + "    "
        quote = self.reader.quote
        inserted = [(key, value, value) for key, value in plan.added.items()]
        for key, value in (plan.arguments or {}).items():
            block = render_value(value, indent, len(indent) + len(key) + 2, quote)
            inserted.append((key, inline_value(value, quote), block))
        return self._call_text(node, MOKA_SPARK, plan.removed, inserted)

    def _call_text(
        self, node: cst.Call, head: str, removed: tuple[str, ...], inserted: list[tuple[str, str, str]]
    ) -> str:
        """``node`` called as ``head``: kept arguments as written (with their comments), the
        ``inserted`` ones (key, source on one line, source in a block) where the first removed one
        was, preceded by the removed ones' comments. On one line if the call was and still fits;
        else one argument per line."""
        indent = self.indentation(self.start(node)) + "    "
        opening, leading = _comments(node.whitespace_before_args)
        entries: list[tuple[list[str], str, str | None] | None] = []  # None: the translated arguments
        moved: list[str] = []
        for arg in node.args:
            trailing, next_leading = _comments(_after(arg))
            if arg.keyword is not None and arg.keyword.value in removed:
                moved += [*leading, *_comments_in(arg.value), *([trailing] if trailing else [])]
                entries += [] if None in entries else [None]
            else:
                entries.append((leading, self.text(arg), trailing))
            leading = next_leading
        entries += [] if None in entries else [None]
        pieces: list[str] = []
        body: list[str] = []
        for entry in entries:
            if entry is None:
                pieces += [f"{key}={inline}" for key, inline, _ in inserted]
                body += moved
                body += [f"{key}={block}," for key, _, block in inserted]
            else:
                comments, text, trailing = entry
                pieces.append(text)
                body += [*comments, text + "," + (f"  {trailing}" if trailing else "")]
        one_line = f"{head}({', '.join(pieces)})"
        column = self.start(node) - self.line_start(self.start(node))
        if "\n" not in self.text(node) and "\n" not in one_line and column + len(one_line) <= LINE_WIDTH:
            return one_line
        first = f"{head}(" + (f"  {opening}" if opening else "")
        return "\n".join([first, *(indent + line for line in [*body, *leading]), indent[:-4] + ")"])

    def _imports(self) -> None:
        scopes = self.wrapper.resolve(ScopeProvider)
        removed: dict[cst.Import | cst.ImportFrom, list[cst.ImportAlias]] = defaultdict(list)
        lines: dict[cst.Import | cst.ImportFrom, OperatorImport] = {}
        for use in self.reader.imports:
            scope = scopes.get(use.statement)
            if scope is None:
                continue
            uses = [
                ref
                for bound in scope.assignments[use.name]
                if isinstance(bound, Assignment) and bound.node is use.statement
                for ref in bound.references
            ]
            if uses and all(ref.node in self.replaced for ref in uses):
                removed[use.statement].append(use.alias)
                lines[use.statement] = use
            if use.kind in CLASS_DROP_INS:
                self._unfollowed(use, [ref.node for ref in uses if ref.node not in self.seen])
        for statement, aliases in removed.items():
            self._trim_import(lines[statement], statement, aliases)
        self._add_imports()

    def _unfollowed(self, use: OperatorImport, nodes: list[cst.CSTNode]) -> None:
        """Note uses of a Spark operator class other than a call or a base class."""
        for line in sorted({self.positions[node].start.line for node in nodes}):
            self.reader.notes.append(
                f"line {line}: {use.name} is used other than in a call or as a base class (an alias, "
                "functools.partial, ...): the rewriter cannot follow it; check the tasks it makes"
            )

    def _trim_import(
        self, use: OperatorImport, statement: cst.Import | cst.ImportFrom, aliases: list[cst.ImportAlias]
    ) -> None:
        names = statement.names
        assert not isinstance(names, cst.ImportStar)
        kept = [alias for alias in names if alias not in aliases]
        if kept:
            new = self.module.code_for_node(_without(statement, kept))
            self.edits.append((self.start(statement), self.end(statement), new))
        elif use.top_level and len(use.line.body) == 1:
            end = self.data.find(b"\n", self.end(use.line))
            self.edits.append(
                (self.line_start(self.start(use.line)), len(self.data) if end < 0 else end + 1, "")
            )

    def _add_imports(self) -> None:
        wanted: dict[str, list[str]] = defaultdict(list)
        for name in sorted(self.written - self.reader.moka_names):
            wanted[NEW_NAMES[name]].append(name)
        if not wanted:
            return
        text = "".join(
            f"from {module} import {', '.join(names)}\n" for module, names in sorted(wanted.items())
        )
        first_change = min(self.start(top) for top in self.tops)
        before = [line for line in self.reader.import_lines if self.start(line) < first_change]
        if before:
            end = self.data.find(b"\n", self.end(before[-1]))
            offset = len(self.data) if end < 0 else end + 1
            text = text if end >= 0 else "\n" + text
        else:
            offset = self.line_start(first_change)
        self.edits.append((offset, offset, text))

    def _edited(self) -> str:
        newline = self.module.default_newline
        data = self.data
        for start, end, text in sorted(self.edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
            if newline != "\n":
                text = text.replace(newline, "\n").replace("\n", newline)
            data = data[:start] + text.encode("utf-8", "surrogatepass") + data[end:]
        return data.decode("utf-8", "surrogatepass")
