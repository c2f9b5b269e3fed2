"""submit_or_adopt and with_identity against an in-memory hook: one job per task instance."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from moka_provider.engines.spark import SparkAdapter
from moka_provider.exceptions import MokaApiError, MokaJobSpecError
from moka_provider.jobs.identity import ATTEMPT_LABEL, JOB_KEY_LABEL, JobIdentity
from moka_provider.jobs.submission import submit_or_adopt, with_identity
from moka_provider.resources import CustomResource

ADAPTER = SparkAdapter()
IDENTITY = JobIdentity("etl", "load", "scheduled__2024-01-01T00:00:00+00:00", -1)
OTHER = JobIdentity("etl", "other_task", "scheduled__2024-01-01T00:00:00+00:00", -1)
NAMESPACE = "moka"

MANIFEST: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {
        "namespace": "from-the-template",
        "labels": {"team": "data", ATTEMPT_LABEL: "stale"},
        "annotations": {"owner": "alice"},
    },
    "spec": {"type": "Python", "mainApplicationFile": "local:///app.py", "arguments": ["1"]},
}


class FakeHook:
    """The list/create/get part of MokaHook, in memory."""

    def __init__(self, jobs: list[dict[str, Any]] | None = None) -> None:
        self.jobs = list(jobs or [])
        self.created: list[dict[str, Any]] = []
        self.create_error: MokaApiError | None = None
        #: Jobs another process creates after our list: only get() sees them.
        self.created_meanwhile: list[dict[str, Any]] = []
        self.calls: list[tuple[Any, ...]] = []

    def list(self, resource: CustomResource, namespace: str, *, label_selector: str) -> list[dict]:
        self.calls.append(("list", resource, namespace, label_selector))
        key, _, value = label_selector.partition("=")
        return [
            copy.deepcopy(job)
            for job in self.jobs
            if job["metadata"]["namespace"] == namespace and job["metadata"]["labels"].get(key) == value
        ]

    def create(self, resource: CustomResource, body: dict[str, Any], namespace: str) -> dict:
        self.calls.append(("create", resource, namespace, body["metadata"]["name"]))
        if self.create_error is not None:
            raise self.create_error
        job = copy.deepcopy(body)
        job["metadata"].update(namespace=namespace, uid=f"uid-{len(self.created)}")
        self.created.append(job)
        self.jobs.append(job)
        return copy.deepcopy(job)

    def get(self, resource: CustomResource, name: str, namespace: str) -> dict:
        self.calls.append(("get", resource, namespace, name))
        for job in self.jobs + self.created_meanwhile:
            if job["metadata"]["name"] == name and job["metadata"]["namespace"] == namespace:
                return copy.deepcopy(job)
        raise MokaApiError(f"get {name}", 404, "NotFound", "not found")


def existing(
    attempt: int,
    state: str | None,
    *,
    identity: JobIdentity = IDENTITY,
    deleting: bool = False,
    name: str | None = None,
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "metadata": {
            "name": name or identity.job_name(ADAPTER.max_name_length, attempt=attempt),
            "namespace": NAMESPACE,
            "uid": f"uid-attempt-{attempt}",
            "labels": identity.labels(attempt),
        },
        "spec": {},
    }
    if deleting:
        job["metadata"]["deletionTimestamp"] = "2024-01-01T01:00:00Z"
    if state is not None:
        job["status"] = {"applicationState": {"state": state}}
    return job


def already_exists(name: str) -> MokaApiError:
    return MokaApiError(f"create SparkApplication moka/{name}", 409, "AlreadyExists", "already exists")


def submit(hook: FakeHook, base_name: str | None = None, messages: list[str] | None = None):
    log = (messages if messages is not None else []).append
    return submit_or_adopt(hook, ADAPTER, MANIFEST, IDENTITY, NAMESPACE, base_name, log)


# --- adopting ------------------------------------------------------------------------------------------


def test_adopts_the_newest_non_terminal_job_that_is_not_being_deleted():
    hook = FakeHook(
        [
            existing(3, "RUNNING", deleting=True),
            existing(1, "FAILED"),
            existing(2, "RUNNING"),
            existing(4, "COMPLETED"),
            existing(1, "RUNNING", identity=OTHER),  # another task's job
        ]
    )
    messages: list[str] = []

    submission = submit(hook, messages=messages)

    assert submission.adopted is True
    assert submission.job["metadata"]["uid"] == "uid-attempt-2"
    assert submission.name == IDENTITY.job_name(ADAPTER.max_name_length, attempt=2)
    assert submission.namespace == NAMESPACE
    assert hook.created == []
    assert any("adopting" in message for message in messages)


def test_adopts_the_newest_of_two_running_attempts():
    hook = FakeHook([existing(2, "SUBMITTED"), existing(1, "RUNNING")])

    submission = submit(hook)

    assert submission.adopted is True
    assert submission.job["metadata"]["uid"] == "uid-attempt-2"


@pytest.mark.parametrize("state", [None, "", "SUBMISSION_FAILED", "PENDING_RERUN", "FAILING"])
def test_a_job_on_its_way_is_adopted_whatever_its_transient_state(state: str | None):
    hook = FakeHook([existing(1, state)])

    submission = submit(hook)

    assert submission.adopted is True
    assert hook.created == []


def test_lists_by_the_job_key_in_the_namespace():
    hook = FakeHook()

    submit(hook)

    assert hook.calls[0] == ("list", ADAPTER.resource, NAMESPACE, f"{JOB_KEY_LABEL}={IDENTITY.key}")


# --- creating ------------------------------------------------------------------------------------------


def test_no_history_creates_attempt_one():
    hook = FakeHook([existing(1, "RUNNING", identity=OTHER)])
    messages: list[str] = []

    submission = submit(hook, messages=messages)

    assert submission.adopted is False
    [created] = hook.created
    assert created["metadata"]["name"] == IDENTITY.job_name(ADAPTER.max_name_length, attempt=1)
    assert created["metadata"]["labels"][ATTEMPT_LABEL] == "1"
    assert created["metadata"]["namespace"] == NAMESPACE
    assert submission.job == created
    assert any("attempt 1" in message for message in messages)


def test_terminal_history_creates_the_next_attempt():
    hook = FakeHook([existing(2, "COMPLETED"), existing(1, "FAILED"), existing(3, "FAILED")])

    submission = submit(hook, base_name="spark-pi")

    assert submission.adopted is False
    [created] = hook.created
    metadata = created["metadata"]
    assert metadata["name"] == IDENTITY.job_name(ADAPTER.max_name_length, "spark-pi", 4)
    assert metadata["name"] == f"spark-pi-{IDENTITY.key[:8]}-4"
    assert metadata["labels"][ATTEMPT_LABEL] == "4"
    assert metadata["labels"][JOB_KEY_LABEL] == IDENTITY.key
    assert metadata["labels"]["team"] == "data"
    assert metadata["annotations"]["moka.dev/run-id"] == IDENTITY.run_id
    assert created["spec"] == MANIFEST["spec"]


def test_a_task_id_starting_with_a_digit_creates_a_job_named_from_a_letter():
    identity = JobIdentity("etl", "1st_load", "scheduled__2024-01-01T00:00:00+00:00", -1)
    hook = FakeHook()

    submission = submit_or_adopt(hook, ADAPTER, MANIFEST, identity, NAMESPACE, None, lambda message: None)

    [created] = hook.created
    assert created["metadata"]["name"] == f"job-1st-load-{identity.key[:8]}"
    assert submission.name == created["metadata"]["name"]


def test_a_user_name_starting_with_a_digit_is_rejected_before_anything_is_created():
    hook = FakeHook()

    with pytest.raises(MokaJobSpecError) as raised:
        submit(hook, base_name="1st-job")

    assert raised.value.argument == "name"
    assert hook.created == []
    assert not any(call[0] == "create" for call in hook.calls)


def test_a_running_job_being_deleted_is_history_not_adopted():
    hook = FakeHook([existing(1, "FAILED"), existing(2, "RUNNING", deleting=True)])

    submission = submit(hook)

    assert submission.adopted is False
    assert hook.created[0]["metadata"]["labels"][ATTEMPT_LABEL] == "3"
    assert submission.name.endswith("-3")


# --- 409 on create -------------------------------------------------------------------------------------


def test_conflict_with_our_own_job_adopts_it():
    name = IDENTITY.job_name(ADAPTER.max_name_length, attempt=1)
    hook = FakeHook()
    # Another try created it between our list and our create.
    hook.created_meanwhile.append(existing(1, "SUBMITTED"))
    hook.create_error = already_exists(name)
    messages: list[str] = []

    submission = submit(hook, messages=messages)

    assert submission.adopted is True
    assert submission.job["metadata"]["uid"] == "uid-attempt-1"
    assert ("get", ADAPTER.resource, NAMESPACE, name) in hook.calls
    assert any("adopting" in message for message in messages)


def test_conflict_with_another_tasks_object_is_an_error():
    name = IDENTITY.job_name(ADAPTER.max_name_length, attempt=1)
    hook = FakeHook([existing(1, "RUNNING", identity=OTHER, name=name)])
    original = already_exists(name)
    hook.create_error = original

    with pytest.raises(MokaApiError) as raised:
        submit(hook)

    assert raised.value.status == 409
    assert raised.value.reason == "AlreadyExists"
    assert raised.value is not original
    assert raised.value.__cause__ is original
    assert "another task" in raised.value.message
    assert name in raised.value.operation


def test_other_create_errors_are_raised_as_they_are():
    hook = FakeHook()
    forbidden = MokaApiError("create SparkApplication moka/x", 403, "Forbidden", "no")
    hook.create_error = forbidden

    with pytest.raises(MokaApiError) as raised:
        submit(hook)

    assert raised.value is forbidden
    assert not any(call[0] == "get" for call in hook.calls)


# --- with_identity -------------------------------------------------------------------------------------


def test_with_identity_does_not_mutate_the_manifest():
    before = copy.deepcopy(MANIFEST)

    body = with_identity(MANIFEST, IDENTITY, ADAPTER, None, 2)
    body["spec"]["arguments"].append("2")
    body["metadata"]["labels"]["team"] = "changed"

    assert before == MANIFEST


def test_with_identity_names_labels_annotates_and_drops_the_namespace():
    body = with_identity(MANIFEST, IDENTITY, ADAPTER, "spark-pi", 2)
    metadata = body["metadata"]

    assert "namespace" not in metadata
    assert metadata["name"] == f"spark-pi-{IDENTITY.key[:8]}-2"
    assert metadata["labels"] == {"team": "data", **IDENTITY.labels(2)}
    assert metadata["labels"][ATTEMPT_LABEL] == "2"  # the template's value does not win
    assert metadata["annotations"] == {"owner": "alice", **IDENTITY.annotations()}


def test_with_identity_on_a_manifest_without_metadata():
    body = with_identity({"spec": {}}, IDENTITY, ADAPTER, None, 1)

    assert body["metadata"]["name"] == IDENTITY.job_name(ADAPTER.max_name_length)
    assert body["metadata"]["labels"] == IDENTITY.labels(1)


# --- what a 404 means -------------------------------------------------------------------------------


def test_a_404_on_listing_says_which_crd_the_cluster_lacks():
    class NoCrd(FakeHook):
        def list(self, resource: CustomResource, namespace: str, *, label_selector: str) -> list[dict]:
            raise MokaApiError(
                f"list {resource.kind} in {namespace}",
                404,
                "NotFound",
                "the server could not find the requested resource",
            )

    with pytest.raises(MokaApiError) as raised:
        submit(NoCrd())

    assert raised.value.status == 404
    assert "sparkapplications.sparkoperator.k8s.io is not installed" in str(raised.value)
    assert "spark-operator installs it" in str(raised.value)


def test_a_404_on_create_in_a_missing_namespace_says_so():
    hook = FakeHook()
    hook.create_error = MokaApiError(
        "create SparkApplication moka/x", 404, "NotFound", 'namespaces "moka" not found'
    )

    with pytest.raises(MokaApiError) as raised:
        submit(hook)

    assert "namespace 'moka' does not exist on the cluster" in str(raised.value)
    assert "CRD" not in str(raised.value)
