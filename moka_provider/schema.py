"""Check a job's ``spec`` against its engine's official CRD before anything is submitted.

The API server validates custom resources with the CRD's ``openAPIV3Schema``; checking the same
schema here turns a broken template or override into one readable task error that lists every
problem, instead of a 422 after the task has started talking to the cluster. ``jsonschema``
(an Airflow dependency) does the work, imported on first use so that DAG parsing stays light.

A CRD schema is OpenAPI v3 with Kubernetes extensions, not plain JSON Schema, so the schema is
adapted once per resource to mean what the API server makes of it:

- ``x-kubernetes-int-or-string``: an integer or a string (any ``pattern`` applies to strings only);
- ``x-kubernetes-preserve-unknown-fields`` keeps unknown fields; elsewhere an object with declared
  ``properties`` is closed and an unknown field is reported. The server would silently drop it,
  which for a typo in an override means a setting that never takes effect: this is the one place
  where we are stricter than the server's default (it is what ``kubectl --validate=strict`` does);
- ``x-kubernetes-list-type``: ``set`` items are unique, ``map`` items unique by their map keys;
- ``null`` values are dropped before checking, as the server prunes them, and a required field
  that has a ``default`` is not reported missing, as the server fills it in;
- ``x-kubernetes-validations`` (CEL rules) and ``format`` are not evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft4Validator, ValidationError, validators

from moka_provider.exceptions import MokaJobSpecError
from moka_provider.resources import CustomResource

_IGNORED_KEYWORDS = frozenset({"description", "x-kubernetes-validations", "example"})
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_against_crd(resource: CustomResource, manifest: Mapping[str, Any], argument: str) -> None:
    """Raise one :class:`MokaJobSpecError` for ``argument`` listing every way ``manifest["spec"]``
    breaks the CRD of ``resource`` (the served version named by ``resource.version``)."""
    spec = manifest.get("spec")
    if spec is None:
        problems = [("spec", "required field missing")]
    else:
        validator = _compiled_validator(resource)
        problems = sorted(
            {
                (_field_path(error.absolute_path), _describe(error))
                for error in validator.iter_errors(_pruned(spec))
            }
        )
    if problems:
        lines = [f"the {resource.kind} does not match its CRD ({resource.api_version}):"]
        lines += [f"  - {path}: {message}" for path, message in problems]
        raise MokaJobSpecError(argument, "\n".join(lines))


@cache
def _compiled_validator(resource: CustomResource) -> Any:
    """The ``jsonschema`` validator of ``resource``'s spec, built once per resource."""
    versions = resource.crd()["spec"]["versions"]
    served = [v for v in versions if v["name"] == resource.version and v.get("served", True)]
    if not served:
        raise ValueError(f"the {resource.crd_name} CRD does not serve version {resource.version}")
    spec_schema = served[0]["schema"]["openAPIV3Schema"]["properties"]["spec"]

    base_additional = Draft4Validator.VALIDATORS["additionalProperties"]

    def additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if allowed is False and validator.is_type(instance, "object"):
            for key in instance:
                if key not in schema.get("properties", {}):
                    yield _error("unknown field (the CRD does not declare it)", key)
        else:
            yield from base_additional(validator, allowed, instance, schema)

    def required(validator: Any, names: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "object"):
            for name in names:
                if name not in instance:
                    yield _error("required field missing", name)

    def int_or_string(validator: Any, enabled: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if enabled and not (validator.is_type(instance, "integer") or validator.is_type(instance, "string")):
            yield _error(f"must be of type integer or string, got {_json_type(instance)}")

    def list_map_keys(validator: Any, keys: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if schema.get("x-kubernetes-list-type") == "map" and validator.is_type(instance, "array"):
            defaults = {k: s.get("default") for k, s in schema.get("items", {}).get("properties", {}).items()}
            seen = set()
            for index, item in enumerate(instance):
                if isinstance(item, Mapping):
                    identity = tuple(
                        json.dumps(item.get(key, defaults.get(key)), sort_keys=True) for key in keys
                    )
                    if identity in seen:
                        shown = ", ".join(f"{key}={value}" for key, value in zip(keys, identity, strict=True))
                        yield _error(f"duplicate entry with {shown}", index)
                    seen.add(identity)

    checker = Draft4Validator.TYPE_CHECKER.redefine_many(
        {
            "array": lambda _, value: isinstance(value, list | tuple),
            "object": lambda _, value: isinstance(value, Mapping),
        }
    )
    kubernetes_validator = validators.extend(
        Draft4Validator,
        validators={
            "additionalProperties": additional_properties,
            "required": required,
            "x-kubernetes-int-or-string": int_or_string,
            "x-kubernetes-list-map-keys": list_map_keys,
        },
        type_checker=checker,
    )
    return kubernetes_validator(_adapted(spec_schema))


def _adapted(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` rewritten so that plain JSON Schema keywords mean what the API server enforces."""
    out = {key: value for key, value in schema.items() if key not in _IGNORED_KEYWORDS}
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        out["properties"] = {name: _adapted(sub) for name, sub in properties.items()}
        out["required"] = [n for n in schema.get("required", []) if "default" not in properties.get(n, {})]
        if not out["required"]:
            del out["required"]
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), Mapping):
            out[key] = _adapted(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            out[key] = [_adapted(sub) for sub in schema[key]]
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        if out.get("anyOf") == _INT_OR_STRING_ANY_OF:
            del out["anyOf"]  # the int_or_string keyword says the same, in words
    if schema.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if _closed(schema):
        out["additionalProperties"] = False
    return out


def _closed(schema: Mapping[str, Any]) -> bool:
    """Whether the API server drops fields of this object that the schema does not declare."""
    return (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
        and not schema.get("x-kubernetes-embedded-resource")
    )


def _pruned(value: Any) -> Any:
    """``value`` without ``null`` mapping entries, which the API server prunes before validating."""
    if isinstance(value, Mapping):
        return {key: _pruned(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_pruned(item) for item in value]
    return value


def _error(message: str, *path: str | int) -> Any:
    return ValidationError(message, path=path)


def _describe(error: Any) -> str:
    """One plain sentence for a ``jsonschema`` error, without repeating the path."""
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"must be of type {wanted}, got {_json_type(instance)}"
    if keyword == "enum":
        return f"unsupported value {_shown(instance)}; supported values: {_listed(expected)}"
    if keyword in ("minimum", "maximum"):
        relation = "greater" if keyword == "minimum" else "less"
        exclusive = error.schema.get(f"exclusive{keyword.capitalize()}")
        return f"must be {relation} than {'' if exclusive else 'or equal to '}{expected}, got {instance}"
    if keyword == "pattern":
        return f"{_shown(instance)} does not match the pattern {expected}"
    if keyword in ("minLength", "maxLength"):
        bound = "at least" if keyword == "minLength" else "at most"
        return f"must be {bound} {expected} characters long"
    if keyword in ("minItems", "maxItems", "minProperties", "maxProperties"):
        bound = "at least" if keyword.startswith("min") else "at most"
        what = "items" if keyword.endswith("Items") else "entries"
        return f"must have {bound} {expected} {what}"
    if keyword == "uniqueItems":
        return "must not repeat an item (a set-type list)"
    return str(error.message)


def _field_path(path: Iterable[str | int]) -> str:
    """``spec.driver.env[0].name`` style: a Kubernetes field path from the spec's root."""
    text = "spec"
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}"
        else:
            text += f"[{part}]"
    return text


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _shown(value: Any) -> str:
    return (
        json.dumps(value)
        if isinstance(value, str | int | float | bool) or value is None
        else _json_type(value)
    )


def _listed(values: Iterable[Any]) -> str:
    return ", ".join(_shown(value) for value in values)
