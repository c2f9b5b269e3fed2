"""Distribution check: what `pip install moka-provider` gives a user works, with stock Airflow.

    python scripts/check_distribution.py [--floor PIN ...]

Proves, from a copy of the work tree (tracked and new files, nothing ignored) in a temporary
directory, so nothing is written into the repository:

1. ``python -m build`` makes an sdist and a wheel (the wheel built from the sdist), ``twine check
   --strict`` accepts both, and the sdist builds the same wheel as the tree (same files, same bytes):
   the sdist lacks nothing the wheel needs.
2. The wheel holds the package data the runtime reads (``PACKAGE_DATA``): every file of the tree
   matching those patterns, and at least one for each.
3. In two fresh virtualenvs, built in parallel, the wheel alone installs with the Airflow pip
   resolves for it (the current release) and with the ``--floor`` pins (the lowest supported
   Airflow); in each, ``check_distribution_installed.py`` runs outside the repository, so the
   installed wheel is imported: Airflow's ProvidersManager registers the provider as
   get_provider_info declares it, and the example DAGs parse with no import errors.

Prints each step with its time and exits non-zero on the first failure, with the failing output.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INSTALLED_CHECK = REPO / "scripts" / "check_distribution_installed.py"
# What the runtime reads besides modules (resources.py, local/bootstrap.py, data/__init__.py),
# and the typing marker; paths inside the wheel.
PACKAGE_DATA = (
    "moka_provider/py.typed",
    "moka_provider/data/crds/*.json",
    "moka_provider/data/rbac/*.yaml",
    "moka_provider/data/spark/spark_sql_runner.py",
    "moka_provider/data/spark/spark_jdbc_runner.py",
    "moka_provider/data/spark/pyspark_function_runner.py",
)


class CheckFailed(Exception):
    """A step of the check failed; the message says which and why."""


def run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``command``; its output, or :class:`CheckFailed` with the output's end if it fails."""
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-4000:]
        raise CheckFailed(f"{' '.join(map(str, command))} exited {result.returncode}:\n{output}")
    return result.stdout


def copy_work_tree(target: Path) -> None:
    """The files git would see in a commit of the work tree now (tracked or new, not ignored)."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the work tree is left out
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def build(source: Path, dist: Path, direct: Path) -> tuple[Path, Path]:
    """The sdist and the wheel built from it in ``dist``, after checking that a wheel built
    straight from ``source`` (into ``direct``) is the same; both pass ``twine check``."""
    run([sys.executable, "-m", "build", "--outdir", dist, source], cwd=source)
    run([sys.executable, "-m", "build", "--wheel", "--outdir", direct, source], cwd=source)
    (sdist,), (wheel,), (direct_wheel,) = (
        list(dist.glob("*.tar.gz")),
        list(dist.glob("*.whl")),
        list(direct.glob("*.whl")),
    )
    if _contents(wheel) != _contents(direct_wheel):
        raise CheckFailed(f"the sdist builds another wheel than the tree: {_difference(wheel, direct_wheel)}")
    run([sys.executable, "-m", "twine", "check", "--strict", sdist, wheel], cwd=dist)
    return sdist, wheel


def _contents(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _difference(one: Path, other: Path) -> str:
    mine, theirs = _contents(one), _contents(other)
    names = sorted(set(mine) ^ set(theirs)) or [name for name in mine if mine[name] != theirs[name]]
    return ", ".join(names[:20])


def check_package_data(wheel: Path, source: Path) -> int:
    """How many package data files the wheel holds; :class:`CheckFailed` if one is missing."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for pattern in PACKAGE_DATA:
        in_tree = {path.relative_to(source).as_posix() for path in source.glob(pattern)}
        if not in_tree:
            raise CheckFailed(f"no file of the tree matches {pattern}")
        missing = in_tree - names
        if missing:
            raise CheckFailed(f"the wheel lacks {', '.join(sorted(missing))}")
    return sum(1 for name in names for pattern in PACKAGE_DATA if fnmatch.fnmatch(name, pattern))


def check_in_fresh_venv(name: str, wheel: Path, pins: list[str], work: Path) -> str:
    """Install ``wheel`` (with ``pins``) into a new virtualenv and run the installed check there,
    from ``work`` (outside the repository); the check's report (its last line: Airflow logs to
    standard output too) and the time each part took."""
    started = time.monotonic()
    venv = work / f"venv-{name}"
    # No pip inside (this pip installs into it) and no bytecode compiled ahead (imports compile
    # what they load): a third of the time, the same installed files.
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=work)
    python = venv / "bin" / "python"
    install: list[str | Path] = ["install", "--quiet", "--no-compile", wheel, *pins]
    run([sys.executable, "-m", "pip", "--python", python, *install], cwd=work)
    installed = time.monotonic()
    home = work / f"airflow-home-{name}"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "AIRFLOW_HOME": str(home)}
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    floor = [f"--airflow={pin.split('==', 1)[1]}" for pin in pins if pin.startswith("apache-airflow==")]
    # -I: neither the script's folder, the working directory, PYTHONPATH nor user site-packages on
    # sys.path, so only the installed wheel can be imported.
    report = run(
        [python, "-I", INSTALLED_CHECK, "--dags", REPO / "dags_examples", *floor],
        cwd=work,
        env=env,
    )
    checked = time.monotonic()
    timing = f"venv and install {installed - started:.0f} s, check {checked - installed:.0f} s"
    return f"{report.strip().splitlines()[-1]} ({timing})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--floor", nargs="*", default=[], help="requirements pinning the lowest supported Airflow"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", flush=True)

    with tempfile.TemporaryDirectory(prefix="moka-dist-check-") as tmp:
        work = Path(tmp)
        try:
            source = work / "src"
            copy_work_tree(source)
            sdist, wheel = build(source, work / "dist", work / "direct")
            say(f"built {sdist.name} and {wheel.name}; the sdist builds the same wheel; twine check passed")
            say(f"the wheel holds {check_package_data(wheel, source)} package data files")
            environments = {"current": [], "floor": args.floor}
            with ThreadPoolExecutor(len(environments)) as pool:
                reports = {
                    name: pool.submit(check_in_fresh_venv, name, wheel, pins, work)
                    for name, pins in environments.items()
                }
                for name, report in reports.items():
                    say(f"{name}: {report.result()}")
        except CheckFailed as failure:
            say(f"FAILED: {failure}")
            return 1
    say("distribution check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
