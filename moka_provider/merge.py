"""Layering job specs: a later layer overrides an earlier one, key by key.

Builders assemble a resource from layers (connection defaults, a user's template, operator
arguments, raw overrides). :func:`deep_merge` is the one rule for stacking two layers, chosen to be
predictable rather than clever: mappings merge recursively, anything else (lists included) is
replaced as a whole, and ``None`` deletes, so an override can remove a field a template set.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict with ``overlay`` laid over ``base``; neither input is changed or shared.

    - a mapping in both merges recursively;
    - any other value in ``overlay`` (scalar, list, or a mapping over a non-mapping) replaces;
    - a ``None`` value in ``overlay`` removes the key (and is never itself added).
    """
    merged = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping):
            below = merged.get(key)
            merged[key] = deep_merge(below if isinstance(below, Mapping) else {}, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
