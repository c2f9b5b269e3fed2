"""Turn what the Kubernetes clients raise into :class:`~moka_provider.exceptions.MokaApiError`.

The sync and async clients raise look-alike ``ApiException`` classes (``status``, ``reason``,
``body``, ``headers``) and different transport errors; this module reads both, so the hooks and
the retry policy see one error type. The server's ``Status`` body is the source of truth: its
``reason``, ``message`` and, for a 422, the per-field ``details.causes``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from moka_provider.exceptions import FieldProblem, MokaApiError

_ACCESS_HINT = (
    "The identity of the moka connection lacks this permission. Moka's least-privilege Role "
    "(moka_provider/data/rbac/airflow-role.yaml) grants it in the jobs' namespace; ask the "
    "platform team to bind it to the connection's service account or user."
)


def from_api_exception(error: Any, operation: str) -> MokaApiError:
    """Translate a ``kubernetes``/``kubernetes_asyncio`` ``ApiException`` (or look-alike)."""
    if not getattr(error, "status", None):  # the sync client reports TLS failures as status 0
        detail = str(getattr(error, "reason", None) or error).replace("\n", ": ")
        return MokaApiError(operation, None, "Unreachable", detail)
    return from_response(
        operation,
        getattr(error, "status", None),
        getattr(error, "reason", None),
        getattr(error, "body", None),
        getattr(error, "headers", None),
    )


def from_response(operation: str, status: int | None, reason: Any, body: Any, headers: Any) -> MokaApiError:
    """Translate a non-2xx answer: its status line, its (``Status``) body and its headers."""
    parsed = _status_body(body)
    reason = parsed.get("reason") or reason or "Error"
    message = parsed.get("message") or reason or "the API server gave no message"
    details = parsed.get("details") or {}
    problems = [
        FieldProblem(field=cause.get("field") or "(object)", message=_plain(cause))
        for cause in details.get("causes") or []
        if cause.get("message")
    ]
    if problems and status == 422 and ": " in message:
        # The server's message repeats every cause on one line; the list of problems reads better.
        message = message.split(": ", 1)[0]
    retry_after = _retry_after(headers, details)
    hint = _ACCESS_HINT if status in (401, 403) else None
    return MokaApiError(operation, status or None, str(reason), str(message), problems, retry_after, hint)


def from_transport_error(error: BaseException, operation: str) -> MokaApiError:
    """Translate a failure to reach the server (refused, reset, timed out, TLS, ...)."""
    detail = str(error) or type(error).__name__
    return MokaApiError(operation, None, "Unreachable", f"{type(error).__name__}: {detail}")


def _status_body(raw: Any) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str) or not raw.strip().startswith("{"):
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


_WRONG_TYPE = re.compile(r'^Invalid value: "(?P<got>\w+)": must be of type (?P<want>\w+): "\w+"$')


def _plain(cause: dict[str, Any]) -> str:
    """A cause's message without the field name the server repeats inside it, types said plainly."""
    message = str(cause["message"])
    field = cause.get("field")
    if field:
        message = message.replace(f"{field} in body ", "")
    if wrong_type := _WRONG_TYPE.match(message):
        return f"must be of type {wrong_type['want']}, got {wrong_type['got']}"
    return message


def _retry_after(headers: Any, details: dict[str, Any]) -> float | None:
    value = None
    if headers is not None:
        try:
            value = headers.get("Retry-After")
        except AttributeError:
            value = None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:  # asctime and "-0000" dates: HTTP dates are UTC
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    seconds = details.get("retryAfterSeconds")
    return float(seconds) if isinstance(seconds, int | float) else None
