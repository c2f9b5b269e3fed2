"""The Airflow 3 pass of ``moka migrate``: after the Moka rewrite, bring a DAG file to Airflow 3.

First ruff's Airflow 3 rules with their fixes (``ruff check --select AIR3 --preview --fix
--unsafe-fixes``, the tool Airflow's upgrade guide points to; ruff is a dependency, run as its own
binary with no configuration but these options, ``--isolated``), then what ruff reports without
fixing (:mod:`~.airflow3_rewrite`). The report gets one line per change: ruff's fixes are named
from its findings before and after (JSON), so a file with something to fix costs two ruff
processes (a few milliseconds each) and one without, one. A move into a provider that is not
installed here is reported; so is each finding nobody fixed.

The report's lines are lines of the file as it was before ``moka migrate`` (like the Moka rewrite's
table): ruff's findings are on the Moka-rewritten text and the rewrite's on ruff's output, so each is
taken back through the texts between (:func:`lines_back`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from moka_provider.migration.airflow3_rewrite import rewrite_for_airflow3
from moka_provider.migration.rewrite import FileRewrite

RUFF_RULES = "AIR3"
_INSTALL = re.compile(r"Install `([\w.-]+?)(?:[<>=!~].*?)?`")
_SUBJECT = re.compile(r"`([^`]+)`")


class RuffError(RuntimeError):
    """ruff could not check a file (not a finding: ruff itself failed)."""


@dataclass
class Airflow3Pass:
    """What the pass made of a file: its new text, the changes and what is left, one line each."""

    source: str
    changes: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    ruff_seconds: float = 0.0


def bring_to_airflow3(result: FileRewrite, original: str, today: datetime.date | None = None) -> FileRewrite:
    """``result`` (the Moka rewrite of the file ``original``) with the Airflow 3 pass applied and
    reported in its ``airflow3`` lines, by lines of ``original``; a file that was not rewritten
    (``result.error``) is returned as it is.

    :param today: the day ``days_ago(n)`` counts back from (default: today, UTC).
    """
    if result.error:
        return result
    try:
        done = airflow3_pass(
            result.source,
            today or datetime.datetime.now(datetime.UTC).date(),
            lines_back(original, result.source),
        )
    except (RuffError, OSError, subprocess.TimeoutExpired) as error:
        return dataclasses.replace(result, airflow3=[f"needs a person: the pass did not run: {error}"])
    lines = [*done.changes, *(f"needs a person: {line}" for line in done.left)]
    return dataclasses.replace(
        result, source=done.source, changed=result.changed or done.source != result.source, airflow3=lines
    )


def airflow3_pass(
    source: str, today: datetime.date, line_of: Callable[[int], int] | None = None
) -> Airflow3Pass:
    """``source`` brought to Airflow 3 (see the module docstring).

    :param line_of: the line of the file to report for a line of ``source`` (default: the same).
    """
    if "airflow" not in source:
        return Airflow3Pass(source)
    in_file = line_of or (lambda line: line)
    started = time.perf_counter()
    fixed, remaining = _ruff(source, fix=True)
    fixes = _fixed(_ruff(source, fix=False)[1], remaining) if fixed != source else []
    seconds = time.perf_counter() - started
    back = lines_back(source, fixed)

    def fixed_in_file(line: int) -> int:
        return in_file(back(line))

    done = rewrite_for_airflow3(fixed, today, fixed_in_file)
    left = [  # found on ruff's output (with --fix, ruff reports what is left in the fixed text)
        f"line {fixed_in_file(finding['location']['row'])}: {finding['message']} (ruff {finding['code']})"
        for finding in remaining
        if _subject(finding["message"]) not in done.subjects
    ]
    providers = done.providers | {match[1] for fix in fixes if (match := _INSTALL.search(_fix_message(fix)))}
    missing = [
        f"{provider} is not installed here: install it where the DAGs run"
        for provider in sorted(providers)
        if not _installed(provider)
    ]
    return Airflow3Pass(
        done.source,
        [_fix_line(fix, in_file) for fix in fixes] + done.changes,
        [*done.left, *left, *missing],
        seconds,
    )


def lines_back(old: str, new: str) -> Callable[[int], int]:
    """For a line of ``new`` (from 1), the line of ``old`` it came from: a line kept as it was is
    matched (difflib over the lines); a line of a changed block is paired with the old block's line
    at the same place (its last when the new block is longer); an added line gets the old line of
    the nearest kept or changed line above it (line 1 at the top)."""
    olds: list[int] = []  # olds[n - 1]: the old line of new line n
    matcher = SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag in ("equal", "replace"):
            olds += [min(old_start + index, old_end - 1) + 1 for index in range(new_end - new_start)]
        elif tag == "insert":
            olds += [olds[-1] if olds else 1] * (new_end - new_start)
    return lambda line: olds[line - 1]


def _ruff(source: str, *, fix: bool) -> tuple[str, list[dict[str, Any]]]:
    """Run ruff's Airflow 3 rules on ``source``: (the fixed source, the findings left) when
    ``fix``, else (``source``, every finding)."""
    from ruff.__main__ import find_ruff_bin

    command = [find_ruff_bin(), "check", "--isolated", "--select", RUFF_RULES, "--preview", "--exit-zero"]
    command += ["--output-format", "json", "--stdin-filename", "dag.py"]
    command += ["--fix", "--unsafe-fixes", "-"] if fix else ["-"]
    done = subprocess.run(
        command, input=source, capture_output=True, encoding="utf-8", check=False, timeout=120
    )
    report = done.stderr if fix else done.stdout  # with --fix on stdin, stdout is the fixed file
    start = report.find("[")
    if done.returncode != 0 or start < 0:
        raise RuffError(f"ruff failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    findings, _ = json.JSONDecoder().raw_decode(report[start:])
    return (done.stdout if fix else source), findings


def _key(finding: dict[str, Any]) -> tuple[str, str]:
    return finding["code"], finding["message"]


def _fixed(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings of ``before`` that ruff fixed: not among those ``after`` (as many times)."""
    left = Counter(_key(finding) for finding in after)
    fixed = []
    for finding in before:
        if left[_key(finding)]:
            left[_key(finding)] -= 1
        else:
            fixed.append(finding)
    return fixed


def _fix_message(finding: dict[str, Any]) -> str:
    return str((finding.get("fix") or {}).get("message") or "")


def _fix_line(finding: dict[str, Any], line_of: Callable[[int], int]) -> str:
    """``line N: `old name`: what ruff did (ruff CODE)``, N the line ``line_of`` gives for the finding's."""
    match = _SUBJECT.search(finding["message"])
    what = f"`{match[1]}`" if match else finding["message"].split(";")[0]
    how = _fix_message(finding) or finding["message"]
    return f"line {line_of(finding['location']['row'])}: {what}: {how} (ruff {finding['code']})"


def _subject(message: str) -> str:
    """What a finding is about, as the Airflow 3 rewrite names it: the last dotted part of the first
    quoted name (``airflow.utils.dates.days_ago`` -> ``days_ago``)."""
    match = _SUBJECT.search(message)
    return match[1].rsplit(".", 1)[-1] if match else message


def _installed(distribution: str) -> bool:
    from importlib import metadata

    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True
