"""Derive the package's copy of the official CRDs from ``../shared/crds``.

pip users have no ``shared/`` directory, so the package carries the CRDs it needs at run time
(to install them in ``moka local`` and, later, to validate specs). The files are the upstream
YAML converted to compact JSON, content unchanged; re-run this script when ``shared/crds`` changes:

    python scripts/derive_crds.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from moka_provider.resources import ALL_RESOURCES

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "moka_provider" / "data" / "crds"


def derive(shared: Path) -> list[Path]:
    wanted = {resource.crd_name for resource in ALL_RESOURCES}
    written = []
    for source in sorted((shared / "crds").glob("*.y*ml")):
        crd = yaml.load(source.read_text(), Loader=yaml.CSafeLoader)
        name = crd["metadata"]["name"]
        if name not in wanted:
            continue
        target = TARGET / f"{name}.json"
        target.write_text(json.dumps(crd, separators=(",", ":")) + "\n")
        written.append(target)
        wanted.discard(name)
    if wanted:
        raise SystemExit(f"missing CRDs in {shared / 'crds'}: {sorted(wanted)}")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    for path in derive(parser.parse_args().shared):
        print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
