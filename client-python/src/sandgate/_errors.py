"""The one error type of the client: Sandgate's error envelope, raised."""

from __future__ import annotations

import json
from typing import Any, Literal, cast

import httpx

from .generated.models.error_code import ErrorCode
from .generated.models.process_log_error_event import ProcessLogErrorEvent

ClientErrorCode = Literal["unreachable"]
"""Codes the client raises itself, with ``status`` 0 (no response): ``unreachable`` (refused, reset, cut short).
A client-side timeout is ``timeout``, status 0."""

_CODE_OF_STATUS: dict[int, ErrorCode] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    431: "headers_too_large",
    500: "internal",
    502: "upstream_unavailable",
    503: "sandbox_unavailable",
    504: "timeout",
}


class SandgateError(Exception):
    """A failed call: the response's ``{"error": {"code", "message", "details"?}}`` envelope and its HTTP status.

    Responses without the envelope (a proxy's error page, say) get the code that fits their status, or
    ``internal``. Failures with no response at all have ``status`` 0: ``unreachable`` (the host refused or
    dropped the connection) and ``timeout`` (this client gave up waiting); the transport's exception is the
    ``__cause__``.
    """

    code: ErrorCode | ClientErrorCode
    message: str
    status: int
    details: dict[str, Any] | None

    def __init__(
        self, code: ErrorCode | ClientErrorCode, message: str, status: int, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details

    def __repr__(self) -> str:
        return f"SandgateError(code={self.code!r}, status={self.status}, message={self.message!r})"

    @classmethod
    def from_body(cls, status: int, content: bytes) -> SandgateError:
        """Builds the error from a response's status and raw body."""
        try:
            body: Any = json.loads(content)
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str):
            details = error.get("details")
            # A code newer than this client's ErrorCode still reaches the caller as it was sent.
            return cls(
                cast(ErrorCode, error["code"]), error["message"], status, details if isinstance(details, dict) else None
            )
        text = content[:200].decode("utf-8", "replace")
        return cls(_CODE_OF_STATUS.get(status, "internal"), f"HTTP {status}" + (f": {text}" if text else ""), status)

    @classmethod
    def from_transport(cls, error: Exception) -> SandgateError:
        """A request that got no response (``httpx.TransportError``): ``timeout`` or ``unreachable``, status 0."""
        kind = type(error).__name__
        if isinstance(error, httpx.TimeoutException):
            return cls("timeout", f"no answer in time ({kind}: {error})", 0)
        return cls("unreachable", f"cannot reach the host ({kind}: {error})", 0)

    @classmethod
    def from_event(cls, event: ProcessLogErrorEvent) -> SandgateError:
        """The ``error`` event that ended a followed log, raised."""
        return cls(cast(ErrorCode, event.code), event.message, 500)

    @classmethod
    def stream_ended(cls, times: int) -> SandgateError:
        """A followed log stream kept ending before its ``exit`` event."""
        return cls("sandbox_unavailable", f"the log stream ended {times} times in a row before the process's exit", 503)
