"""`moka local up | down | status | env`: the embedded control plane (etcd + kube-apiserver).

``up`` starts etcd, a real kube-apiserver on loopback (TLS, token authentication, RBAC) and the
local kubelet (:mod:`.kubelet`) with state in one directory, then prepares the cluster (:mod:`.bootstrap`) and writes a least-privilege
kubeconfig and Airflow connection. ``up --kubeconfig`` does the preparation on an existing cluster
instead. Everything started is recorded by pid, so ``down`` stops exactly that, also after a crash.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from moka_provider.local import audit, processes
from moka_provider.local.bootstrap import bootstrap
from moka_provider.local.install import find_binary
from moka_provider.local.kubeconfig import ClusterAccess, connection_uri, write_kubeconfig
from moka_provider.local.kubelet import register_node
from moka_provider.local.paths import KUBE_VERSION, Log, StatePaths
from moka_provider.local.pki import admin_token, ensure_pki
from moka_provider.local.pod_runner import stop_containers

COMPONENTS = ("etcd", "kube-apiserver", "kubelet", "log-server", "controllers")
KUBELET_MODULE = "moka_provider.local.kubelet"
LOG_SERVER_MODULE = "moka_provider.local.log_server"
CONTROLLERS_MODULE = "moka_provider.local.controllers"
DEFAULT_NAMESPACE = "moka"


class LocalError(RuntimeError):
    """`moka local` cannot do what was asked; the message says why and what to do."""


@dataclass
class LocalState:
    mode: str  # "embedded" or "attached"
    server: str
    namespace: str
    apiserver_port: int | None = None
    etcd_port: int | None = None
    kubelet_port: int | None = None
    log_server_port: int | None = None  # the log archive over HTTP (the Job log button)

    def save(self, paths: StatePaths) -> None:
        paths.state_file.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, paths: StatePaths) -> LocalState | None:
        try:
            return cls(**json.loads(paths.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None


def up(
    paths: StatePaths,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    apiserver_port: int | None = None,
    etcd_port: int | None = None,
    kubeconfig: Path | None = None,
    context: str | None = None,
    log: Log = print,
) -> LocalState:
    paths.create()
    if kubeconfig is not None:
        return _attach(paths, kubeconfig, context, namespace, log)
    state = LocalState.load(paths)
    running = (
        state
        and state.mode == "embedded"
        and all(processes.running_pid(paths.component(c)) for c in COMPONENTS)
    )
    if state and running and _ready(state.server, paths):
        log(f"moka local is already up at {state.server} ({paths.root})")
        _prepare(paths, state, _admin_client(paths, state.server), log)
        return state
    for component in COMPONENTS:  # leftovers of a crash or of a half-started instance
        message = processes.stop(paths.component(component))
        if "not running" not in message or "stale" in message:
            log(message)
    _, etcd_bin = _binaries()  # both checked before anything starts
    etcd_port = _port(etcd_port, "--etcd-port")
    peer_port = processes.free_port()
    apiserver_port = _port(apiserver_port, "--port")
    kubelet_port = processes.free_port()
    ensure_pki(paths)
    server = f"https://127.0.0.1:{apiserver_port}"
    log_server_port = processes.free_port()
    state = LocalState(
        "embedded", server, namespace, apiserver_port, etcd_port, kubelet_port, log_server_port
    )
    started = time.monotonic()
    try:
        processes.start(paths.component("etcd"), _etcd_argv(etcd_bin, paths, etcd_port, peer_port))
        _wait(paths, "etcd", lambda: _etcd_healthy(etcd_port), 30)
        start_apiserver(paths, state)
        admin = _admin_client(paths, server)  # also writes the admin kubeconfig the kubelet uses
        kubelet_argv = [
            sys.executable,
            "-m",
            KUBELET_MODULE,
            "--dir",
            str(paths.root),
            "--port",
            str(kubelet_port),
        ]
        processes.start(paths.component("kubelet"), kubelet_argv, marker=KUBELET_MODULE)
        _wait(paths, "kubelet", lambda: processes.port_is_open(kubelet_port), 30)
        log_server_argv = [
            sys.executable,
            "-m",
            LOG_SERVER_MODULE,
            str(paths.log_archive),
            str(log_server_port),
        ]
        processes.start(paths.component("log-server"), log_server_argv, marker=LOG_SERVER_MODULE)
        _wait(paths, "log-server", lambda: processes.port_is_open(log_server_port), 30)
        log(f"control plane ready at {server} in {time.monotonic() - started:.1f}s")
        register_node(admin, kubelet_port)
        _prepare(paths, state, admin, log)
        start_controllers(paths, state)
    except BaseException:
        for component in reversed(COMPONENTS):
            processes.stop(paths.component(component))
        raise
    state.save(paths)
    return state


def start_controllers(paths: StatePaths, state: LocalState, env: dict[str, str] | None = None) -> int:
    """Start the engines' controllers against this instance, watching its jobs namespace (also to
    restart them after a stop)."""
    argv = [
        sys.executable, "-m", CONTROLLERS_MODULE, "--kubeconfig", str(paths.admin_kubeconfig),
        "--namespace", state.namespace, "--airflow-home", str(paths.root / "airflow"),
    ]  # fmt: skip
    return processes.start(paths.component("controllers"), argv, marker=CONTROLLERS_MODULE, env=env)


def start_apiserver(paths: StatePaths, state: LocalState) -> None:
    """Start the embedded kube-apiserver on ``state``'s ports (same etcd, same certificates) and
    wait until it is ready: in ``up``, and again after :func:`stop_apiserver` (an outage)."""
    assert state.apiserver_port is not None and state.etcd_port is not None, "not an embedded instance"
    apiserver_bin, _ = _binaries()
    processes.start(
        paths.component("kube-apiserver"),
        _apiserver_argv(apiserver_bin, paths, state.apiserver_port, state.etcd_port),
    )
    _wait(paths, "kube-apiserver", lambda: _ready(state.server, paths), 60)


def stop_apiserver(paths: StatePaths) -> str:
    """Stop only the kube-apiserver, leaving etcd and the rest running; returns what happened."""
    return processes.stop(paths.component("kube-apiserver"))


def down(paths: StatePaths, *, log: Log = print) -> None:
    for component in reversed(COMPONENTS):
        log(processes.stop(paths.component(component)))
    if stopped := stop_containers(paths.pods):
        log(f"stopped the processes of {stopped} container(s) still running")
    state = LocalState.load(paths)
    if state and state.mode == "attached":
        log(f"attached to {state.server}: nothing of it was started here, so nothing stopped")


def status(paths: StatePaths) -> tuple[bool, list[str]]:
    """(healthy, lines describing each component)."""
    state = LocalState.load(paths)
    if state is None:
        return False, [f"moka local has not been brought up in {paths.root} (run `moka local up`)"]
    if state.mode == "attached":
        reachable = _reachable(paths, state)
        return reachable, [f"attached to {state.server}: {'reachable' if reachable else 'NOT reachable'}"]
    lines, healthy = [], True
    for component in COMPONENTS:
        pid = processes.running_pid(paths.component(component))
        recorded = processes.recorded_pid(paths.component(component))
        if pid:
            lines.append(f"{component}: running (pid {pid})")
        elif recorded:
            healthy = False
            lines.append(
                f"{component}: NOT running (pid {recorded[0]} exited; see {paths.component(component).log_file})"
            )
        else:
            healthy = False
            lines.append(f"{component}: not running")
    if healthy:
        ready = _ready(state.server, paths)
        healthy = ready
        lines.append(f"API server {state.server}: {'ready' if ready else 'NOT ready'}")
    lines.append(f"namespace {state.namespace}; kubeconfig {paths.kubeconfig}")
    return healthy, lines


def env_lines(paths: StatePaths) -> list[str]:
    import shlex

    state = LocalState.load(paths)
    if state is None or not paths.kubeconfig.exists():
        raise LocalError(f"moka local has not been brought up in {paths.root}: run `moka local up` first")
    local = state.mode == "embedded"  # else the cluster's own kubelets and operators run the jobs
    uri = connection_uri(
        paths.kubeconfig,
        state.namespace,
        paths.log_archive if local else None,
        log_server_port=state.log_server_port if local else None,
        local_engines=local,
    )
    return [
        f"export KUBECONFIG={shlex.quote(str(paths.kubeconfig))}",
        f"export AIRFLOW_CONN_MOKA_DEFAULT={shlex.quote(uri)}",
    ]


# -- internals ---------------------------------------------------------------------------------


def _binaries() -> tuple[Path, Path]:
    apiserver, etcd = find_binary("kube-apiserver"), find_binary("etcd")
    problems = []
    if apiserver is None:
        problems.append(
            f"kube-apiserver ({KUBE_VERSION}) is neither on PATH nor built: run `moka local install` "
            "(Debian/Ubuntu; builds it once per machine)"
        )
    if etcd is None:
        problems.append("etcd is not on PATH: install it (Debian/Ubuntu: `apt-get install etcd-server`)")
    if problems:
        raise LocalError(
            "\n".join(problems) + "\nOr attach to a cluster you have: `moka local up --kubeconfig PATH`."
        )
    assert apiserver is not None and etcd is not None
    return apiserver, etcd


def _port(requested: int | None, option: str) -> int:
    if requested is None:
        return processes.free_port()
    if not processes.port_is_free(requested):
        raise LocalError(f"port {requested} ({option}) is taken on 127.0.0.1; pick another or omit {option}")
    return requested


def _etcd_argv(binary: Path, paths: StatePaths, port: int, peer_port: int) -> list[str]:
    peer = f"http://127.0.0.1:{peer_port}"
    return [
        str(binary),
        "--name=moka",
        f"--data-dir={paths.etcd_data}",
        f"--listen-client-urls=http://127.0.0.1:{port}",
        f"--advertise-client-urls=http://127.0.0.1:{port}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=moka={peer}",
        "--log-level=warn",
        "--logger=zap",
    ]


def _apiserver_argv(binary: Path, paths: StatePaths, port: int, etcd_port: int) -> list[str]:
    pki = paths.pki
    issuer = "https://kubernetes.default.svc.cluster.local"
    return [
        str(binary),
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--token-auth-file={paths.token_file}",
        "--authorization-mode=RBAC",
        f"--service-account-issuer={issuer}",
        f"--api-audiences={issuer}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-cluster-ip-range=10.96.0.0/24",
        f"--cert-dir={pki}",
        f"--kubelet-certificate-authority={pki / 'ca.crt'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        "--kubelet-preferred-address-types=InternalIP",
        "--allow-privileged=true",
        # No controller-manager runs here to create service-account token secrets, which this
        # admission plugin would demand of every pod; the local kubelet mounts no tokens anyway.
        "--disable-admission-plugins=ServiceAccount",
        "--profiling=false",
        "--v=1",
        *audit.apiserver_flags(paths),
    ]


def _wait(paths: StatePaths, component: str, check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if processes.running_pid(paths.component(component)) is None:
            raise LocalError(
                f"{component} exited during start-up; last lines of {paths.component(component).log_file}:\n"
                + processes.log_tail(paths.component(component))
            )
        if time.monotonic() > deadline:
            raise LocalError(
                f"{component} not ready after {timeout:.0f}s; last lines of {paths.component(component).log_file}:\n"
                + processes.log_tail(paths.component(component))
            )
        time.sleep(0.2)


def _etcd_healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return bool(json.loads(response.read()).get("health") == "true")
    except (OSError, ValueError):
        return False


def _ready(server: str, paths: StatePaths) -> bool:
    context = ssl.create_default_context(cafile=str(paths.pki / "ca.crt"))
    request = urllib.request.Request(
        f"{server}/readyz", headers={"Authorization": f"Bearer {admin_token(paths)}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def _admin_client(paths: StatePaths, server: str) -> Any:
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = server
    configuration.ssl_ca_cert = str(paths.pki / "ca.crt")
    configuration.api_key = {"authorization": f"Bearer {admin_token(paths)}"}
    write_kubeconfig(
        paths.admin_kubeconfig,
        ClusterAccess(server, (paths.pki / "ca.crt").read_bytes()).kubeconfig(
            "moka-admin", admin_token(paths), "default"
        ),
    )
    return client.ApiClient(configuration)


def _prepare(paths: StatePaths, state: LocalState, api_client: Any, log: Log) -> None:
    with api_client:
        token = bootstrap(api_client, state.namespace, log=log)
        access = _access_of(api_client)
    write_kubeconfig(
        paths.kubeconfig, access.kubeconfig(f"moka-airflow@{state.namespace}", token, state.namespace)
    )
    log(f"kubeconfig (least privilege) written to {paths.kubeconfig}")


def _access_of(api_client: Any) -> ClusterAccess:
    configuration = api_client.configuration
    ca_pem = Path(configuration.ssl_ca_cert).read_bytes() if configuration.ssl_ca_cert else None
    return ClusterAccess(configuration.host, ca_pem, insecure=not configuration.verify_ssl)


def _attach(paths: StatePaths, kubeconfig: Path, context: str | None, namespace: str, log: Log) -> LocalState:
    from kubernetes import client, config

    if not kubeconfig.exists():
        raise LocalError(f"--kubeconfig {kubeconfig}: no such file")
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context=context, client_configuration=configuration)
    state = LocalState("attached", configuration.host, namespace)
    _prepare(paths, state, client.ApiClient(configuration), log)
    state.save(paths)
    log(f"attached to {configuration.host}")
    return state


def _reachable(paths: StatePaths, state: LocalState) -> bool:
    from kubernetes import client, config

    try:
        api_client = config.new_client_from_config(config_file=str(paths.kubeconfig))
        with api_client:
            client.VersionApi(api_client).get_code()
    except Exception:
        return False
    return True
