"""Test-session fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytest_plugins = ["tests.deployment.fixtures"]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared reference data (official CRDs, upstream example manifests)."""
    path = Path(os.environ.get("MOKA_SHARED_DIR") or REPO.parent / "shared")
    if not (path / "crds").is_dir():
        pytest.skip(f"shared reference data not found at {path} (set MOKA_SHARED_DIR)")
    return path
