"""Checking operator arguments and stacking spec layers: what every engine's spec builder shares.

The builders (``spark_spec``, ``flink_spec``, ``ray_spec``) turn DAG authors' arguments into one
custom resource each. What they have in common lives here, once: argument checks that raise a
:class:`MokaJobSpecError` naming the argument (``driver['memory']``, ``args[2]``, ...), Kubernetes
quantities, the architecture, a user's YAML/JSON template read into one document of the expected
kind, and the four-layer stacking rule (connection defaults < application_file < arguments <
spec_overrides) with :func:`~moka_provider.merge.deep_merge`.

What an engine's CRD calls things stays in its own builder; nothing here knows a CRD's fields
beyond ``apiVersion``/``kind``/``metadata``/``spec``. Pure logic: no I/O, and the Kubernetes client
(for CPU quantities) and PyYAML are imported on first use, so that DAG parsing stays light.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from moka_provider.exceptions import MokaJobSpecError
from moka_provider.merge import deep_merge
from moka_provider.resources import CustomResource
from moka_provider.settings import ARCHITECTURES

#: The well-known node label of a node's CPU architecture.
ARCH_LABEL = "kubernetes.io/arch"
#: YuniKorn's scheduler name, and its (canonical, YuniKorn >= 1.6) pod label for the queue.
YUNIKORN = "yunikorn"
YUNIKORN_QUEUE_LABEL = "yunikorn.apache.org/queue"

#: A memory quantity as Kubernetes reads it, with a unit: a bare number would be bytes, and a
#: lowercase ``m`` is milli (``512m`` is half a byte), both certainly mistakes for a pod's memory.
KUBERNETES_MEMORY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)$")


# -- values ----------------------------------------------------------------------------------------


def kind_of(value: Any) -> str:
    """How a wrong value is named in an error: the value itself when short, and its type."""
    if value is None:
        return "None"
    shown = repr(value)
    return f"{shown} ({type(value).__name__})" if len(shown) <= 40 else f"a {type(value).__name__}"


def text(value: Any, argument: str) -> str:
    """A configuration value as text: numbers as written, booleans as ``true``/``false``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise MokaJobSpecError(argument, f"expected a string, number or boolean, got {kind_of(value)}")


def required_text(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MokaJobSpecError(argument, f"expected a non-empty string, got {kind_of(value)}")
    return value


def text_map(values: Any, argument: str) -> dict[str, str]:
    """A mapping of non-empty string keys to :func:`text` values."""
    if not isinstance(values, Mapping):
        raise MokaJobSpecError(argument, f"expected a mapping of strings, got {kind_of(values)}")
    texts = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise MokaJobSpecError(argument, f"keys must be non-empty strings, got {key!r}")
        texts[key] = text(value, f"{argument}[{key!r}]")
    return texts


def count(value: Any, argument: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MokaJobSpecError(argument, f"expected an integer >= {minimum}, got {value!r}")
    return value


def flag(value: Any, argument: str) -> bool:
    if not isinstance(value, bool):
        raise MokaJobSpecError(argument, f"expected True or False, got {value!r}")
    return value


def checked_keys(values: Any, argument: str, allowed: Mapping[str, Any]) -> Mapping[str, Any]:
    """``values`` if it is a mapping with only ``allowed`` keys."""
    if not isinstance(values, Mapping):
        raise MokaJobSpecError(argument, f"expected a mapping, got {kind_of(values)}")
    if unknown := sorted(repr(key) for key in values if key not in allowed):
        raise MokaJobSpecError(
            argument, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )
    return values


def program_arguments(values: Any, argument: str) -> list[str]:
    """A program's command-line arguments: strings, numbers spelled as written (not booleans)."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise MokaJobSpecError(argument, f"expected a list of strings, got {kind_of(values)}")
    texts = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise MokaJobSpecError(
                f"{argument}[{index}]",
                f"expected a string or a number, got {kind_of(value)}"
                + (
                    "; write the text the application expects, e.g. 'true'" if isinstance(value, bool) else ""
                ),
            )
        texts.append(value if isinstance(value, str) else str(value))
    return texts


def string_list(items: Any, argument: str) -> list[str]:
    """A list of non-empty strings (paths, URIs, names); a lone string is refused, not split."""
    if isinstance(items, str) or not isinstance(items, Sequence):
        single = f"; write [{items!r}]" if isinstance(items, str) else ""
        raise MokaJobSpecError(argument, f"expected a list of strings, got {kind_of(items)}{single}")
    return [required_text(item, f"{argument}[{index}]") for index, item in enumerate(items)]


def merged_env(existing: Any, values: Mapping[str, str]) -> list[dict[str, Any]]:
    """A container's ``env``: the template's entries not named in ``values``, then ``values``."""
    kept = [
        entry
        for entry in (existing if isinstance(existing, list) else [])
        if not (isinstance(entry, Mapping) and entry.get("name") in values)
    ]
    return copy.deepcopy(kept) + [{"name": name, "value": value} for name, value in values.items()]


def parse_quantity(text: str) -> Any:
    """A Kubernetes quantity (``500m``, ``2Gi``) as a Decimal, by the Kubernetes client's own parser
    (pure code; the package is imported on first use, as it costs ~0.4 s); ValueError if it is none."""
    from kubernetes.utils import parse_quantity as parse

    return parse(text)


def cpu_quantity(value: Any, argument: str) -> str:
    """A positive Kubernetes CPU quantity (``500m``, ``1.5``, ``2``), checked by the Kubernetes client."""
    shown = (
        str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    )
    if shown:
        try:
            if parse_quantity(shown) > 0:
                return shown
        except ValueError:
            pass
    raise MokaJobSpecError(argument, f"{value!r} is not a CPU quantity; use e.g. '500m', '1.5' or '2'")


def memory_quantity(value: Any, argument: str) -> str:
    """A positive Kubernetes memory quantity with a unit (``512Mi``, ``4Gi``, ``1.5G``)."""
    shown = value.strip() if isinstance(value, str) else None
    if shown and KUBERNETES_MEMORY.match(shown) and float(re.sub(r"[A-Za-z]", "", shown)) > 0:
        return shown
    raise MokaJobSpecError(
        argument,
        f"{value!r} is not a memory quantity; use Kubernetes units such as '512Mi', '4Gi' "
        "(a bare number is bytes, and 'm' is milli)",
    )


def check_architecture(architecture: Any) -> None:
    if architecture is not None and architecture not in ARCHITECTURES:
        raise MokaJobSpecError(
            "architecture", f"{architecture!r} is not a Moka node architecture ({', '.join(ARCHITECTURES)})"
        )


# -- a user's template -------------------------------------------------------------------------


def parse_manifest_text(
    value: str | Mapping[str, Any], resource: CustomResource, argument: str = "application_file"
) -> dict[str, Any]:
    """One ``resource`` document from a dict (copied) or YAML/JSON text.

    Airflow renders a templated ``.yaml``/``.yml``/``.json`` path into the file's content before the
    operator runs, so text is always a document here, never a path.
    """
    if isinstance(value, Mapping):
        document: Any = copy.deepcopy(dict(value))
    elif isinstance(value, str):
        document = _single_document(value, resource, argument)
    else:
        raise MokaJobSpecError(argument, f"expected YAML or JSON text or a mapping, got {kind_of(value)}")
    if not isinstance(document, Mapping):
        hint = ""
        if isinstance(document, str) and document.strip().endswith((".yaml", ".yml", ".json")):
            hint = (
                "; it looks like a file path that was not rendered: pass the file's content, a dict, "
                "or a path relative to the DAG folder on an operator that templates application_file"
            )
        raise MokaJobSpecError(
            argument, f"expected a {resource.kind} document, got {kind_of(document)}{hint}"
        )
    found = (document.get("apiVersion"), document.get("kind"))
    if found != (resource.api_version, resource.kind):
        raise MokaJobSpecError(
            argument,
            f"expected apiVersion {resource.api_version} kind {resource.kind}, "
            f"got apiVersion {found[0]!r} kind {found[1]!r}",
        )
    for part in ("metadata", "spec"):
        if document.get(part) is not None and not isinstance(document[part], Mapping):
            raise MokaJobSpecError(argument, f"{part} must be a mapping, got {kind_of(document[part])}")
    return dict(document)


def _single_document(source: str, resource: CustomResource, argument: str) -> Any:
    if source.lstrip().startswith("{"):
        try:  # JSON first: YAML reads most JSON, but not JSON indented with tabs
            return json.loads(source)
        except ValueError:
            pass  # a YAML flow mapping, or broken JSON that YAML will describe
    try:
        documents = [doc for doc in yaml.safe_load_all(source) if doc is not None]
    except yaml.YAMLError as error:
        raise MokaJobSpecError(argument, f"is not valid YAML or JSON: {error}") from None
    if len(documents) != 1:
        raise MokaJobSpecError(
            argument, f"holds {len(documents)} documents; expected exactly one {resource.kind}"
        )
    return documents[0]


# -- stacking the layers ---------------------------------------------------------------------------


def stacked_spec(
    template_spec: Mapping[str, Any],
    explicit: Mapping[str, Any],
    defaults: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    spec_overrides: Any,
) -> dict[str, Any]:
    """The spec from its four layers: ``defaults`` < ``template_spec`` < ``explicit`` < ``spec_overrides``.

    ``defaults`` is called with what the user's layers say (overrides included) and returns only
    what the connection supplies; it is laid *under* them, so it fills gaps and never replaces.
    At every level the user's keys keep their order, the connection's come after.
    """
    if spec_overrides is not None and not isinstance(spec_overrides, Mapping):
        raise MokaJobSpecError(
            "spec_overrides", f"expected a mapping (part of spec), got {kind_of(spec_overrides)}"
        )
    spec = deep_merge(template_spec, explicit)
    filled = _in_order(deep_merge(defaults(deep_merge(spec, spec_overrides or {})), spec), spec)
    return deep_merge(filled, spec_overrides) if spec_overrides is not None else filled


def _in_order(merged: Any, first: Any) -> Any:
    """``merged`` with the keys of ``first`` first, at every level of mappings."""
    if not (isinstance(merged, dict) and isinstance(first, Mapping)):
        return merged
    ordered = {key: _in_order(merged[key], first[key]) for key in first if key in merged}
    ordered.update((key, value) for key, value in merged.items() if key not in ordered)
    return ordered


def blamed_argument(application_file: Any, spec_overrides: Any) -> str:
    """The layer a problem of the final spec most likely comes from: the last one given."""
    return "spec_overrides" if spec_overrides else "application_file" if application_file else "arguments"


def manifest_of(
    resource: CustomResource, template: Mapping[str, Any], spec: dict[str, Any]
) -> dict[str, Any]:
    """The resource around ``spec``, with the template's labels and annotations (not its name)."""
    metadata = template.get("metadata") or {}
    return {
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": {
            key: copy.deepcopy(metadata[key]) for key in ("labels", "annotations") if metadata.get(key)
        },
        "spec": spec,
    }


def as_int(value: Any) -> int | None:
    """``value`` if it is an integer (not a boolean), else ``None``: for reading a merged spec."""
    return value if type(value) is int else None
