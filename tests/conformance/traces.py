"""Conformance traces (``traces/<engine>/<scenario>.yaml``, format in README.md), loaded and filled in.

Shared by the trace player, the conformance DAG (one task per trace and way of waiting) and the
tests that judge the outcome.
"""

from __future__ import annotations

import datetime
import secrets
import string
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TRACES = Path(__file__).parent / "traces"
#: The label that tells the trace player which trace a job plays (``<engine>.<scenario>``).
TRACE_LABEL = "conformance.moka.dev/trace"
#: How each trace is waited for: the engine's operator in a worker, the same deferred, the sensor.
MODES = ("worker", "deferred", "sensor")
ENGINES = ("spark", "flink", "flink_session", "ray")
STEP_KINDS = ("status", "pod", "delete_pod", "event", "delete")
#: libyaml's loader where PyYAML has it: the DAG that runs the traces parses them at every task start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Trace:
    key: str  # "<folder>.<scenario>", a label value
    engine: str
    title: str
    spec: dict[str, Any]
    operator_args: dict[str, Any]
    expect: dict[str, Any]
    steps: list[dict[str, Any]]
    path: Path = field(compare=False)
    #: Played as soon as the job exists, not once its waiter watches (a job gone before anyone looked).
    play_at_once: bool = False

    @property
    def scenario(self) -> str:
        return self.key.split(".", 1)[1]

    def task_id(self, mode: str) -> str:
        return f"{self.key.replace('.', '__')}__{mode}"

    @property
    def sensor_job_name(self) -> str:
        """The job the player creates for the sensor to watch (short enough for every engine)."""
        return f"conf-{self.engine[:2]}-{self.scenario.replace('_', '-')}"[:40].rstrip("-")


def load(path: Path) -> Trace:
    raw = yaml.load(path.read_text(), Loader=_LOADER)
    key = f"{path.parent.name}.{path.stem}"
    problems = [f"{key}: unknown engine {raw.get('engine')!r}"] if raw.get("engine") not in ENGINES else []
    for index, step in enumerate(raw.get("steps") or []):
        kinds = [kind for kind in STEP_KINDS if kind in step]
        if len(kinds) != 1:
            problems.append(f"{key} step {index}: one of {STEP_KINDS} expected, found {sorted(step)}")
        if not step.get("cite") and "delete" not in step:
            problems.append(f"{key} step {index}: no citation")
    if (raw.get("expect") or {}).get("task") not in ("success", "failed"):
        problems.append(f"{key}: expect.task must be success or failed")
    if problems:
        raise ValueError("; ".join(problems))
    return Trace(
        key=key,
        engine=raw["engine"],
        title=raw.get("title") or key,
        spec=raw.get("spec") or {},
        operator_args=raw.get("operator_args") or {},
        expect=raw["expect"],
        steps=raw["steps"],
        path=path,
        play_at_once=raw.get("play") == "at_once",
    )


def all_traces() -> list[Trace]:
    return [load(path) for path in sorted(TRACES.glob("*/*.yaml"))]


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def job_values(job: dict[str, Any]) -> dict[str, str]:
    """The placeholder values fixed for one job's whole trace (``${now}`` is added per step)."""
    lower = string.ascii_lowercase + string.digits
    return {
        "name": job["metadata"]["name"],
        "namespace": job["metadata"]["namespace"],
        "uid": job["metadata"]["uid"],
        "job_id": uuid.uuid4().hex,
        "job_id_2": uuid.uuid4().hex,
        "app_id": f"spark-{uuid.uuid4().hex}",
        "rs_hash": _random(lower, 10),
        "pod_hash": _random(lower, 5),
    }


def fill(value: Any, values: dict[str, str]) -> Any:
    """``value`` with ``${...}`` placeholders filled in every string, ``None`` fields dropped (as
    the operators' JSON encoders omit them)."""
    if isinstance(value, str):
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return string.Template(value).safe_substitute(values, now=now)
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    return value
