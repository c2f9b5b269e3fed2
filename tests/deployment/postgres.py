"""A private PostgreSQL server (Debian's) on loopback, as the Airflow metadata database.

The server refuses to run as root, so its data directory belongs to the ``postgres`` user and its
programs run as that user. It listens on 127.0.0.1 on a free port, with its unix socket in its
own directory, and is stopped by the pid it was started with.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("MOKA_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
DATABASE = "airflow"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Postgres:
    """A running server; ``url`` is the SQLAlchemy URL of its ``airflow`` database."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log_file: Path
    stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{PG_USER}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        """Fast shutdown of the server started here (SIGINT to its postmaster), then its files."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(log_dir: Path, timeout: float = 60) -> Postgres:
    """initdb into a fresh private directory and start the server; returns once it accepts logins.

    The data directory is made with :func:`tempfile.mkdtemp` (mode 0700, owned by ``postgres``),
    not under pytest's own directory, which the ``postgres`` user may not enter.
    """
    import psycopg2

    root = Path(tempfile.mkdtemp(prefix="moka-pg-"))
    shutil.chown(root, PG_USER, PG_USER)
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    shutil.chown(sockets, PG_USER, PG_USER)
    as_postgres = {"user": PG_USER, "group": PG_USER, "extra_groups": [], "cwd": root}
    subprocess.run(
        [PG_BIN / "initdb", "-D", data, "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        **as_postgres,  # type: ignore[call-overload]
    )
    port = free_port()
    log_file = log_dir / "postgres.log"
    with log_file.open("ab") as out:
        process = subprocess.Popen(
            [
                PG_BIN / "postgres",
                *("-D", data, "-p", str(port), "-k", sockets),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **as_postgres,  # type: ignore[call-overload]
        )
    server = Postgres(root, port, process, log_file)
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres")
            break
        except psycopg2.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"PostgreSQL did not start; see {log_file}") from None
            time.sleep(0.2)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DATABASE}")
    except BaseException:
        server.stop()
        raise
    finally:
        connection.close()
    return server
