"""``moka_conformance``: every conformance trace (``tests/conformance/traces``) waited for three ways.

For each trace: the engine's operator in a worker (``<trace>__worker``), the same deferred in the
triggerer (``<trace>__deferred``), and ``MokaJobSensor`` deferred on a job the trace player made
(``<trace>__sensor``). The trace player, run by the test, writes what the real operator would.
"""

from __future__ import annotations

from airflow.sdk import DAG

from tests.conformance.cases import job_operator, sensor
from tests.conformance.traces import all_traces

with DAG("moka_conformance", schedule=None, catchup=False, tags=["moka", "test"], max_active_tasks=64):
    for trace in all_traces():
        job_operator(trace, trace.task_id("worker"), deferrable=False)
        job_operator(trace, trace.task_id("deferred"), deferrable=True)
        sensor(trace, trace.task_id("sensor"))
