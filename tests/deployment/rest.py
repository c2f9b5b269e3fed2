"""A small client of Airflow's REST API v2, logged in with a token from ``/auth/token``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from tests.integration.conftest import wait_for

TERMINAL_RUN_STATES = {"success", "failed"}


class RestError(RuntimeError):
    def __init__(self, status: int, method: str, path: str, body: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {body[:2000]}")
        self.status = status


class AirflowRest:
    """The calls the deployment tests make; paths are relative to ``/api/v2``."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.username, self.password = username, password
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            body = self._send(
                "POST", f"{self.url}/auth/token", {"username": self.username, "password": self.password}
            )
            self._token = str(body["access_token"])
        return self._token

    def _send(self, method: str, url: str, payload: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise RestError(error.code, method, url, error.read().decode(errors="replace")) from None
        return json.loads(text) if text else None

    def call(self, method: str, path: str, payload: Any = None, **query: Any) -> Any:
        url = f"{self.url}/api/v2{path}"
        if query:
            url += "?" + urlencode(query, doseq=True)
        return self._send(method, url, payload, {"Authorization": f"Bearer {self.token()}"})

    # -- DAGs and runs ------------------------------------------------------------------------------

    def dag_ids(self) -> set[str]:
        return {dag["dag_id"] for dag in self.call("GET", "/dags", limit=1000)["dags"]}

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, prefix: str = "test") -> str:
        """Trigger a run with a unique run id; returns the run id."""
        run_id = f"{prefix}__{uuid.uuid4().hex[:12]}"
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}}
        self.call("POST", f"/dags/{quote(dag_id)}/dagRuns", body)
        return run_id

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}"))

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """The run's final state (``success`` / ``failed``), polled until it has one."""
        return str(self.wait(f"{dag_id} {run_id} to finish", lambda: self._final(dag_id, run_id), timeout))

    def wait_for_success(self, dag_id: str, run_id: str, timeout: float = 600) -> None:
        """Wait for the run to end; if it did not succeed, fail saying why (its tasks' log tails)."""
        state = self.wait_for_run(dag_id, run_id, timeout)
        assert state == "success", f"{dag_id} {run_id}: {state}\n{self.failure_report(dag_id, run_id)}"

    def failure_report(self, dag_id: str, run_id: str, lines: int = 40) -> str:
        """Each unsuccessful task instance of the run with the end of its last try's log."""
        parts = []
        for task_id, ti in self.task_instances(dag_id, run_id).items():
            if ti["state"] != "success":
                tail = self.log(dag_id, run_id, task_id, max(1, int(ti.get("try_number") or 1)))
                parts.append(f"--- {task_id}: {ti['state']}\n" + "\n".join(tail.splitlines()[-lines:]))
        return "\n".join(parts)

    def _final(self, dag_id: str, run_id: str) -> str | None:
        state = self.run(dag_id, run_id)["state"]
        return state if state in TERMINAL_RUN_STATES else None

    # -- task instances -----------------------------------------------------------------------------

    def _ti_path(self, dag_id: str, run_id: str, task_id: str = "") -> str:
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances"
        return f"{path}/{quote(task_id)}" if task_id else path

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.call("GET", self._ti_path(dag_id, run_id, task_id)))

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        """task_id -> task instance, of the run."""
        found = self.call("GET", self._ti_path(dag_id, run_id), limit=1000)["task_instances"]  # not 50 a page
        return {ti["task_id"]: ti for ti in found}

    def wait_for_state(
        self, dag_id: str, run_id: str, task_id: str, states: set[str], timeout: float = 300
    ) -> dict[str, Any]:
        """The task instance once its state is one of ``states``."""

        def check() -> dict[str, Any] | None:
            ti = self.task_instance(dag_id, run_id, task_id)
            return ti if ti["state"] in states else None

        return dict(self.wait(f"{dag_id}.{task_id} in {states}", check, timeout))

    def set_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> Any:
        """Mark a task instance (e.g. ``failed``), as the UI's "Mark as" does."""
        return self.call("PATCH", self._ti_path(dag_id, run_id, task_id), {"new_state": state})

    def clear(self, dag_id: str, run_id: str, task_ids: list[str]) -> Any:
        """Clear task instances of a run (failed ones too), as the UI's "Clear" does."""
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": task_ids,
            "only_failed": False,
            "reset_dag_runs": True,
        }
        return self.call("POST", f"/dags/{quote(dag_id)}/clearTaskInstances", body)

    def links(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """``{"extra_links": {name: URL or None}, ...}``, as the UI reads them."""
        return dict(self.call("GET", self._ti_path(dag_id, run_id, task_id) + "/links"))

    def log_entries(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[dict[str, Any]]:
        """The structured entries of one try's task log, as the UI reads them (all of it)."""
        path = self._ti_path(dag_id, run_id, task_id) + f"/logs/{try_number}"
        content = self.call("GET", path, full_content="true").get("content")
        if isinstance(content, str):
            return [{"event": line} for line in content.splitlines()]
        return [entry if isinstance(entry, dict) else {"event": str(entry)} for entry in content or []]

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """The text of one try's task log, with the exception of an entry that has one."""
        lines = []
        for entry in self.log_entries(dag_id, run_id, task_id, try_number):
            lines.append(str(entry.get("event", "")))
            for error in entry.get("error_detail") or []:
                lines.append(f"{error.get('exc_type')}: {error.get('exc_value')}")
        return "\n".join(lines)

    def triggerer_job_ids(self) -> set[int]:
        """The ids of the live triggerer jobs."""
        found = self.call("GET", "/jobs", job_type="TriggererJob", is_alive="true", limit=100)["jobs"]
        return {int(job["id"]) for job in found}

    # -- helpers ------------------------------------------------------------------------------------

    wait = staticmethod(wait_for)
