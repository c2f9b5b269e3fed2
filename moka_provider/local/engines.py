"""The engines `moka local` runs jobs with, each in its own virtualenv in the machine cache.

Spark (pyspark, with its ``spark-submit``), Flink (PyFlink) and Ray are large and pin their own
dependencies, so they are not installed into Airflow's environment: ``moka local install
--engine NAME`` makes ``<cache>/engines/NAME``, a virtualenv holding that engine, and the local
controllers run jobs with its programs. A job whose engine is missing fails with a message that
says this command.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import sys
from pathlib import Path

from moka_provider.local.install import InstallError, apt_install, is_debian_like, run_command
from moka_provider.local.paths import Log, cache_dir

#: pip requirements of each engine's virtualenv.
ENGINE_PACKAGES = {
    "spark": ["pyspark>=3.5"],
    "flink": ["apache-flink>=1.19"],
    "ray": ["ray[default]>=2.9"],
}
#: The distribution of each engine's virtualenv whose version is the engine's version.
ENGINE_DISTRIBUTIONS = {"spark": "pyspark", "flink": "apache-flink", "ray": "ray"}
#: Engines that run on a JVM, and the Debian package that provides one.
JVM_ENGINES = {"spark", "flink"}
JAVA_PACKAGE = "openjdk-17-jre-headless"


def engine_dir(engine: str) -> Path:
    return cache_dir() / "engines" / engine


def engine_program(engine: str, program: str) -> Path | None:
    """A program of the engine's virtualenv (``spark-submit``, ``python``, ``ray``), if installed."""
    path = engine_dir(engine) / "bin" / program
    return path if path.exists() and (engine_dir(engine) / ".installed").exists() else None


def missing(engine: str) -> str | None:
    """What is missing to run ``engine`` jobs locally, said as what to do; ``None`` if nothing."""
    if engine_program(engine, "python") is None:
        return f"{engine} is not installed for moka local: run `moka local install --engine {engine}`"
    if engine in JVM_ENGINES and shutil.which("java") is None:
        return (
            f"{engine} needs Java 17+ on PATH: install it (Debian/Ubuntu: `apt-get install {JAVA_PACKAGE}`)"
        )
    return None


def install_engine(engine: str, log: Log = print) -> Path:
    if engine not in ENGINE_PACKAGES:
        raise InstallError(f"unknown engine {engine!r}; moka local runs {', '.join(ENGINE_PACKAGES)}")
    if engine in JVM_ENGINES and shutil.which("java") is None:
        if not is_debian_like():
            raise InstallError(f"{engine} needs Java 17+ on PATH; install a JRE and try again")
        apt_install((JAVA_PACKAGE,), log)
    if engine == "ray" and is_debian_like():  # heads run in a network namespace: see netns.py
        tools = {"unshare": "util-linux", "ip": "iproute2"}
        if missing_packages := tuple(
            package for tool, package in tools.items() if shutil.which(tool) is None
        ):
            apt_install(missing_packages, log)
    target = engine_dir(engine)
    marker = target / ".installed"
    if marker.exists() and marker.read_text().strip() == " ".join(ENGINE_PACKAGES[engine]):
        log(f"{engine} already installed: {target}")
        return target
    log(f"installing {engine} into {target}")
    base_python = getattr(sys, "_base_executable", sys.executable)
    run_command([base_python, "-m", "venv", str(target)])
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", *ENGINE_PACKAGES[engine]]
    run_command(pip, env={**os.environ, "PIP_NO_INPUT": "1"})
    marker.write_text(" ".join(ENGINE_PACKAGES[engine]) + "\n")
    return target


def package_dir(engine: str, package: str) -> Path | None:
    """Where a Python package of the engine's virtualenv is installed (e.g. pyspark: SPARK_HOME)."""
    for candidate in sorted((engine_dir(engine) / "lib").glob(f"python3*/site-packages/{package}")):
        return candidate
    return None


def engine_version(engine: str) -> str:
    """The version of ``engine`` that local jobs run with: the one installed in its virtualenv, or
    before it is installed the lowest one ``moka local install`` accepts (``ENGINE_PACKAGES``)."""
    if (engine_dir(engine) / ".installed").exists():
        name = ENGINE_DISTRIBUTIONS[engine]
        for site_packages in sorted((engine_dir(engine) / "lib").glob("python3*/site-packages")):
            for distribution in importlib.metadata.distributions(name=name, path=[str(site_packages)]):
                return distribution.version
    lowest = re.search(r">=\s*([0-9]+(?:\.[0-9]+)*)", ENGINE_PACKAGES[engine][0])
    if lowest is None:
        raise ValueError(f"no lowest version in {ENGINE_PACKAGES[engine][0]!r}")
    parts = lowest.group(1).split(".")
    return ".".join([*parts, "0", "0"][: max(3, len(parts))])  # "3.5" is release 3.5.0


def connection_extras() -> dict[str, str]:
    """The engine defaults of a `moka local` connection: ``<engine>_version`` and ``<engine>_image``.

    Versions are written as the resources want them (Flink's ``flinkVersion`` is ``v<major>_<minor>``).
    Image names follow the ``{arch}`` convention of Moka's multi-architecture images; the local
    kubelet runs every container as a local process and ignores them.
    """
    extras = {}
    for engine in ENGINE_PACKAGES:
        version = engine_version(engine)
        if engine == "flink":
            major, minor, *_ = [*version.split("."), "0"]
            extras["flink_version"] = f"v{major}_{minor}"
        else:
            extras[f"{engine}_version"] = version
        extras[f"{engine}_image"] = f"moka-local/{engine}:{version}-{{arch}}"
    return extras
