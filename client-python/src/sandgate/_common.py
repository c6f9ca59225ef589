"""Pieces the sync and async clients share: request bodies, event parsing, URLs."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import attrs
import httpx

from ._models import (
    ExecErrorEvent,
    ExecEvent,
    ExecExitEvent,
    ExecStderrEvent,
    ExecStdoutEvent,
    ProcessExitEvent,
    ProcessLogErrorEvent,
    ProcessLogEvent,
    ProcessLogGapEvent,
    ProcessStderrEvent,
    ProcessStdoutEvent,
)
from .generated.models.create_sandbox_request import CreateSandboxRequest
from .generated.models.create_sandbox_request_env import CreateSandboxRequestEnv
from .generated.models.create_sandbox_request_labels import CreateSandboxRequestLabels
from .generated.models.create_snapshot_request import CreateSnapshotRequest
from .generated.models.create_snapshot_request_labels import CreateSnapshotRequestLabels
from .generated.models.exec_request import ExecRequest
from .generated.models.exec_request_env import ExecRequestEnv
from .generated.models.fork_request import ForkRequest
from .generated.models.fork_request_env import ForkRequestEnv
from .generated.models.fork_request_labels import ForkRequestLabels
from .generated.models.git_checkout_request import GitCheckoutRequest
from .generated.models.network_mode import NetworkMode
from .generated.models.start_process_request import StartProcessRequest
from .generated.models.start_process_request_env import StartProcessRequestEnv
from .generated.models.update_sandbox_request import UpdateSandboxRequest
from .generated.models.update_sandbox_request_env import UpdateSandboxRequestEnv
from .generated.models.update_sandbox_request_labels import UpdateSandboxRequestLabels
from .generated.models.update_snapshot_request import UpdateSnapshotRequest
from .generated.models.update_snapshot_request_labels import UpdateSnapshotRequestLabels
from .generated.types import UNSET, Response, Unset

_EVENT_TYPES: dict[str, type[ExecStdoutEvent] | type[ExecStderrEvent] | type[ExecExitEvent] | type[ExecErrorEvent]] = {
    "stdout": ExecStdoutEvent,
    "stderr": ExecStderrEvent,
    "exit": ExecExitEvent,
    "error": ExecErrorEvent,
}

_LOG_EVENT_TYPES: dict[
    str,
    type[ProcessStdoutEvent]
    | type[ProcessStderrEvent]
    | type[ProcessLogGapEvent]
    | type[ProcessExitEvent]
    | type[ProcessLogErrorEvent],
] = {
    "stdout": ProcessStdoutEvent,
    "stderr": ProcessStderrEvent,
    "gap": ProcessLogGapEvent,
    "exit": ProcessExitEvent,
    "error": ProcessLogErrorEvent,
}

# Statuses worth reconnecting a log stream after: the host, or a proxy in front of it, is briefly unavailable.
RETRYABLE_STATUSES = frozenset({502, 503, 504})
DEFAULT_WAIT_TIMEOUT_MS = 30_000
GIT_TIMEOUT_MS = 10 * 60 * 1000
# Responses of the port proxy are the sandboxed app's, passed through as they are, never raised.
_PORT_PROXY_PATH = re.compile(r"/v1/sandboxes/[^/]+/ports/[0-9]+(?:/|$)")

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
    network: NetworkMode | None = None,
    git: str | GitCheckoutRequest | None = None,
    from_snapshot: str | None = None,
) -> CreateSandboxRequest:
    return CreateSandboxRequest(
        id=opt(id),
        ttl_seconds=opt(ttl_seconds),
        env=UNSET if env is None else CreateSandboxRequestEnv.from_dict(env),
        labels=UNSET if labels is None else CreateSandboxRequestLabels.from_dict(labels),
        network=opt(network),
        git=GitCheckoutRequest(url=git) if isinstance(git, str) else opt(git),
        from_snapshot=opt(from_snapshot),
    )


def fork_body(
    count: int,
    labels: Mapping[str, str] | None,
    ttl_seconds: int | None,
    env: Mapping[str, str] | None,
    network: NetworkMode | None,
    excludes: Sequence[str] | None,
    keep_snapshot: bool | None,
) -> ForkRequest:
    return ForkRequest(
        count=count,
        labels=UNSET if labels is None else ForkRequestLabels.from_dict(labels),
        ttl_seconds=opt(ttl_seconds),
        env=UNSET if env is None else ForkRequestEnv.from_dict(env),
        network=opt(network),
        excludes=UNSET if excludes is None else list(excludes),
        keep_snapshot=opt(keep_snapshot),
    )


def update_body(
    ttl_seconds: int | None,
    extend_by_seconds: int | None,
    labels: Mapping[str, str] | None,
    env: Mapping[str, str] | None = None,
) -> UpdateSandboxRequest:
    return UpdateSandboxRequest(
        ttl_seconds=opt(ttl_seconds),
        extend_by_seconds=opt(extend_by_seconds),
        labels=UNSET if labels is None else UpdateSandboxRequestLabels.from_dict(labels),
        env=UNSET if env is None else UpdateSandboxRequestEnv.from_dict(env),
    )


def process_body(
    command: str | Sequence[str], cwd: str | None, env: Mapping[str, str] | None, name: str | None
) -> StartProcessRequest:
    """A background process's request: a string runs with /bin/sh -c, a sequence is an argv (no shell)."""
    return StartProcessRequest(
        command=command if isinstance(command, str) else UNSET,
        argv=UNSET if isinstance(command, str) else list(command),
        cwd=opt(cwd),
        env=UNSET if env is None else StartProcessRequestEnv.from_dict(env),
        name=opt(name),
    )


def git_body(url: str, branch: str | None, depth: int | None, dir: str | None) -> dict[str, Any]:
    return GitCheckoutRequest(url=url, branch=opt(branch), depth=opt(depth), dir_=opt(dir)).to_dict()


def snapshot_body(
    name: str | None, labels: Mapping[str, str] | None, excludes: Sequence[str] | None, ttl_seconds: int | None
) -> CreateSnapshotRequest:
    return CreateSnapshotRequest(
        name=opt(name),
        labels=UNSET if labels is None else CreateSnapshotRequestLabels.from_dict(labels),
        excludes=UNSET if excludes is None else list(excludes),
        ttl_seconds=opt(ttl_seconds),
    )


def update_snapshot_body(
    labels: Mapping[str, str] | None, ttl_seconds: int | None, keep_forever: bool
) -> UpdateSnapshotRequest:
    if keep_forever and ttl_seconds is not None:
        raise ValueError("give ttl_seconds or keep_forever, not both")
    return UpdateSnapshotRequest(
        labels=UNSET if labels is None else UpdateSnapshotRequestLabels.from_dict(labels),
        ttl_seconds=None if keep_forever else opt(ttl_seconds),
    )


Compression = Literal["zstd", "gzip"]


def archive_accept(compression: Compression | None) -> dict[str, str]:
    """The Accept header asking for an archive compressed so (plain tar as the fallback), or none."""
    if compression is None:
        return {}
    if compression not in ("zstd", "gzip"):
        raise ValueError(f"compression must be 'zstd' or 'gzip', not {compression!r}")
    return {"accept": f"application/{compression}, application/x-tar;q=0.1"}


def snapshot_path(snapshot_id: str, suffix: str = "") -> str:
    return f"/v1/snapshots/{quote(snapshot_id, safe='')}{suffix}"


def import_params(name: str | None, label: str | Sequence[str] | None, ttl_seconds: int | None) -> dict[str, Any]:
    labels = [label] if isinstance(label, str) else list(label or [])
    params: dict[str, Any] = {"label": labels} if labels else {}
    if name is not None:
        params["name"] = name
    if ttl_seconds is not None:
        params["ttlSeconds"] = ttl_seconds
    return params


def process_path(sandbox_id: str, process_id: str, suffix: str = "") -> str:
    return sandbox_path(sandbox_id, f"/processes/{quote(process_id, safe='')}{suffix}")


def port_path(sandbox_id: str, port: int, path: str) -> str:
    """The port proxy's path for ``path`` on ``port``."""
    if not 1 <= port <= 65535:
        raise ValueError(f"not a port: {port}")
    return sandbox_path(sandbox_id, f"/ports/{port}") + (path if path.startswith("/") else "/" + path)


def port_url(base_url: httpx.URL, sandbox_id: str, port: int, path: str, websocket: bool) -> str:
    url = str(base_url).rstrip("/") + port_path(sandbox_id, port, path)
    if websocket:
        url = "ws" + url.removeprefix("http")  # http -> ws, https -> wss
    return url


def is_port_proxy(request: httpx.Request) -> bool:
    return _PORT_PROXY_PATH.search(request.url.path) is not None


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


def wait_timeout(client_timeout: httpx.Timeout, timeout_ms: int | None, default_ms: int) -> httpx.Timeout:
    """Waits for a call as long as the host may take to answer it, plus a margin."""
    return exec_timeout(client_timeout, timeout_ms or default_ms)


def stream_timeout(client_timeout: httpx.Timeout, read: float = STREAM_READ_TIMEOUT) -> httpx.Timeout:
    return httpx.Timeout(
        connect=client_timeout.connect, read=read, write=client_timeout.write, pool=client_timeout.pool
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


def parse_log_event(data: str) -> ProcessLogEvent | None:
    """An SSE data line of a followed log as a typed event; None for event types newer than this client."""
    try:
        raw = json.loads(data)
    except ValueError:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    model = _LOG_EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    return None if model is None else model.from_dict(raw)


def unseen(event: ProcessLogEvent, position: int) -> ProcessLogEvent | None:
    """The part of ``event`` past ``position`` (the byte offset the caller has seen up to); None when it
    lies wholly before it, as a host may replay from an earlier offset after a reconnection."""
    if isinstance(event, (ProcessStdoutEvent, ProcessStderrEvent)):
        if event.next_offset <= position:
            return None
        if event.offset >= position:
            return event
        data = event.data.encode("utf-8")[position - event.offset :].decode("utf-8", "replace")
        return attrs.evolve(event, data=data, offset=position)
    if isinstance(event, ProcessLogGapEvent):
        if event.next_offset <= position:
            return None
        if event.offset >= position:
            return event
        return attrs.evolve(event, offset=position)
    return event


def backoff_delay(failures: int, first: float, most: float) -> float:
    """Seconds before reconnection number ``failures + 1``: ``first``, doubled each time, at most ``most``."""
    return float(min(most, first * 2**failures))


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
