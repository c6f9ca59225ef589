"""The asyncio client: ``AsyncSandgate(base_url, token)``.

``_sync.py`` (``Sandgate``) is generated from this file by scripts/gen_sync.py: edit this one.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import IO, Any, Self

import httpx
from httpx_sse import aconnect_sse

from . import _common as common
from ._errors import SandgateError
from ._io import AsyncErrorTransport, AsyncFileData, async_sleep, async_upload_content
from ._models import (
    ExecEvent,
    FileInfo,
    FileList,
    PortLink,
    ProcessExitEvent,
    ProcessLogErrorEvent,
    ProcessLogEvent,
    RestoreResult,
    SandboxInfo,
    SandboxList,
    Snapshot,
    SnapshotList,
)
from .generated.api.files import (
    delete_file,
    list_files,
    mkdir,
    move_file,
    read_file_json,
    stat_file,
    write_file_json,
)
from .generated.api.ports import create_port_link
from .generated.api.processes import get_process, get_process_logs, kill_process, list_processes, start_process
from .generated.api.sandboxes import (
    create_sandbox,
    create_token,
    delete_sandbox,
    get_sandbox,
    list_sandboxes,
    update_sandbox,
)
from .generated.api.service import health
from .generated.api.snapshots import (
    create_snapshot,
    delete_snapshot,
    fork_sandbox,
    get_snapshot,
    list_snapshots,
    restore_snapshot,
    update_snapshot,
)
from .generated.client import AuthenticatedClient
from .generated.models.create_port_link_request import CreatePortLinkRequest
from .generated.models.create_token_request import CreateTokenRequest
from .generated.models.encoding import Encoding
from .generated.models.exec_result import ExecResult
from .generated.models.file_content import FileContent
from .generated.models.file_info import FileInfo as RawFileInfo
from .generated.models.file_list import FileList as RawFileList
from .generated.models.fork_result import ForkResult
from .generated.models.git_checkout_request import GitCheckoutRequest
from .generated.models.git_checkout_result import GitCheckoutResult
from .generated.models.health import Health
from .generated.models.mkdir_request import MkdirRequest
from .generated.models.move_file_request import MoveFileRequest
from .generated.models.network_mode import NetworkMode
from .generated.models.port_link import PortLink as RawPortLink
from .generated.models.process_info import ProcessInfo
from .generated.models.process_list import ProcessList
from .generated.models.process_logs import ProcessLogs
from .generated.models.read_file_request import ReadFileRequest
from .generated.models.restore_request import RestoreRequest
from .generated.models.restore_result import RestoreResult as RawRestoreResult
from .generated.models.sandbox_info import SandboxInfo as RawSandboxInfo
from .generated.models.sandbox_list import SandboxList as RawSandboxList
from .generated.models.scope import Scope
from .generated.models.scoped_token import ScopedToken
from .generated.models.signal import Signal
from .generated.models.snapshot import Snapshot as RawSnapshot
from .generated.models.snapshot_list import SnapshotList as RawSnapshotList
from .generated.models.wait_for_log_request_stream import WaitForLogRequestStream
from .generated.models.wait_result import WaitResult
from .generated.models.write_file_request import WriteFileRequest
from .generated.types import Unset


async def _raise_for_error(response: httpx.Response) -> None:
    if response.status_code >= 400 and not common.is_port_proxy(response.request):
        await response.aread()
        raise SandgateError.from_body(response.status_code, response.content)


class AsyncSandgate:
    """An asyncio client for one Sandgate host. Use it with ``async with``, or call :meth:`aclose`.

    ``api`` is the generated client (``sandgate.generated``, its ``asyncio_detailed`` functions) on the
    same connection pool; on it too, error responses raise :class:`SandgateError`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout = 30.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=common.auth_headers(token, headers),
            timeout=self._timeout,
            # Every failure without a response becomes a SandgateError (unreachable, timeout).
            transport=AsyncErrorTransport(transport or httpx.AsyncHTTPTransport()),
            event_hooks={"response": [_raise_for_error]},
        )
        self.api = AuthenticatedClient(base_url=base_url, token=token or "").set_async_httpx_client(self._http)
        self.sandboxes = AsyncSandboxes(self)
        self.snapshots = AsyncSnapshots(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> Health:
        """``GET /health``: liveness, version and backend."""
        return common.parsed(await health.asyncio_detailed(client=self.api), Health)

    def sandbox(self, id: str) -> AsyncSandbox:
        """A handle on one sandbox; makes no request by itself."""
        return AsyncSandbox(self, id)

    async def create_token(
        self, sandbox_id: str, scopes: Sequence[Scope], *, ttl_seconds: int | None = None
    ) -> ScopedToken:
        """Mints a token that works only on ``sandbox_id``, for ``scopes``, until it expires (needs the API token).

        Hand it to less trusted code: ``AsyncSandgate(base_url, token.token)``.
        """
        body = CreateTokenRequest(sandbox_id=sandbox_id, scopes=list(scopes), ttl_seconds=common.opt(ttl_seconds))
        return common.parsed(await create_token.asyncio_detailed(client=self.api, body=body), ScopedToken)


class AsyncSandboxes:
    def __init__(self, client: AsyncSandgate) -> None:
        self._client = client

    async def create(
        self,
        *,
        id: str | None = None,
        ttl_seconds: int | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        network: NetworkMode | None = None,
        git: str | GitCheckoutRequest | None = None,
        from_snapshot: str | None = None,
    ) -> AsyncCreatedSandbox:
        """Creates a sandbox and returns a handle on it, with the new sandbox's ``info``.

        ``network="none"`` leaves it without network (its ports stay reachable through the proxy); ``git``
        (a URL, or a ``GitCheckoutRequest`` with branch, depth, dir) is cloned before the sandbox is answered;
        ``from_snapshot`` (a snapshot id) starts it with that snapshot's workspace.
        """
        body = common.create_body(id, ttl_seconds, env, labels, network, git, from_snapshot)
        raw = common.parsed(await create_sandbox.asyncio_detailed(client=self._client.api, body=body), RawSandboxInfo)
        return AsyncCreatedSandbox(self._client, raw.id, SandboxInfo.of(raw))

    async def list(
        self, *, label: str | Sequence[str] | None = None, limit: int | None = None, cursor: str | None = None
    ) -> SandboxList:
        """One page of sandboxes, filtered by ``key:value`` labels (all must match)."""
        labels = common.label_param(label)
        response = await list_sandboxes.asyncio_detailed(
            client=self._client.api, label=labels, limit=common.opt(limit), cursor=common.opt(cursor)
        )
        return SandboxList.of(common.parsed(response, RawSandboxList))

    async def iter(
        self, *, label: str | Sequence[str] | None = None, limit: int | None = None
    ) -> AsyncIterator[SandboxInfo]:
        """Every matching sandbox, fetching page after page as the loop goes."""
        cursor: str | None = None
        while True:
            page = await self.list(label=label, limit=limit, cursor=cursor)
            for info in page.sandboxes:
                yield info
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, id: str) -> SandboxInfo:
        response = await get_sandbox.asyncio_detailed(id, client=self._client.api)
        return SandboxInfo.of(common.parsed(response, RawSandboxInfo))

    async def update(
        self,
        id: str,
        *,
        ttl_seconds: int | None = None,
        extend_by_seconds: int | None = None,
        labels: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> SandboxInfo:
        """Sets the TTL from now, or extends it, and/or replaces the labels, and/or the sandbox-wide env."""
        body = common.update_body(ttl_seconds, extend_by_seconds, labels, env)
        response = await update_sandbox.asyncio_detailed(id, client=self._client.api, body=body)
        return SandboxInfo.of(common.parsed(response, RawSandboxInfo))

    async def delete(self, id: str) -> None:
        await delete_sandbox.asyncio_detailed(id, client=self._client.api)


class AsyncSnapshots:
    """Saved workspaces: list, get, delete, export and import as tar (take one with ``sandbox(id).snapshot()``)."""

    def __init__(self, client: AsyncSandgate) -> None:
        self._client = client

    async def list(
        self,
        *,
        sandbox_id: str | None = None,
        label: str | Sequence[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> SnapshotList:
        """One page of snapshots, of one sandbox and/or filtered by ``key:value`` labels (all must match)."""
        response = await list_snapshots.asyncio_detailed(
            client=self._client.api,
            sandbox_id=common.opt(sandbox_id),
            label=common.label_param(label),
            limit=common.opt(limit),
            cursor=common.opt(cursor),
        )
        return SnapshotList.of(common.parsed(response, RawSnapshotList))

    async def iter(
        self, *, sandbox_id: str | None = None, label: str | Sequence[str] | None = None, limit: int | None = None
    ) -> AsyncIterator[Snapshot]:
        """Every matching snapshot, fetching page after page as the loop goes."""
        cursor: str | None = None
        while True:
            page = await self.list(sandbox_id=sandbox_id, label=label, limit=limit, cursor=cursor)
            for snapshot in page.snapshots:
                yield snapshot
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, snapshot_id: str) -> Snapshot:
        return Snapshot.of(
            common.parsed(await get_snapshot.asyncio_detailed(snapshot_id, client=self._client.api), RawSnapshot)
        )

    async def update(
        self,
        snapshot_id: str,
        *,
        labels: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
        keep_forever: bool = False,
    ) -> Snapshot:
        """Replaces the labels and/or sets when it expires (``ttl_seconds`` from now; ``keep_forever``: never)."""
        body = common.update_snapshot_body(labels, ttl_seconds, keep_forever)
        return Snapshot.of(
            common.parsed(
                await update_snapshot.asyncio_detailed(snapshot_id, client=self._client.api, body=body), RawSnapshot
            )
        )

    async def delete(self, snapshot_id: str) -> None:
        await delete_snapshot.asyncio_detailed(snapshot_id, client=self._client.api)

    async def iter_archive(
        self, snapshot_id: str, chunk_size: int = common.CHUNK_SIZE, *, compression: common.Compression | None = None
    ) -> AsyncIterator[bytes]:
        """The snapshot as a tar archive (paths relative to /workspace), in chunks as they arrive.

        ``compression`` (``"zstd"`` or ``"gzip"``) asks for it compressed; a host that cannot make it
        (the Cloudflare backend makes gzip only) sends plain tar. ``import_archive`` takes all three.
        """
        headers = common.archive_accept(compression)
        async with self._client._http.stream(
            "GET", common.snapshot_path(snapshot_id, "/archive"), headers=headers
        ) as response:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk

    async def export(
        self,
        snapshot_id: str,
        destination: str | os.PathLike[str] | IO[bytes],
        *,
        on_progress: Callable[[int], None] | None = None,
        compression: common.Compression | None = None,
    ) -> int:
        """Streams the snapshot's tar archive into a local path or a binary file object; returns the bytes.

        ``on_progress`` is called with the bytes written so far after each chunk. ``compression``
        (``"zstd"`` or ``"gzip"``) asks for the archive compressed (plain tar where the host cannot).
        """
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as out:  # noqa: ASYNC230 - chunked writes; the network is the wait
                return await self.export(snapshot_id, out, on_progress=on_progress, compression=compression)
        size = 0
        async for chunk in self.iter_archive(snapshot_id, compression=compression):
            destination.write(chunk)
            size += len(chunk)
            if on_progress is not None:
                on_progress(size)
        return size

    async def import_archive(
        self,
        archive: AsyncFileData,
        *,
        name: str | None = None,
        label: str | Sequence[str] | None = None,
        ttl_seconds: int | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> Snapshot:
        """Makes a snapshot from a tar archive (bytes, a file object or chunks; streamed).

        A refused archive (links out of the tree, devices, a truncated tar) leaves nothing behind.
        ``on_progress`` is called with the bytes sent so far as the upload reads them.
        """
        content, headers = await async_upload_content(archive)
        if on_progress is not None:
            content = _async_counted(content, on_progress)
        params = common.import_params(name, label, ttl_seconds)
        response = await self._client._http.post("/v1/snapshots", params=params, content=content, headers=headers)
        return Snapshot.of(RawSnapshot.from_dict(response.json()))


async def _async_counted(
    content: bytes | AsyncIterable[bytes], on_progress: Callable[[int], None]
) -> AsyncIterator[bytes]:
    """``content`` in chunks, reporting the bytes passed on so far after each."""
    chunks: AsyncIterable[bytes] = _async_pieces(content) if isinstance(content, bytes) else content
    sent = 0
    async for chunk in chunks:
        yield chunk
        sent += len(chunk)
        on_progress(sent)


async def _async_pieces(content: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(content), common.CHUNK_SIZE):
        yield content[start : start + common.CHUNK_SIZE]


class AsyncSandbox:
    """One sandbox: commands and files. ``info`` is what the last create, get or update answered."""

    info: SandboxInfo | None

    def __init__(self, client: AsyncSandgate, id: str, info: SandboxInfo | None = None) -> None:
        self._client = client
        self.id = id
        self.info = info
        self.files = AsyncFiles(client, id)

    def __repr__(self) -> str:
        return f"AsyncSandbox(id={self.id!r})"

    async def get(self) -> SandboxInfo:
        self.info = await self._client.sandboxes.get(self.id)
        return self.info

    async def update(
        self,
        *,
        ttl_seconds: int | None = None,
        extend_by_seconds: int | None = None,
        labels: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> SandboxInfo:
        self.info = await self._client.sandboxes.update(
            self.id, ttl_seconds=ttl_seconds, extend_by_seconds=extend_by_seconds, labels=labels, env=env
        )
        return self.info

    async def set_env(self, env: Mapping[str, str]) -> SandboxInfo:
        """Replaces the sandbox-wide environment: commands and processes started from now on see it."""
        return await self.update(env=env)

    async def create_token(self, scopes: Sequence[Scope], *, ttl_seconds: int | None = None) -> ScopedToken:
        """Mints a token for this sandbox only (see :meth:`AsyncSandgate.create_token`)."""
        return await self._client.create_token(self.id, scopes, ttl_seconds=ttl_seconds)

    async def delete(self) -> None:
        await self._client.sandboxes.delete(self.id)

    async def exec(
        self,
        command: str | Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout_ms: int | None = None,
        stdin: str | None = None,
    ) -> ExecResult:
        """Runs ``command`` (a string: by ``/bin/sh -c``; a sequence: as argv) and waits for it.

        A non-zero exit is a result, not an error.
        """
        response = await self._client._http.post(
            common.sandbox_path(self.id, "/exec"),
            json=common.exec_body(command, cwd, env, timeout_ms, stdin),
            timeout=common.exec_timeout(self._client._timeout, timeout_ms),
        )
        return ExecResult.from_dict(response.json())

    def exec_stream(
        self,
        command: str | Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout_ms: int | None = None,
        stdin: str | None = None,
    ) -> AsyncExecStream:
        """Runs ``command`` and yields its events as they happen: ``stdout``/``stderr``, then ``exit`` or ``error``.

        The request is sent when iteration starts. Use ``async with`` (or ``aclose()``) to close the
        connection when leaving early, which kills the command.
        """
        return AsyncExecStream(self._client, self.id, common.exec_body(command, cwd, env, timeout_ms, stdin))

    async def start_process(
        self,
        command: str | Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> AsyncProcess:
        """Starts a background process and returns a handle on it at once (its ``info`` set).

        It keeps running until it ends, is killed or the sandbox is deleted; its output is kept for
        :meth:`AsyncProcess.logs` and :meth:`AsyncProcess.follow`.
        """
        body = common.process_body(command, cwd, env, name)
        response = await start_process.asyncio_detailed(self.id, client=self._client.api, body=body)
        info = common.parsed(response, ProcessInfo)
        return AsyncProcess(self._client, self.id, info.id, info)

    async def list_processes(self) -> list[ProcessInfo]:
        """The sandbox's background processes, running and ended."""
        response = await list_processes.asyncio_detailed(self.id, client=self._client.api)
        return common.parsed(response, ProcessList).processes

    def process(self, process_id: str) -> AsyncProcess:
        """A handle on one process by its id; makes no request by itself."""
        return AsyncProcess(self._client, self.id, process_id)

    async def git_checkout(
        self, url: str, *, branch: str | None = None, depth: int | None = None, dir: str | None = None
    ) -> GitCheckoutResult:
        """Clones a repository into the workspace (default directory: ``/workspace/<repository name>``)."""
        response = await self._client._http.post(
            common.sandbox_path(self.id, "/git/checkout"),
            json=common.git_body(url, branch, depth, dir),
            timeout=common.wait_timeout(self._client._timeout, None, common.GIT_TIMEOUT_MS),
        )
        return GitCheckoutResult.from_dict(response.json())

    async def snapshot(
        self,
        *,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
        excludes: Sequence[str] | None = None,
        ttl_seconds: int | None = None,
    ) -> Snapshot:
        """Saves the workspace as a snapshot that outlives the sandbox (``excludes``: globs relative to /workspace)."""
        body = common.snapshot_body(name, labels, excludes, ttl_seconds)
        response = await create_snapshot.asyncio_detailed(self.id, client=self._client.api, body=body)
        return Snapshot.of(common.parsed(response, RawSnapshot))

    async def restore(self, snapshot_id: str, *, kill_processes: bool | None = None) -> RestoreResult:
        """Replaces the workspace with a snapshot, atomically; the sandbox's environment starts afresh.

        While background processes run it raises ``conflict`` unless ``kill_processes`` is true.
        """
        body = RestoreRequest(snapshot_id=snapshot_id, kill_processes=common.opt(kill_processes))
        response = await restore_snapshot.asyncio_detailed(self.id, client=self._client.api, body=body)
        result = RestoreResult.of(common.parsed(response, RawRestoreResult))
        self.info = result.sandbox
        return result

    async def fork(
        self,
        count: int,
        *,
        labels: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
        env: Mapping[str, str] | None = None,
        network: NetworkMode | None = None,
        excludes: Sequence[str] | None = None,
        keep_snapshot: bool | None = None,
    ) -> AsyncFork:
        """Copies this sandbox into ``count`` (1 to 100) new ones from one consistent cut of its workspace.

        All are made or none. ``snapshot`` is that cut when ``keep_snapshot`` is true, else None (it is deleted).
        """
        body = common.fork_body(count, labels, ttl_seconds, env, network, excludes, keep_snapshot)
        result = common.parsed(
            await fork_sandbox.asyncio_detailed(self.id, client=self._client.api, body=body), ForkResult
        )
        sandboxes = [AsyncCreatedSandbox(self._client, raw.id, SandboxInfo.of(raw)) for raw in result.sandboxes]
        return AsyncFork(sandboxes, None if isinstance(result.snapshot, Unset) else Snapshot.of(result.snapshot))

    def port_url(self, port: int, path: str = "/", *, websocket: bool = False) -> str:
        """The URL of ``path`` on ``port`` through the host's port proxy (``/v1/sandboxes/{id}/ports/{port}/...``).

        It needs the token in a header (:meth:`fetch_port` sends it); for a browser, mint a :meth:`port_link`.
        ``websocket=True`` gives the ``ws:``/``wss:`` URL of the same place.
        """
        return common.port_url(self._client._http.base_url, self.id, port, path, websocket)

    async def fetch_port(
        self,
        port: int,
        path: str = "/",
        *,
        method: str = "GET",
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
    ) -> httpx.Response:
        """Sends a request to ``path`` on ``port`` through the port proxy with this client's token.

        The response is the app's, as it is (an error status is not raised); a port nothing listens on
        answers 502 with the error envelope (``SandgateError.from_body`` reads it).
        """
        return await self._client._http.request(
            method,
            common.port_path(self.id, port, path),
            params=params,
            headers=headers,
            content=content,
        )

    async def port_link(self, port: int, *, ttl_seconds: int | None = None, path: str | None = None) -> PortLink:
        """Mints a signed link to ``port`` that works without a token until it expires: open ``url`` in a browser."""
        body = CreatePortLinkRequest(port=port, ttl_seconds=common.opt(ttl_seconds), path=common.opt(path))
        response = await create_port_link.asyncio_detailed(self.id, client=self._client.api, body=body)
        return PortLink.of(common.parsed(response, RawPortLink), str(self._client._http.base_url))


class AsyncCreatedSandbox(AsyncSandbox):
    """A sandbox just created: its ``info`` is always there."""

    info: SandboxInfo


class AsyncFork:
    """What :meth:`AsyncSandbox.fork` made: handles on the new sandboxes, and the snapshot if it was kept."""

    def __init__(self, sandboxes: list[AsyncCreatedSandbox], snapshot: Snapshot | None) -> None:
        self.sandboxes = sandboxes
        self.snapshot = snapshot


class AsyncExecStream:
    """The events of one streaming exec: iterate it once; an async context manager that closes the connection."""

    def __init__(self, client: AsyncSandgate, sandbox_id: str, body: dict[str, Any]) -> None:
        self._events = self._run(client, sandbox_id, body)

    @staticmethod
    async def _run(client: AsyncSandgate, sandbox_id: str, body: dict[str, Any]) -> AsyncGenerator[ExecEvent, None]:
        async with aconnect_sse(
            client._http,
            "POST",
            common.sandbox_path(sandbox_id, "/exec/stream"),
            json=body,
            timeout=common.stream_timeout(client._timeout),
        ) as source:
            async for message in source.aiter_sse():
                event = common.parse_event(message.data)
                if event is not None:
                    yield event

    def __aiter__(self) -> AsyncIterator[ExecEvent]:
        return self._events

    async def __anext__(self) -> ExecEvent:
        return await anext(self._events)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._events.aclose()


class AsyncProcess:
    """A background process. ``info`` is what the last start, get, kill or wait through this handle answered."""

    def __init__(self, client: AsyncSandgate, sandbox_id: str, id: str, info: ProcessInfo | None = None) -> None:
        self._client = client
        self.sandbox_id = sandbox_id
        self.id = id
        self.info = info

    def __repr__(self) -> str:
        return f"AsyncProcess(sandbox_id={self.sandbox_id!r}, id={self.id!r})"

    async def get(self) -> ProcessInfo:
        """Fetches the process's current state (and keeps it in ``info``)."""
        response = await get_process.asyncio_detailed(self.sandbox_id, self.id, client=self._client.api)
        self.info = common.parsed(response, ProcessInfo)
        return self.info

    async def logs(self, *, offset: int | None = None, limit_bytes: int | None = None) -> ProcessLogs:
        """Buffered output: the tail within ``limit_bytes`` (default 1 MiB), or from ``offset`` on.

        Continue from the answer's ``next_offset``.
        """
        response = await get_process_logs.asyncio_detailed(
            self.sandbox_id,
            self.id,
            client=self._client.api,
            offset=common.opt(offset),
            limit_bytes=common.opt(limit_bytes),
        )
        return common.parsed(response, ProcessLogs)

    def follow(
        self,
        *,
        offset: int = 0,
        max_retries: int = 5,
        backoff: float = 0.25,
        max_backoff: float = 5.0,
        idle_timeout: float = common.STREAM_READ_TIMEOUT,
    ) -> AsyncLogFollower:
        """Follows the output from ``offset``: ``stdout``/``stderr`` (and ``gap``) events as they come, then one
        ``exit`` (or ``error``), then the iteration ends.

        When the connection drops, it reconnects from the last event's ``next_offset`` (up to
        ``max_retries`` times in a row, waiting ``backoff`` seconds, doubled each time up to
        ``max_backoff``), so no byte is yielded twice or skipped. A stream silent for ``idle_timeout`` seconds
        (the host sends a keep-alive every 15 s) counts as dropped. Closing it early leaves the process running.
        """
        return AsyncLogFollower(
            self._client, self.sandbox_id, self.id, offset, (max_retries, backoff, max_backoff, idle_timeout)
        )

    async def kill(self, signal: Signal | None = None) -> ProcessInfo:
        """Signals the process and all its descendants (default TERM); answers once they ended or after a grace."""
        response = await kill_process.asyncio_detailed(
            self.sandbox_id, self.id, client=self._client.api, signal=common.opt(signal)
        )
        self.info = common.parsed(response, ProcessInfo)
        return self.info

    async def wait_for_port(
        self, port: int, *, timeout_ms: int | None = None, path: str | None = None, status: int | None = None
    ) -> WaitResult:
        """Waits until ``port`` in the sandbox accepts connections (with ``path``: answers GET there with ``status``).

        Raises ``SandgateError`` ``timeout`` past ``timeout_ms`` (default 30 s), ``conflict`` if the process ends first.
        """
        body: dict[str, object] = {"port": port}
        for key, value in (("timeoutMs", timeout_ms), ("path", path), ("status", status)):
            if value is not None:
                body[key] = value
        return await self._wait("/wait-for-port", body, timeout_ms)

    async def wait_for_log(
        self, pattern: str, *, stream: WaitForLogRequestStream | None = None, timeout_ms: int | None = None
    ) -> WaitResult:
        """Waits until a line of output matches ``pattern``, a JavaScript regular expression (matched on the host).

        Raises ``SandgateError`` ``timeout`` past ``timeout_ms`` (default 30 s), ``conflict`` if the process ends
        without such a line.
        """
        body: dict[str, object] = {"pattern": pattern}
        if stream is not None:
            body["stream"] = stream
        if timeout_ms is not None:
            body["timeoutMs"] = timeout_ms
        return await self._wait("/wait-for-log", body, timeout_ms)

    async def wait(self, *, max_retries: int = 5) -> ProcessInfo:
        """Waits until the process ends (following its log from the current end) and returns its final state."""
        end = (await self.logs(limit_bytes=1)).next_offset
        async with self.follow(offset=end, max_retries=max_retries) as events:
            async for event in events:
                if isinstance(event, ProcessLogErrorEvent):
                    raise SandgateError.from_event(event)
        return await self.get()

    async def _wait(self, suffix: str, body: dict[str, object], timeout_ms: int | None) -> WaitResult:
        response = await self._client._http.post(
            common.process_path(self.sandbox_id, self.id, suffix),
            json=body,
            timeout=common.wait_timeout(self._client._timeout, timeout_ms, common.DEFAULT_WAIT_TIMEOUT_MS),
        )
        result = WaitResult.from_dict(response.json())
        self.info = result.process
        return result


class AsyncLogFollower:
    """The events of a followed process log: iterate it once; an async context manager that closes the connection.

    ``offset`` is where the output yielded so far ends: ``follow(offset=...)`` resumes there later.
    """

    def __init__(
        self,
        client: AsyncSandgate,
        sandbox_id: str,
        process_id: str,
        offset: int,
        retry: tuple[int, float, float, float],
    ) -> None:
        self.offset = offset
        self.reconnects = 0
        self._retry = retry
        self._events = self._run(client, common.process_path(sandbox_id, process_id, "/logs/stream"))

    async def _run(self, client: AsyncSandgate, path: str) -> AsyncGenerator[ProcessLogEvent, None]:
        max_retries, backoff, max_backoff, idle_timeout = self._retry
        failures = 0
        while True:
            cause: Exception | None = None
            try:
                async with aconnect_sse(
                    client._http,
                    "GET",
                    path,
                    params={"offset": self.offset},
                    timeout=common.stream_timeout(client._timeout, idle_timeout),
                ) as source:
                    async for message in source.aiter_sse():
                        event = common.parse_log_event(message.data)
                        fresh = None if event is None else common.unseen(event, self.offset)
                        if fresh is None:
                            continue
                        failures = 0
                        if not isinstance(fresh, ProcessLogErrorEvent):
                            self.offset = max(self.offset, fresh.next_offset)
                        yield fresh
                        if isinstance(fresh, (ProcessExitEvent, ProcessLogErrorEvent)):
                            return
            except SandgateError as err:
                # status 0: no answer (reset, refused, cut short, timed out)
                if err.status != 0 and err.status not in common.RETRYABLE_STATUSES:
                    raise
                cause = err
            # The stream ended, or failed, before its exit event: resume where the last event ended.
            if failures >= max_retries:
                if cause is not None:
                    raise cause
                raise SandgateError.stream_ended(failures + 1)
            await async_sleep(common.backoff_delay(failures, backoff, max_backoff))
            failures += 1
            self.reconnects += 1

    def __aiter__(self) -> AsyncIterator[ProcessLogEvent]:
        return self._events

    async def __anext__(self) -> ProcessLogEvent:
        return await anext(self._events)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._events.aclose()


class AsyncFiles:
    """Files under the sandbox's /workspace; paths are absolute under it or relative to it."""

    def __init__(self, client: AsyncSandgate, sandbox_id: str) -> None:
        self._client = client
        self._id = sandbox_id

    async def read(self, path: str) -> bytes:
        """The whole file, as bytes."""
        response = await self._client._http.get(common.sandbox_path(self._id, "/files/content"), params={"path": path})
        return response.content

    async def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return (await self.read(path)).decode(encoding)

    async def iter_bytes(self, path: str, chunk_size: int = common.CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The file's bytes in chunks as they arrive; the connection stays open until the loop ends."""
        async with self._client._http.stream(
            "GET", common.sandbox_path(self._id, "/files/content"), params={"path": path}
        ) as response:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk

    async def download(self, path: str, destination: str | os.PathLike[str] | IO[bytes]) -> int:
        """Streams the file into a local path or a binary file object; returns the number of bytes."""
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as out:  # noqa: ASYNC230 - chunked writes; the network is the wait
                return await self.download(path, out)
        size = 0
        chunks = self.iter_bytes(path)
        async for chunk in chunks:
            destination.write(chunk)
            size += len(chunk)
        return size

    async def write(self, path: str, data: AsyncFileData) -> FileInfo:
        """Uploads raw bytes, streamed for file objects and iterables; the file appears whole or not at all.

        Missing parent directories are created.
        """
        content, headers = await async_upload_content(data)
        response = await self._client._http.put(
            common.sandbox_path(self._id, "/files/content"), params={"path": path}, content=content, headers=headers
        )
        return FileInfo.of(RawFileInfo.from_dict(response.json()))

    async def upload(self, path: str, source: str | os.PathLike[str]) -> FileInfo:
        """Streams a local file into the sandbox."""
        with open(source, "rb") as data:  # noqa: ASYNC230 - read in a worker thread chunk by chunk
            return await self.write(path, data)

    async def read_json(self, path: str, *, encoding: Encoding = "utf-8") -> FileContent:
        """The file inside JSON, as text or base64 (limited in size by the host; prefer :meth:`read`)."""
        body = ReadFileRequest(path=path, encoding=encoding)
        response = await read_file_json.asyncio_detailed(self._id, client=self._client.api, body=body)
        return common.parsed(response, FileContent)

    async def write_json(self, path: str, content: str, *, encoding: Encoding = "utf-8") -> FileInfo:
        """Writes text or base64 content sent inside JSON (limited in size by the host; prefer :meth:`write`)."""
        body = WriteFileRequest(path=path, content=content, encoding=encoding)
        response = await write_file_json.asyncio_detailed(self._id, client=self._client.api, body=body)
        return FileInfo.of(common.parsed(response, RawFileInfo))

    async def list(self, path: str = "/workspace", *, recursive: bool = False) -> FileList:
        response = await list_files.asyncio_detailed(self._id, client=self._client.api, path=path, recursive=recursive)
        return FileList.of(common.parsed(response, RawFileList))

    async def stat(self, path: str) -> FileInfo:
        return FileInfo.of(
            common.parsed(await stat_file.asyncio_detailed(self._id, client=self._client.api, path=path), RawFileInfo)
        )

    async def mkdir(self, path: str, *, recursive: bool = False) -> FileInfo:
        body = MkdirRequest(path=path, recursive=recursive)
        return FileInfo.of(
            common.parsed(await mkdir.asyncio_detailed(self._id, client=self._client.api, body=body), RawFileInfo)
        )

    async def move(self, source: str, destination: str, *, overwrite: bool = False) -> FileInfo:
        body = MoveFileRequest(from_=source, to=destination, overwrite=overwrite)
        return FileInfo.of(
            common.parsed(await move_file.asyncio_detailed(self._id, client=self._client.api, body=body), RawFileInfo)
        )

    async def delete(self, path: str, *, recursive: bool = False) -> None:
        await delete_file.asyncio_detailed(self._id, client=self._client.api, path=path, recursive=recursive)
