"""Translating Kubernetes API failures into MokaApiError, and what MokaApiError tells its reader."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes_asyncio.client.exceptions import ApiException as AsyncApiException
from urllib3 import HTTPHeaderDict

from moka_provider.exceptions import RETRYABLE_STATUSES, FieldProblem, MokaApiError
from moka_provider.hooks.api_errors import from_api_exception, from_response, from_transport_error

OPERATION = "create SparkApplication moka/x"

SERVER_MESSAGE = (
    'SparkApplication.sparkoperator.k8s.io "x" is invalid: spec.driver.cores: Invalid value: "string": '
    'spec.driver.cores in body must be of type integer: "string"'
)

#: What a kube-apiserver answers to a SparkApplication whose spec.driver.cores is a string.
INVALID_STATUS = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": SERVER_MESSAGE,
    "reason": "Invalid",
    "details": {
        "name": "x",
        "group": "sparkoperator.k8s.io",
        "kind": "SparkApplication",
        "causes": [
            {
                "reason": "FieldValueTypeInvalid",
                "message": 'Invalid value: "string": spec.driver.cores in body must be of type integer: "string"',
                "field": "spec.driver.cores",
            }
        ],
    },
    "code": 422,
}


def status_body(code: int, reason: str, message: str, **details) -> str:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return json.dumps(body)


@pytest.mark.parametrize("encode", [False, True], ids=["str", "bytes"])
def test_invalid_spec_names_the_field_once(encode):
    text_body = json.dumps(INVALID_STATUS)
    body = text_body.encode() if encode else text_body

    error = from_response(OPERATION, 422, "Unprocessable Entity", body, None)

    assert error.status == 422
    assert error.reason == "Invalid"
    assert error.message == 'SparkApplication.sparkoperator.k8s.io "x" is invalid'
    assert [problem.field for problem in error.problems] == ["spec.driver.cores"]
    problem = error.problems[0].message
    assert "must be of type integer" in problem
    assert "string" in problem  # what was sent instead
    assert "in body" not in problem
    text = str(error)
    assert text.startswith(f"{OPERATION} failed (HTTP 422 Invalid): ")
    assert "  - spec.driver.cores: " in text
    assert "must be of type integer" in text
    assert "spec.driver.cores in body" not in text
    assert text.count("spec.driver.cores") == 1
    assert not error.retryable
    assert error.hint is None


def test_from_api_exception_reads_the_sync_client_exception():
    exception = ApiException(status=422, reason="Unprocessable Entity")
    exception.body = json.dumps(INVALID_STATUS)
    exception.headers = HTTPHeaderDict({"Content-Type": "application/json"})

    error = from_api_exception(exception, OPERATION)

    assert isinstance(error, MokaApiError)
    assert error.operation == OPERATION
    assert error.status == 422
    assert error.reason == "Invalid"
    assert [p.field for p in error.problems] == ["spec.driver.cores"]


def test_from_api_exception_reads_the_async_client_exception():
    exception = AsyncApiException(status=404, reason="Not Found")
    exception.body = status_body(
        404, "NotFound", 'sparkapplications.sparkoperator.k8s.io "gone" not found', name="gone"
    ).encode()

    error = from_api_exception(exception, "get SparkApplication moka/gone")

    assert error.not_found
    assert error.reason == "NotFound"
    assert error.message == 'sparkapplications.sparkoperator.k8s.io "gone" not found'
    assert str(error) == (
        "get SparkApplication moka/gone failed (HTTP 404 NotFound): "
        'sparkapplications.sparkoperator.k8s.io "gone" not found'
    )


@pytest.mark.parametrize("status", [0, None])
def test_from_api_exception_without_status_is_unreachable(status):
    # The sync client reports a TLS failure as ApiException(status=0) with the cause as its reason.
    exception = ApiException(
        status=status, reason="(SSL: CERTIFICATE_VERIFY_FAILED)\ncertificate verify failed"
    )

    error = from_api_exception(exception, OPERATION)

    assert error.status is None
    assert error.reason == "Unreachable"
    assert "CERTIFICATE_VERIFY_FAILED" in error.message
    assert "\n" not in error.message
    assert error.retryable


def test_not_found():
    error = from_response(OPERATION, 404, "Not Found", status_body(404, "NotFound", "x not found"), None)

    assert error.not_found
    assert not error.already_exists
    assert not error.retryable


def test_already_exists():
    body = status_body(409, "AlreadyExists", 'sparkapplications.sparkoperator.k8s.io "x" already exists')

    error = from_response(OPERATION, 409, "Conflict", body, None)

    assert error.already_exists
    assert not error.not_found
    assert not error.retryable


def test_conflict_that_is_not_already_exists():
    body = status_body(409, "Conflict", "the object has been modified; please apply your changes")

    error = from_response(OPERATION, 409, "Conflict", body, None)

    assert not error.already_exists
    assert error.reason == "Conflict"


@pytest.mark.parametrize("seconds", ["7", "2.5", "0"])
def test_retry_after_header_in_seconds(seconds):
    body = status_body(429, "TooManyRequests", "too many requests")

    error = from_response(OPERATION, 429, "Too Many Requests", body, {"Retry-After": seconds})

    assert error.retry_after == float(seconds)
    assert error.retryable


def test_retry_after_header_is_read_case_insensitively_from_client_headers():
    headers = HTTPHeaderDict({"retry-after": "3"})

    error = from_response(OPERATION, 429, "Too Many Requests", None, headers)

    assert error.retry_after == 3.0


@pytest.mark.parametrize("usegmt", [False, True], ids=["+0000", "GMT"])
def test_retry_after_header_as_http_date(usegmt):
    when = datetime.now(UTC) + timedelta(seconds=30)

    error = from_response(
        OPERATION, 503, "Service Unavailable", None, {"Retry-After": format_datetime(when, usegmt=usegmt)}
    )

    # The date has whole seconds, so up to one second is lost; allow for a slow machine too.
    assert error.retry_after is not None
    assert 27.0 < error.retry_after <= 30.0


def test_retry_after_date_in_the_past_is_zero():
    when = datetime.now(UTC) - timedelta(minutes=5)

    error = from_response(OPERATION, 503, "Service Unavailable", None, {"Retry-After": format_datetime(when)})

    assert error.retry_after == 0.0


@pytest.mark.parametrize("style", ["asctime", "minus-zero-zone"])
def test_retry_after_in_other_http_date_formats(style):
    when = datetime.now(UTC) + timedelta(seconds=30)
    if style == "asctime":  # RFC 9110 5.6.7: recipients must accept this obsolete HTTP-date format
        value = when.strftime("%a %b %d %H:%M:%S %Y")
    else:
        value = format_datetime(when.replace(tzinfo=None))  # "... -0000"

    error = from_response(OPERATION, 503, "Service Unavailable", None, {"Retry-After": value})

    assert error.retry_after is not None
    assert 27.0 < error.retry_after <= 30.0


def test_unreadable_retry_after_is_ignored():
    error = from_response(OPERATION, 429, "Too Many Requests", None, {"Retry-After": "soon"})

    assert error.retry_after is None
    assert error.retryable


def test_retry_after_from_status_details():
    body = status_body(429, "TooManyRequests", "please slow down", retryAfterSeconds=4)

    error = from_response(OPERATION, 429, "Too Many Requests", body, {})

    assert error.retry_after == 4.0


def test_retry_after_header_wins_over_status_details():
    body = status_body(429, "TooManyRequests", "please slow down", retryAfterSeconds=4)

    error = from_response(OPERATION, 429, "Too Many Requests", body, {"Retry-After": "9"})

    assert error.retry_after == 9.0


def test_no_retry_after():
    error = from_response(OPERATION, 500, "Internal Server Error", status_body(500, "InternalError", "x"), {})

    assert error.retry_after is None


@pytest.mark.parametrize("status", [401, 403])
def test_access_denied_carries_the_access_hint(status):
    body = status_body(
        status,
        "Forbidden",
        'sparkapplications.sparkoperator.k8s.io is forbidden: User "airflow" cannot create resource',
    )

    error = from_response(OPERATION, status, "Forbidden", body, None)

    assert error.hint is not None
    assert "airflow-role.yaml" in error.hint
    assert str(error).endswith(error.hint)
    assert not error.retryable


def test_other_errors_have_no_hint():
    error = from_response(OPERATION, 404, "Not Found", None, None)

    assert error.hint is None
    assert "airflow-role.yaml" not in str(error)


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>502 Bad Gateway</body></html>",
        b"upstream connect error",
        "{not json",
        "[1, 2]",
        "",
        None,
    ],
)
def test_non_status_body_falls_back_to_the_reason(body):
    error = from_response(OPERATION, 502, "Bad Gateway", body, None)

    assert error.reason == "Bad Gateway"
    assert error.message == "Bad Gateway"
    assert error.problems == []
    assert str(error) == f"{OPERATION} failed (HTTP 502 Bad Gateway): Bad Gateway"


def test_no_reason_and_no_body():
    error = from_response(OPERATION, 500, None, None, None)

    assert error.reason == "Error"
    assert error.message


def test_transport_error():
    error = from_transport_error(ConnectionRefusedError(111, "Connection refused"), OPERATION)

    assert error.status is None
    assert error.reason == "Unreachable"
    assert error.retryable
    assert "ConnectionRefusedError" in error.message
    assert "Connection refused" in error.message
    assert str(error).startswith(f"{OPERATION} failed (Unreachable): ")


def test_transport_error_without_text_uses_the_type_name():
    error = from_transport_error(TimeoutError(), OPERATION)

    assert error.message == "TimeoutError: TimeoutError"


@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUSES))
def test_retryable_statuses(status):
    assert from_response(OPERATION, status, "x", None, None).retryable


def test_retryable_statuses_are_the_documented_ones():
    assert frozenset({429, 500, 502, 503, 504}) == RETRYABLE_STATUSES


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_non_retryable_statuses(status):
    assert not from_response(OPERATION, status, "x", None, None).retryable


def test_pickle_round_trip_keeps_everything():
    error = from_response(OPERATION, 422, "Unprocessable Entity", json.dumps(INVALID_STATUS), None)
    forbidden = from_response(OPERATION, 403, "Forbidden", None, {"Retry-After": "3"})

    for original in (error, forbidden, from_transport_error(OSError("reset"), OPERATION)):
        copy = pickle.loads(pickle.dumps(original))

        assert type(copy) is MokaApiError
        assert str(copy) == str(original)
        assert copy.status == original.status
        assert copy.reason == original.reason
        assert copy.problems == original.problems
        assert copy.retry_after == original.retry_after
        assert copy.hint == original.hint
        assert copy.args == original.args


def test_error_is_an_airflow_exception_with_its_text_as_args():
    from airflow.sdk.exceptions import AirflowException

    error = MokaApiError("delete RayJob moka/r", 500, "InternalError", "etcd timeout")

    assert isinstance(error, AirflowException)
    assert error.args == ("delete RayJob moka/r failed (HTTP 500 InternalError): etcd timeout",)


def test_error_text_lists_every_problem_on_its_own_line():
    error = MokaApiError(
        OPERATION,
        422,
        "Invalid",
        "x is invalid",
        [FieldProblem("spec.a", "required value"), FieldProblem("spec.b", "must be positive")],
    )

    assert str(error).splitlines() == [
        f"{OPERATION} failed (HTTP 422 Invalid): x is invalid",
        "  - spec.a: required value",
        "  - spec.b: must be positive",
    ]


def test_causes_without_message_are_skipped_and_missing_field_is_the_object():
    body = status_body(
        422,
        "Invalid",
        'RayJob.ray.io "r" is invalid: spec: Required value',
        causes=[{"reason": "FieldValueRequired", "message": "Required value"}, {"field": "spec.x"}],
    )

    error = from_response(OPERATION, 422, "Unprocessable Entity", body, None)

    assert error.problems == [FieldProblem("(object)", "Required value")]
    assert error.message == 'RayJob.ray.io "r" is invalid'
