"""``moka migrate PATH...``: rewrite Monarch DAG files for Moka, in place or into another folder.

Directories are walked for ``*.py`` files (hidden directories and ``__pycache__`` left out). By
default changed files are rewritten in place; ``--output-dir`` writes a complete copy of the DAG
folder instead (unchanged files and non-Python files such as SQL templates are copied too);
``--diff`` prints unified diffs and ``--dry-run`` the reports, both writing no DAG file. Reports go
to ``--report-dir`` (mirroring the files' relative paths, ``<file>.md`` or ``<file>.json``), never
beside the DAGs; ``--report-format json`` without a folder prints one JSON list. A summary table is
always printed, on standard error when standard output carries a diff or JSON. A file that does not
parse (or decode) is reported and left alone, and the exit code is then 1; a usage error exits
with 2.

After the Moka rewrite, the Airflow 3 pass (:mod:`~.airflow3`) brings each file to Airflow 3 unless
``--no-airflow3``; ``--check`` then loads each migrated file next to its original in other
processes (:mod:`~.check`) and exits 1 unless every migrated file loads with valid SparkApplications.

In-house wrappers of the Spark operators come from ``--wrapper``, ``[tool.moka.migrate]`` of the
nearest ``pyproject.toml`` and the scanned files themselves (:mod:`~.rewrite_config`).

Files keep their encoding (coding cookie, BOM) and line endings, and are replaced atomically.
This module only builds the parser at import time; the rewriter is imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moka_provider.migration.rewrite import FileRewrite

_SKIPPED_DIRS = ("__pycache__",)


class UsageError(Exception):
    """The command line asks for something impossible (exit code 2)."""


@dataclass(frozen=True)
class _Source:
    path: Path  # the file as found
    relative: Path  # its path below the argument it was found under (or its name)


def add_parser(commands: Any) -> None:
    """Add ``migrate`` to the ``moka`` subcommands (``commands``: argparse's subparsers action)."""
    parser = commands.add_parser(
        "migrate",
        help="rewrite Monarch (Spark on YARN) DAG files for Moka",
        description="Rewrite SparkSubmitOperator, SparkSqlOperator, SparkJDBCOperator, in-house wrappers "
        "of them and spark-submit Bash tasks for Moka, then bring the files to Airflow 3 (unless "
        "--no-airflow3), keeping comments and layout; everything else in the files stays as it is.",
        epilog="Exit status: 0 done, 1 a file could not be read or parsed (left as it is) or, with "
        "--check, a migrated file does not load, 2 usage error.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="DAG files or folders")
    parser.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write a migrated copy of the folder here (unchanged files too) instead of in place",
    )
    parser.add_argument("--diff", action="store_true", help="print unified diffs; write no DAG file")
    parser.add_argument("--dry-run", action="store_true", help="print the reports; write no DAG file")
    parser.add_argument(
        "--report-dir", type=Path, metavar="DIR", help="write one report per file here (<file>.md or .json)"
    )
    parser.add_argument(
        "--report-format", choices=["md", "json"], default="md", help="format of the reports (default: md)"
    )
    parser.add_argument(
        "--path-map",
        type=Path,
        metavar="FILE",
        help="YAML or JSON: {prefix: replacement}, or {path_map: {...}, priority_classes: {...}}",
    )
    parser.add_argument(
        "--wrapper",
        action="append",
        default=[],
        metavar="MODULE.CLASS=KIND",
        help="an in-house operator running spark-submit or spark-sql (KIND), e.g. "
        "team_airflow.spark_submit.SparkSubmitOperator=spark-submit; repeatable; also "
        "[tool.moka.migrate] wrappers in the nearest pyproject.toml",
    )
    parser.add_argument(
        "--no-airflow3",
        dest="airflow3",
        action="store_false",
        help="leave out the Airflow 3 pass (ruff's AIR3 fixes, Airflow 1 paths, days_ago, DummyOperator)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="load every migrated file and its original, each in a DagBag of its own (in other processes), "
        "and report per file: tasks converted, loads or not, SparkApplications valid",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``moka migrate`` with parsed ``args``; the exit code."""
    try:
        if args.output_dir and (args.diff or args.dry_run):
            raise UsageError("--output-dir writes files; --diff and --dry-run write none: choose one")
        if args.output_dir:
            _check_outside(args.output_dir, args.paths)
        options: dict[str, Any] = _options(args.path_map) if args.path_map else {}
        sources = _sources(args.paths)
        options["wrappers"] = _wrappers(args, sources)
    except UsageError as error:
        print(f"moka migrate: {error}", file=sys.stderr)
        return 2
    import json

    from moka_provider.migration.report import report_data, summary_table

    originals = {
        source.path: _read(source.path)[0] for source in sources if args.check and _readable(source.path)
    }
    results = [(source, _migrate(source, args, options)) for source in sources]
    if args.output_dir:
        _copy_others(args.paths, args.output_dir)
    machine = args.report_format == "json" and not args.report_dir
    if machine:
        print(json.dumps([report_data(str(source.path), result) for source, result in results], indent=2))
    summary = summary_table([(str(source.path), result) for source, result in results])
    print(summary, file=sys.stderr if machine or args.diff else sys.stdout)
    failed = any(result.error for _, result in results)
    if args.check:
        failed = not _check(results, originals, sys.stderr if machine or args.diff else sys.stdout) or failed
    return 1 if failed else 0


def _readable(path: Path) -> bool:
    try:
        _read(path)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False
    return True


def _check(results: list[tuple[_Source, FileRewrite]], originals: dict[Path, str], out: Any) -> bool:
    """``--check``: load each migrated file next to its original and print what came of it; whether
    every migrated file loads with valid SparkApplications."""
    from moka_provider.migration.check import Migrated, check, summary

    files = [
        Migrated(source.relative, _root(source), originals[source.path], result)
        for source, result in results
        if not result.error and source.path in originals
    ]
    checks = check(files)
    print(summary(checks), file=out)
    return all(item.ok for item in checks)


def _root(source: _Source) -> Path:
    """The folder ``source`` was found under (its own folder for a file named on the command line)."""
    return Path(*source.path.parts[: len(source.path.parts) - len(source.relative.parts)] or ["."])


def _check_outside(output_dir: Path, paths: list[Path]) -> None:
    """An output folder inside a migrated folder would be migrated itself on the next run, and one
    holding a migrated file would overwrite it."""
    target = output_dir.resolve()
    for path in paths:
        if path.is_dir() and (target == path.resolve() or path.resolve() in target.parents):
            raise UsageError(f"--output-dir {output_dir} is inside {path}: choose a folder outside it")
        if path.is_file() and target == path.resolve().parent:
            raise UsageError(
                f"--output-dir {output_dir} would overwrite {path}: leave it out to rewrite in place"
            )


def _options(path: Path) -> dict[str, dict[str, str]]:
    """``path_map`` and ``priority_classes`` from the ``--path-map`` file."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"--path-map {path}: {error}") from error
    if not isinstance(loaded, dict):
        raise UsageError(f"--path-map {path}: expected a mapping")
    structured = bool(loaded) and set(loaded) <= {"path_map", "priority_classes"}
    sections = loaded if structured else {"path_map": loaded}
    options = {}
    for key, section in sections.items():
        if not isinstance(section, dict) or not all(isinstance(value, str) for value in section.values()):
            raise UsageError(f"--path-map {path}: {key} must map text to text")
        options[key] = {str(name): value for name, value in section.items()}
    return options


def _wrappers(args: argparse.Namespace, sources: list[_Source]) -> dict[str, Any]:
    """The in-house wrappers: ``--wrapper``, ``[tool.moka.migrate]``, and those in the scanned files."""
    from pathlib import PurePosixPath

    from moka_provider.migration.rewrite_config import configured_wrappers, known_wrappers

    try:
        configured = configured_wrappers(args.wrapper, args.paths)
    except ValueError as error:
        raise UsageError(str(error)) from error
    texts = []
    for source in sources:
        try:
            texts.append((PurePosixPath(source.relative.as_posix()), _read(source.path)[0]))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue  # reported when it is migrated
    return dict(known_wrappers(configured, texts))


def _walk(directory: Path) -> list[Path]:
    """Every file below ``directory``, hidden directories and ``__pycache__`` left out."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and not any(
            part.startswith(".") or part in _SKIPPED_DIRS for part in path.relative_to(directory).parts[:-1]
        )
    )


def _sources(paths: list[Path]) -> list[_Source]:
    sources: dict[Path, _Source] = {}
    for path in paths:
        if path.is_dir():
            found = [_Source(file, file.relative_to(path)) for file in _walk(path) if file.suffix == ".py"]
        elif path.is_file():
            found = [_Source(path, Path(path.name))]
        else:
            raise UsageError(f"{path}: no such file or directory")
        for source in found:
            if source.relative in sources and sources[source.relative].path != source.path:
                raise UsageError(
                    f"{source.path} and {sources[source.relative].path} would both be {source.relative} "
                    "in the output and report folders: migrate them separately"
                )
            sources[source.relative] = source
    return list(sources.values())


def _read(path: Path) -> tuple[str, str]:
    """The text of a Python file and its encoding (from its coding cookie or BOM)."""
    import io
    import tokenize

    data = path.read_bytes()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding


def _write(path: Path, text: str, encoding: str, like: Path | None = None) -> None:
    """Replace ``path`` atomically (a temporary file beside it, then a rename), with the mode of
    ``like`` (default: ``path`` itself; a new file gets the usual mode under the umask)."""
    import os
    import shutil
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(text.encode(encoding))
        model = like or path
        if model.exists():
            shutil.copymode(model, temporary)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _migrate(source: _Source, args: argparse.Namespace, options: dict[str, Any]) -> FileRewrite:
    """Rewrite one file as ``args`` ask; its result."""
    from moka_provider.migration.rewrite import FileRewrite, rewrite_source

    try:
        text, encoding = _read(source.path)
    except (OSError, SyntaxError, UnicodeDecodeError) as error:
        result = FileRewrite("", False, error=f"cannot read: {error}")
    else:
        result = rewrite_source(text, **options)
        if args.airflow3:
            from moka_provider.migration.airflow3 import bring_to_airflow3

            result = bring_to_airflow3(result, text)
    if result.error:
        print(f"moka migrate: {source.path}: {result.error}; left as it is", file=sys.stderr)
    elif args.diff:
        _print_diff(source, text, result.source)
    elif args.output_dir:
        _write(args.output_dir / source.relative, result.source, encoding, like=source.path)
    elif result.changed and not args.dry_run:
        _write(source.path.resolve(), result.source, encoding)  # a symlinked DAG stays a symlink
    if args.output_dir and result.error:  # the copy stays a complete DAG folder
        _copy(source.path, args.output_dir / source.relative)
    _report(source, result, args)
    return result


def _print_diff(source: _Source, old: str, new: str) -> None:
    import difflib

    name = source.relative.as_posix()
    sys.stdout.writelines(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )


def _report(source: _Source, result: FileRewrite, args: argparse.Namespace) -> None:
    """Write the file's report to ``--report-dir``; or, in a Markdown dry run, print it if it has
    anything to say (JSON reports without a folder are printed together at the end)."""
    import json

    from moka_provider.migration.report import render_report, report_data

    if args.report_dir:
        if args.report_format == "json":
            text = json.dumps(report_data(str(source.path), result), indent=2) + "\n"
        else:
            text = render_report(str(source.path), result)
        target = args.report_dir / source.relative
        _write(target.with_name(f"{target.name}.{args.report_format}"), text, "utf-8")
    elif (
        args.dry_run
        and args.report_format == "md"
        and (result.tasks or result.notes or result.error or result.airflow3)
    ):
        print(render_report(str(source.path), result), file=sys.stderr if args.diff else sys.stdout)


def _copy(path: Path, target: Path) -> None:
    import shutil

    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target)


def _copy_others(paths: list[Path], output_dir: Path) -> None:
    """The folders' other files (SQL and shell templates, ``.airflowignore``) into ``output_dir``."""
    for path in paths:
        if path.is_dir():
            for file in _walk(path):
                if file.suffix != ".py":
                    _copy(file, output_dir / file.relative_to(path))
