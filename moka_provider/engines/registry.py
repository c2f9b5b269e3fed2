"""The engines Moka runs, by name: the one line a new engine adds."""

from __future__ import annotations

from moka_provider.engines.base import EngineAdapter
from moka_provider.engines.flink import FlinkAdapter, FlinkSessionJobAdapter
from moka_provider.engines.ray import RayAdapter
from moka_provider.engines.spark import SparkAdapter

ADAPTERS: dict[str, EngineAdapter] = {
    adapter.engine: adapter
    for adapter in (SparkAdapter(), FlinkAdapter(), FlinkSessionJobAdapter(), RayAdapter())
}


def adapter_for(engine: str) -> EngineAdapter:
    try:
        return ADAPTERS[engine]
    except KeyError:
        raise ValueError(f"unknown engine {engine!r}; Moka runs {', '.join(sorted(ADAPTERS))}") from None
