"""Build the local API server once per machine: kube-apiserver v1.20.2 from Debian's source.

Why this route: it needs nothing but Debian's own packages (the ``kubernetes`` source package,
Go, etcd), so it works on a machine whose only outside access is the distribution's archive. Two
fixes make the 2021 source build with today's Debian Go: the vendored
``github.com/modern-go/reflect2`` is replaced by Debian's packaged one (the vendored copy crashes
under Go >= 1.18), and the build runs in GOPATH mode as Debian's own packaging does. The source is
fetched through a private apt configuration whose ``deb-src`` entries are derived, at run time, from
the machine's own apt sources, so no archive address is written anywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from moka_provider.local.paths import KUBE_VERSION, Log, cache_dir

BUILD_PACKAGES = (
    "golang-go",
    "golang-github-modern-go-reflect2-dev",
    "etcd-server",
    "dpkg-dev",
    "rsync",
    "jq",
    "make",
)
_REFLECT2 = Path("/usr/share/gocode/src/github.com/modern-go/reflect2")


class InstallError(RuntimeError):
    """The API server could not be found or built; the message says what to do."""


def cached_apiserver() -> Path:
    return cache_dir() / f"kube-apiserver-{KUBE_VERSION}" / "kube-apiserver"


def find_binary(name: str) -> Path | None:
    """``name`` from PATH, else (for kube-apiserver) from the machine cache."""
    if found := shutil.which(name):
        return Path(found)
    if name == "kube-apiserver" and cached_apiserver().exists():
        return cached_apiserver()
    return None


def is_debian_like() -> bool:
    try:
        release = Path("/etc/os-release").read_text()
    except OSError:
        return False
    fields = dict(line.split("=", 1) for line in release.splitlines() if "=" in line)
    ids = (fields.get("ID", "") + " " + fields.get("ID_LIKE", "")).replace('"', "").split()
    return "debian" in ids or "ubuntu" in ids


def install(*, log: Log = print) -> Path:
    """Build kube-apiserver into the cache unless it is there already; return its path."""
    target = cached_apiserver()
    if target.exists():
        log(f"kube-apiserver {KUBE_VERSION} already built: {target}")
        if find_binary("etcd") is None and is_debian_like():
            apt_install(("etcd-server",), log)
        return target
    if not is_debian_like():
        raise InstallError(
            "`moka local install` builds the API server from Debian's source package and needs Debian or "
            f"Ubuntu. Elsewhere put a kube-apiserver {KUBE_VERSION}-compatible binary and etcd on PATH, or "
            "attach to an existing cluster with `moka local up --kubeconfig PATH`."
        )
    apt_install(BUILD_PACKAGES, log)
    with tempfile.TemporaryDirectory(prefix="moka-apiserver-build-") as work:
        source = _fetch_source(Path(work), log)
        binary = _build(source, Path(work), log)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(binary, target.with_suffix(".partial"))
        target.with_suffix(".partial").rename(target)
    log(f"built {target}")
    return target


def apt_install(packages: tuple[str, ...], log: Log) -> None:
    missing = [p for p in packages if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if not missing:
        return
    if os.geteuid() != 0:
        raise InstallError(f"missing Debian packages; run: sudo apt-get install -y {' '.join(missing)}")
    log(f"installing {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run_command(["apt-get", "update"], env=env)
    run_command(["apt-get", "install", "-y", "--no-install-recommends", *missing], env=env)


def source_entries(sources_dir: Path = Path("/etc/apt")) -> tuple[str, str]:
    """The machine's apt sources turned into ``deb-src`` entries: (deb822 text, one-line text)."""
    stanzas = []
    for path in sorted((sources_dir / "sources.list.d").glob("*.sources")):
        text = path.read_text()
        for stanza in text.split("\n\n"):
            lines = stanza.strip().splitlines()
            if any(line.strip() == "Types: deb" or line.startswith("Types: deb ") for line in lines):
                stanzas.append(
                    "\n".join("Types: deb-src" if line.startswith("Types:") else line for line in lines)
                )
    one_line = []
    for path in [sources_dir / "sources.list", *sorted((sources_dir / "sources.list.d").glob("*.list"))]:
        if path.exists():
            one_line += [
                "deb-src" + line.strip()[3:]
                for line in path.read_text().splitlines()
                if line.strip().startswith("deb ")
            ]
    return "\n\n".join(stanzas) + "\n", "\n".join(one_line) + "\n"


def _fetch_source(work: Path, log: Log) -> Path:
    apt = work / "apt"
    for sub in ("sources.list.d", "lists/partial", "cache/archives/partial"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    deb822, one_line = source_entries()
    (apt / "sources.list.d" / "moka-src.sources").write_text(deb822)
    (apt / "sources.list.d" / "moka-src.list").write_text(one_line)
    (apt / "apt.conf").write_text(
        f'Dir::Etc::SourceList "/dev/null";\nDir::Etc::SourceParts "{apt}/sources.list.d";\n'
        f'Dir::State::Lists "{apt}/lists";\nDir::Cache "{apt}/cache";\n'
    )
    env = {**os.environ, "APT_CONFIG": str(apt / "apt.conf")}
    log("fetching Debian's kubernetes source package")
    run_command(["apt-get", "update"], env=env)
    try:
        run_command(["apt-get", "source", "--download-only", "kubernetes"], env=env, cwd=work)
    except InstallError as error:
        raise InstallError(
            f"this machine's apt sources offer no `kubernetes` source package: {error}"
        ) from None
    dsc = next(work.glob("kubernetes_*.dsc"))
    if "1.20." not in dsc.name:
        raise InstallError(f"expected the kubernetes 1.20 source package, apt offers {dsc.name}")
    source = work / "src"
    run_command(["dpkg-source", "-x", dsc.name, str(source)], cwd=work)
    return source


def _build(source: Path, work: Path, log: Log) -> Path:
    vendored = source / "vendor" / "github.com" / "modern-go" / "reflect2"
    shutil.rmtree(vendored)
    shutil.copytree(_REFLECT2, vendored, ignore=shutil.ignore_patterns("go.mod", "go.sum", "*_test.go"))
    gopath = source / ".go"
    (gopath / "src" / "k8s.io").mkdir(parents=True, exist_ok=True)
    (gopath / "src" / "k8s.io" / "kubernetes").symlink_to(source)
    env = {
        **os.environ,
        "GOPATH": str(gopath),
        "GOCACHE": str(cache_dir() / "go-build"),
        "CGO_ENABLED": "0",
        "KUBE_GIT_VERSION": KUBE_VERSION,
        "KUBE_GIT_TREE_STATE": "clean",
        "HOME": str(work),
    }
    log("building kube-apiserver (a few minutes on 2 cores)")
    run_command(["make", "WHAT=cmd/kube-apiserver"], env=env, cwd=source)
    return source / "_output" / "bin" / "kube-apiserver"


def run_command(
    command: list[str], *, env: dict[str, str] | None = None, cwd: Path | str | None = None
) -> None:
    """Run a build step; on failure raise :class:`InstallError` with the end of its output."""
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise InstallError(f"`{' '.join(command)}` failed (exit {result.returncode}):\n{tail}")
