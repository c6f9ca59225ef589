"""Pieces the sync and async clients share: request bodies, event parsing, URLs."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from .generated.models.create_sandbox_request import CreateSandboxRequest
from .generated.models.create_sandbox_request_env import CreateSandboxRequestEnv
from .generated.models.create_sandbox_request_labels import CreateSandboxRequestLabels
from .generated.models.exec_error_event import ExecErrorEvent
from .generated.models.exec_exit_event import ExecExitEvent
from .generated.models.exec_request import ExecRequest
from .generated.models.exec_request_env import ExecRequestEnv
from .generated.models.exec_stderr_event import ExecStderrEvent
from .generated.models.exec_stdout_event import ExecStdoutEvent
from .generated.models.update_sandbox_request import UpdateSandboxRequest
from .generated.models.update_sandbox_request_labels import UpdateSandboxRequestLabels
from .generated.types import UNSET, Response, Unset

ExecEvent = ExecStdoutEvent | ExecStderrEvent | ExecExitEvent | ExecErrorEvent
"""One event of a streaming exec: ``stdout`` and ``stderr`` chunks, then one ``exit`` or ``error``."""

_EVENT_TYPES: dict[str, type[ExecStdoutEvent] | type[ExecStderrEvent] | type[ExecExitEvent] | type[ExecErrorEvent]] = {
    "stdout": ExecStdoutEvent,
    "stderr": ExecStderrEvent,
    "exit": ExecExitEvent,
    "error": ExecErrorEvent,
}

CHUNK_SIZE = 1024 * 1024
DEFAULT_EXEC_TIMEOUT_MS = 60_000
# Streams carry a keep-alive comment every 15 s, so a minute of silence means the connection is gone.
STREAM_READ_TIMEOUT = 60.0

T = TypeVar("T")


def opt(value: T | None) -> T | Unset:
    return UNSET if value is None else value


def sandbox_path(sandbox_id: str, suffix: str = "") -> str:
    return f"/v1/sandboxes/{quote(sandbox_id, safe='')}{suffix}"


def auth_headers(token: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(headers or {})
    if token is not None:
        out["Authorization"] = f"Bearer {token}"
    return out


def create_body(
    id: str | None,
    ttl_seconds: int | None,
    env: Mapping[str, str] | None,
    labels: Mapping[str, str] | None,
) -> CreateSandboxRequest:
    return CreateSandboxRequest(
        id=opt(id),
        ttl_seconds=opt(ttl_seconds),
        env=UNSET if env is None else CreateSandboxRequestEnv.from_dict(env),
        labels=UNSET if labels is None else CreateSandboxRequestLabels.from_dict(labels),
    )


def update_body(
    ttl_seconds: int | None, extend_by_seconds: int | None, labels: Mapping[str, str] | None
) -> UpdateSandboxRequest:
    return UpdateSandboxRequest(
        ttl_seconds=opt(ttl_seconds),
        extend_by_seconds=opt(extend_by_seconds),
        labels=UNSET if labels is None else UpdateSandboxRequestLabels.from_dict(labels),
    )


def exec_body(
    command: str | Sequence[str],
    cwd: str | None,
    env: Mapping[str, str] | None,
    timeout_ms: int | None,
    stdin: str | None,
) -> dict[str, Any]:
    """The JSON of an exec request: a string runs with /bin/sh -c, a sequence is an argv (no shell)."""
    body = ExecRequest(
        command=command if isinstance(command, str) else UNSET,
        argv=UNSET if isinstance(command, str) else list(command),
        cwd=opt(cwd),
        env=UNSET if env is None else ExecRequestEnv.from_dict(env),
        timeout_ms=opt(timeout_ms),
        stdin=opt(stdin),
    )
    return body.to_dict()


def exec_timeout(client_timeout: httpx.Timeout, timeout_ms: int | None) -> httpx.Timeout:
    """Waits for a buffered exec as long as the command may run, plus a margin."""
    seconds = (timeout_ms or DEFAULT_EXEC_TIMEOUT_MS) / 1000 + 30
    return httpx.Timeout(
        connect=client_timeout.connect, read=seconds, write=client_timeout.write, pool=client_timeout.pool
    )


def stream_timeout(client_timeout: httpx.Timeout) -> httpx.Timeout:
    return httpx.Timeout(
        connect=client_timeout.connect, read=STREAM_READ_TIMEOUT, write=client_timeout.write, pool=client_timeout.pool
    )


def parse_event(data: str) -> ExecEvent | None:
    """An SSE data line as a typed event; None for event types newer than this client."""
    try:
        raw = json.loads(data)
    except ValueError:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    model = _EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    return None if model is None else model.from_dict(raw)


def label_param(label: str | Sequence[str] | None) -> list[str] | str | Unset:
    if label is None:
        return UNSET
    return label if isinstance(label, str) else list(label)


def file_size(source: Any) -> int | None:
    """The bytes left in a regular file object, so the upload can declare its length."""
    try:
        fileno = source.fileno()
        position = source.tell()
        info = os.fstat(fileno)
    except (AttributeError, OSError, ValueError):
        return None
    return info.st_size - position if stat.S_ISREG(info.st_mode) else None


def parsed(response: Response[Any], kind: type[T]) -> T:
    """The typed body of a successful response (errors never get here: the client's hook raised them)."""
    value = response.parsed
    if not isinstance(value, kind):
        raise TypeError(
            f"expected {kind.__name__} in a {int(response.status_code)} response, got {type(value).__name__}"
        )
    return value
