"""What ``moka migrate`` did to each file, for people (Markdown, a summary table) and machines (JSON).

A report lists every task the rewriter looked at: its line, ``task_id`` as written, the operator it
was, the outcome, and how many settings were mapped, renamed, dropped or need attention; then the
findings and reasons per task, then notes about the file as a whole (``os.environ`` settings of the
YARN client, in-house Spark operators), then what the Airflow 3 pass changed and left for a person.
Bash tasks that do not run Spark appear in the table only.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Any

from moka_provider.migration.rewrite import FileRewrite, TaskRewrite
from moka_provider.migration.rewrite_calls import OUTCOMES
from moka_provider.migration.translate import FINDING_KINDS


def status(result: FileRewrite) -> str:
    """``changed``, ``unchanged`` or ``error: <why>``."""
    if result.error:
        return f"error: {result.error}"
    return "changed" if result.changed else "unchanged"


def _cell(text: str) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return f"`{flat}`" if "`" not in flat else flat


def _counts(task: TaskRewrite) -> Counter[str]:
    return Counter(finding.kind for finding in task.findings)


def render_report(path: str, result: FileRewrite) -> str:
    """The Markdown report of one file."""
    lines = [f"# moka migrate: {path}", "", f"Status: {status(result)}", ""]
    if result.tasks:
        lines += [
            "| line | task_id | from | outcome | " + " | ".join(FINDING_KINDS) + " |",
            "| ---: | --- | --- | --- | " + " | ".join("---:" for _ in FINDING_KINDS) + " |",
        ]
        for task in result.tasks:
            counts = _counts(task)
            outcome = task.outcome if task.spark else f"{task.outcome} (not Spark)"
            lines.append(
                f"| {task.line} | {_cell(task.task_id) if task.task_id else '-'} | {_cell(task.operator)} "
                f"| {outcome} | " + " | ".join(str(counts[kind]) for kind in FINDING_KINDS) + " |"
            )
        lines.append("")
    elif not result.error:
        lines += ["No Spark or Bash tasks.", ""]
    for task in result.tasks:
        if not task.spark or not (task.reasons or task.findings):
            continue
        title = task.task_id if task.task_id else task.operator
        lines += [f"## line {task.line}: {' '.join(title.split())} ({task.outcome})", ""]
        lines += [f"- why: {reason}" for reason in task.reasons]
        lines += [f"- {finding.kind} `{finding.subject}`: {finding.detail}" for finding in task.findings]
        lines.append("")
    if result.notes:
        lines += ["## File notes", "", *(f"- {note}" for note in result.notes), ""]
    if result.airflow3:
        lines += ["## Airflow 3", "", *(f"- {line}" for line in result.airflow3), ""]
    return "\n".join(lines)


def report_data(path: str, result: FileRewrite) -> dict[str, Any]:
    """The report of one file as JSON-ready data."""
    return {
        "path": path,
        "status": "error" if result.error else "changed" if result.changed else "unchanged",
        "error": result.error,
        "tasks": [dataclasses.asdict(task) for task in result.tasks],
        "notes": list(result.notes),
        "airflow3": list(result.airflow3),
    }


def summary_table(results: Sequence[tuple[str, FileRewrite]]) -> str:
    """One line per file: its status and how many Spark tasks had each outcome."""
    header = ["file", "status", *OUTCOMES]
    rows = [header]
    for path, result in results:
        outcomes = Counter(task.outcome for task in result.tasks if task.spark)
        shown = status(result) if len(status(result)) <= 60 else status(result)[:57] + "..."
        rows.append([path, shown, *(str(outcomes[outcome]) for outcome in OUTCOMES)])
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
