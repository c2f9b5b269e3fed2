"""Unit-test fixtures: the engines' original CRDs and upstream examples, and checked spec builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from moka_provider.exceptions import MokaJobSpecError
from moka_provider.resources import CustomResource
from moka_provider.schema import validate_against_crd
from moka_provider.settings import MokaSettings


@dataclass(frozen=True)
class OriginalCrd(CustomResource):
    """A custom resource whose CRD is read from the upstream YAML, not from the packaged copy."""

    path: str = ""

    def crd(self) -> dict[str, Any]:
        crd: dict[str, Any] = yaml.load(Path(self.path).read_text(), Loader=yaml.CSafeLoader)
        return crd


@pytest.fixture(scope="session")
def original_crd(shared_dir: Path) -> Callable[[CustomResource], OriginalCrd]:
    """``resource`` with the CRD file of the shared reference data (``validate_against_crd`` takes it)."""

    def original(resource: CustomResource) -> OriginalCrd:
        (path,) = sorted((shared_dir / "crds").glob(f"*{resource.plural}*.y*ml"))
        return OriginalCrd(resource.kind, resource.group, resource.version, resource.plural, path=str(path))

    return original


@pytest.fixture(scope="session")
def upstream_documents(shared_dir: Path) -> Callable[[str, CustomResource], list[tuple[str, dict[str, Any]]]]:
    """``(file name, document)`` of every ``resource`` in the upstream examples of ``engine``."""

    def documents(engine: str, resource: CustomResource) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for path in sorted((shared_dir / "upstream-examples" / engine).glob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text()):
                if document and (document.get("apiVersion"), document.get("kind")) == (
                    resource.api_version,
                    resource.kind,
                ):
                    found.append((path.name, document))
        return found

    return documents


@pytest.fixture(scope="session")
def checked_builder(
    original_crd: Callable[[CustomResource], OriginalCrd],
) -> Callable[..., Callable[..., dict[str, Any]]]:
    """``checked_builder(builder, resource, settings)``: the builder with ``settings`` as its default
    connection, checking that every manifest it returns is a nameless ``resource`` its original CRD accepts."""

    def checked(builder: Callable[..., dict[str, Any]], resource: CustomResource, default: MokaSettings):
        def build(settings: MokaSettings = default, **arguments: Any) -> dict[str, Any]:
            manifest = builder(settings=settings, **arguments)
            validate_against_crd(original_crd(resource), manifest, argument="test")
            assert (manifest["apiVersion"], manifest["kind"]) == (resource.api_version, resource.kind)
            assert "name" not in manifest["metadata"] and "namespace" not in manifest["metadata"]
            return manifest

        return build

    return checked


def _raised(builder: Callable[..., Any], settings: MokaSettings, **arguments: Any) -> MokaJobSpecError:
    with pytest.raises(MokaJobSpecError) as caught:
        builder(settings=settings, **arguments)
    return caught.value


@pytest.fixture(scope="session")
def spec_error() -> Callable[..., MokaJobSpecError]:
    """``spec_error(builder, settings, **arguments)``: the MokaJobSpecError the builder raises."""
    return _raised


@pytest.fixture(scope="session")
def named_error() -> Callable[..., MokaJobSpecError]:
    """``named_error(builder, settings, argument, fragment, **arguments)``: the builder's error, which
    must name ``argument`` and say ``fragment``."""

    def named(
        builder: Callable[..., Any], settings: MokaSettings, argument: str, fragment: str, **arguments: Any
    ) -> MokaJobSpecError:
        error = _raised(builder, settings, **arguments)
        assert (error.argument, str(error).startswith(f"argument {argument!r}: ")) == (argument, True)
        assert fragment in error.problem
        return error

    return named


@pytest.fixture(scope="session")
def connection() -> MokaSettings:
    """A ``moka`` connection with every default set: queue, job account, each engine's image and version."""
    return MokaSettings.from_extras(
        {
            "queue": "root.team-a",
            "service_account": "job-runner",
            "flink_image": "registry.example/flink:1.20-{arch}",
            "flink_version": "1.20",
            "ray_image": "registry.example/ray:2.52.0-{arch}",
            "ray_version": "2.52.0",
        }
    )


@pytest.fixture
def crd_check_argument(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """``crd_check_argument(module, builder, settings, **arguments)``: the argument a builder's CRD
    check names (the layer a schema problem is blamed on)."""

    def blamed(module: Any, builder: Callable[..., Any], settings: MokaSettings, **arguments: Any) -> str:
        seen: list[str] = []
        monkeypatch.setattr(
            module, "validate_against_crd", lambda resource, manifest, argument: seen.append(argument)
        )
        builder(settings=settings, **arguments)
        (argument,) = seen
        return argument

    return blamed


@pytest.fixture(autouse=True)
def no_recent_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no API outage seen before it (``OutageWait`` remembers the last one)."""
    from moka_provider.hooks import retrying

    monkeypatch.setattr(retrying, "_last_outage", None)
