"""Which in-house wrappers ``moka migrate`` knows: named by ``--wrapper`` or in the ``wrappers``
table of ``[tool.moka.migrate]`` in the nearest ``pyproject.toml`` above a scanned path, and the
ones whose class is in the scanned tree (read by :func:`~.rewrite_wrappers.find_wrappers`)::

    [tool.moka.migrate]
    wrappers = {"team_airflow.spark_submit.SparkSubmitOperator" = "spark-submit"}
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from moka_provider.migration.rewrite_read import OPERATORS
from moka_provider.migration.rewrite_wrappers import Wrapper, find_wrappers, parse_wrapper_option


def configured_wrappers(options: Iterable[str], paths: Iterable[Path]) -> dict[str, str]:
    """Qualified class name -> kind, from the projects of ``paths`` and then the ``--wrapper``
    ``options`` (which win). ValueError naming the file or option when one is malformed."""
    wrappers: dict[str, str] = {}
    for project in dict.fromkeys(filter(None, map(_nearest_project, paths))):
        wrappers.update(_project_wrappers(project))
    for option in options:
        try:
            name, kind = parse_wrapper_option(option)
        except ValueError as error:
            raise ValueError(f"--wrapper {error}") from error
        wrappers[name] = kind
    return wrappers


def _nearest_project(path: Path) -> Path | None:
    folder = path.resolve() if path.is_dir() else path.resolve().parent
    return next(
        (
            found
            for found in (folder / "pyproject.toml", *(p / "pyproject.toml" for p in folder.parents))
            if found.is_file()
        ),
        None,
    )


def _project_wrappers(project: Path) -> dict[str, str]:
    where = f"{project} [tool.moka.migrate] wrappers"
    try:
        with project.open("rb") as file:
            table = tomllib.load(file).get("tool", {}).get("moka", {}).get("migrate", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{project}: {error}") from error
    given = table.get("wrappers", {}) if isinstance(table, dict) else None
    if not isinstance(given, dict):
        raise ValueError(f'{where}: expected a table of MODULE.CLASS = "spark-submit" or "spark-sql"')
    wrappers: dict[str, str] = {}
    for name, kind in given.items():
        try:
            wrappers.update([parse_wrapper_option(f"{name}={kind}")])
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from error
    return wrappers


def known_wrappers(
    configured: Mapping[str, str], sources: Iterable[tuple[PurePosixPath, str]]
) -> dict[str, Wrapper]:
    """The wrappers found in ``sources`` (relative path, text), with the ``configured`` kinds, and
    the configured ones not found there (source unknown)."""
    found = find_wrappers(sources, {**OPERATORS, **configured})
    known = {name: Wrapper(name, kind) for name, kind in configured.items()}
    for name, wrapper in found.items():
        kind = configured.get(name, wrapper.kind)
        known[name] = Wrapper(name, kind, wrapper.origin, wrapper.parameters, wrapper.passed, wrapper.opaque)
    return known
