"""Run a command in a network namespace of its own, reachable only through forwarded loopback ports.

Some engines' servers listen on every interface whatever they are told (Ray's GCS, raylet and
workers do, even with ``--node-ip-address=127.0.0.1``), and a local tool must not expose servers
beyond loopback. So the command runs in a new network namespace whose only interface is its
loopback, and the ports the outside needs (Ray's dashboard) are forwarded from this machine's
127.0.0.1: each connection is relayed by a thread that enters the namespace (``setns``) to reach
the same port on the namespace's own loopback. Needs root (or CAP_SYS_ADMIN) and util-linux's
``unshare`` and iproute2's ``ip``.

    python -m moka_provider.local.netns --forward PORT [--forward PORT ...] -- COMMAND [ARG...]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading

CLONE_NEWNET = 0x40000000
_LOOPBACK_UP = 'ip link set lo up && exec "$@"'


def missing_tools() -> str | None:
    """Why commands cannot be isolated here, said as what to do; ``None`` if they can."""
    if os.geteuid() != 0:
        return "isolating an engine's network needs root (a network namespace per job)"
    absent = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if absent:
        return f"isolating an engine's network needs {' and '.join(absent)} (Debian: util-linux, iproute2)"
    return None


def isolated(command: list[str], ports: list[int]) -> list[str]:
    """``command`` wrapped to run in its own network namespace with ``ports`` forwarded."""
    forwards = [argument for port in ports for argument in ("--forward", str(port))]
    return [sys.executable, "-m", __name__, *forwards, "--", *command]


def _enter_namespace_of(pid: int) -> None:
    """Move the calling thread into the network namespace of ``pid``."""
    libc = ctypes.CDLL(None, use_errno=True)
    descriptor = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if libc.setns(descriptor, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into the network namespace of {pid}: {os.strerror(error)}")
    finally:
        os.close(descriptor)


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _relay(client: socket.socket, pid: int, port: int) -> None:
    try:
        _enter_namespace_of(pid)
        upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _serve(listener: socket.socket, pid: int, port: int) -> None:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_relay, args=(client, pid, port), daemon=True).start()


def run(command: list[str], ports: list[int]) -> int:
    listeners = [socket.create_server(("127.0.0.1", port)) for port in ports]
    child = subprocess.Popen(
        ["unshare", "--net", "--", "/bin/sh", "-c", _LOOPBACK_UP, "moka-netns", *command]
    )

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for listener, port in zip(listeners, ports, strict=True):
        threading.Thread(target=_serve, args=(listener, child.pid, port), daemon=True).start()
    code = child.wait()
    return 128 - code if code < 0 else code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forward", type=int, action="append", default=[], metavar="PORT")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    sys.exit(run(command, args.forward))


if __name__ == "__main__":
    main()
