"""The package's CRD copies (moka_provider/data/crds/*.json) are up to date with the reference YAML.

If this fails, re-run ``python scripts/derive_crds.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import moka_provider
from moka_provider.resources import ALL_RESOURCES

PACKAGE_CRDS = Path(moka_provider.__file__).resolve().parent / "data" / "crds"


def shared_crds() -> Path:
    shared = Path(os.environ.get("MOKA_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
    crds = shared / "crds"
    if not crds.is_dir():
        pytest.skip(f"shared reference CRDs not found at {crds} (set MOKA_SHARED_DIR)")
    return crds


def reference_crds() -> dict[str, Any]:
    by_name = {}
    for path in sorted(shared_crds().glob("*.y*ml")):
        crd = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        by_name[crd["metadata"]["name"]] = crd
    return by_name


def test_package_has_one_json_per_resource():
    assert sorted(path.name for path in PACKAGE_CRDS.glob("*.json")) == sorted(
        f"{resource.crd_name}.json" for resource in ALL_RESOURCES
    )


def test_package_crds_equal_the_reference_yaml():
    reference = reference_crds()

    for resource in ALL_RESOURCES:
        assert resource.crd_name in reference, f"no reference CRD for {resource.crd_name}"
        derived = json.loads((PACKAGE_CRDS / f"{resource.crd_name}.json").read_text())
        assert derived == reference[resource.crd_name], (
            f"{resource.crd_name}.json is out of date: run scripts/derive_crds.py"
        )
