"""Rewriting Hadoop-era paths (``hdfs://...``) to where the data lives for Moka, by prefix.

The map comes from the user (the ``moka`` connection or a file): ``{"hdfs://nn:8020/data":
"s3a://lake/data"}``. The longest matching prefix wins, and a prefix only matches at a path
boundary (``/``, ``#`` or the end), so ``hdfs://nn/data`` does not rewrite ``hdfs://nn/data2``.
Only the prefix is replaced: a ``#alias`` suffix or a Jinja expression later in the path is kept.
Schemes and host names match in any case, and an HDFS address matches with or without its
default port (``hdfs://nn:8020/x`` is ``hdfs://nn/x``), so one entry covers both spellings.
A whole value is matched first (so keys may be plain local prefixes); inside longer text
(``--input=hdfs://...``, comma lists in a conf) every URL is matched on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

#: Schemes that mean nothing on Moka: a path using one needs a mapping.
UNREACHABLE_SCHEMES = ("hdfs", "viewfs", "webhdfs", "s3", "s3n")

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s,;'\"]*")
_AUTHORITY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/#?]*)(.*)", re.DOTALL)
#: Ports that a path may leave out: the default NameNode RPC port of each HDFS scheme.
DEFAULT_PORTS = {"hdfs": "8020", "viewfs": "8020"}


def canonical(path: str) -> str:
    """``path`` with its scheme and host in lowercase and a default port left out."""
    match = _AUTHORITY.fullmatch(path)
    if match is None:
        return path
    scheme, authority, rest = match[1].lower(), match[2], match[3]
    user, at, host = authority.rpartition("@")
    host = host.lower()
    if DEFAULT_PORTS.get(scheme) and host.endswith(":" + DEFAULT_PORTS[scheme]):
        host = host[: -len(DEFAULT_PORTS[scheme]) - 1]
    return f"{scheme}://{user}{at}{host}{rest}"


class PathMap:
    """A prefix map; ``unmapped`` is called with each URL of an unreachable scheme left as is."""

    def __init__(self, mapping: Mapping[str, str] | None) -> None:
        given = {canonical(prefix): target for prefix, target in (mapping or {}).items()}
        self.prefixes = sorted(given.items(), key=lambda item: len(item[0]), reverse=True)
        self.targets: list[str] = []  # the mapped values produced, for what they imply (s3a)

    def _prefixed(self, path: str) -> str | None:
        path = canonical(path)
        for prefix, target in self.prefixes:
            rest = path[len(prefix) :]
            if path.startswith(prefix) and (not rest or prefix.endswith("/") or rest[0] in "/#"):
                self.targets.append(target)
                return target + rest
        return None

    def value(self, text: str, unmapped: Callable[[str], None]) -> str:
        """``text`` with its mapped prefix, or with each URL inside it mapped."""
        whole = self._prefixed(text)
        if whole is not None:
            return whole

        def one(match: re.Match[str]) -> str:
            mapped = self._prefixed(match[0])
            if mapped is None and match[0].split(":", 1)[0].lower() in UNREACHABLE_SCHEMES:
                unmapped(match[0])
            return match[0] if mapped is None else mapped

        return _URL.sub(one, text)


def is_local(path: str) -> bool:
    """Whether ``path`` names a file of the submitting machine (no scheme, or ``file:``)."""
    return not path.startswith("{") and (path.startswith("file:") or "://" not in path.split("#")[0])
