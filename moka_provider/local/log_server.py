"""`moka local`'s log archive over HTTP on loopback: what the *Job log* button opens.

The archive is a folder of files (``file://`` URLs), which the provider reads directly; a browser,
and so the Airflow UI, only opens http(s) links. ``python -m moka_provider.local.log_server DIR
PORT`` serves ``DIR`` on ``127.0.0.1:PORT``, logs as plain text.
"""

from __future__ import annotations

import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class _ArchiveHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".log": "text/plain; charset=utf-8"}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m moka_provider.local.log_server DIR PORT", file=sys.stderr)
        return 2
    handler = functools.partial(_ArchiveHandler, directory=argv[0])
    with ThreadingHTTPServer(("127.0.0.1", int(argv[1])), handler) as server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
