"""The asynchronous client: ``AsyncSandgate(base_url, token)``, the same methods as ``Sandgate``, awaited."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import IO, Any, Self

import anyio
import anyio.to_thread
import httpx
from httpx_sse import aconnect_sse

from . import _common as common
from ._common import ExecEvent
from ._errors import SandgateError
from .generated.api.files import (
    delete_file,
    list_files,
    mkdir,
    move_file,
    read_file_json,
    stat_file,
    write_file_json,
)
from .generated.api.sandboxes import create_sandbox, delete_sandbox, get_sandbox, list_sandboxes, update_sandbox
from .generated.api.service import health
from .generated.client import AuthenticatedClient
from .generated.models.encoding import Encoding
from .generated.models.exec_result import ExecResult
from .generated.models.file_content import FileContent
from .generated.models.file_info import FileInfo
from .generated.models.file_list import FileList
from .generated.models.health import Health
from .generated.models.mkdir_request import MkdirRequest
from .generated.models.move_file_request import MoveFileRequest
from .generated.models.read_file_request import ReadFileRequest
from .generated.models.sandbox_info import SandboxInfo
from .generated.models.sandbox_list import SandboxList
from .generated.models.write_file_request import WriteFileRequest

AsyncFileData = bytes | bytearray | memoryview | str | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes]
"""A file's new content: bytes, text (UTF-8), a binary file object, or chunks (sync or async; streamed)."""


async def _raise_for_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
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
            transport=transport,
            event_hooks={"response": [_raise_for_error]},
        )
        self.api = AuthenticatedClient(base_url=base_url, token=token or "").set_async_httpx_client(self._http)
        self.sandboxes = AsyncSandboxes(self)

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
    ) -> AsyncSandbox:
        """Creates a sandbox and returns a handle on it, with the new sandbox's ``info``."""
        body = common.create_body(id, ttl_seconds, env, labels)
        info = common.parsed(await create_sandbox.asyncio_detailed(client=self._client.api, body=body), SandboxInfo)
        return AsyncSandbox(self._client, info.id, info)

    async def list(
        self, *, label: str | Sequence[str] | None = None, limit: int | None = None, cursor: str | None = None
    ) -> SandboxList:
        """One page of sandboxes, filtered by ``key:value`` labels (all must match)."""
        labels = common.label_param(label)
        response = await list_sandboxes.asyncio_detailed(
            client=self._client.api, label=labels, limit=common.opt(limit), cursor=common.opt(cursor)
        )
        return common.parsed(response, SandboxList)

    async def iter(
        self, *, label: str | Sequence[str] | None = None, limit: int | None = None
    ) -> AsyncIterator[SandboxInfo]:
        """Every matching sandbox, fetching page after page as the loop goes."""
        cursor: str | None = None
        while True:
            page = await self.list(label=label, limit=limit, cursor=cursor)
            for info in page.sandboxes:
                yield info
            if not isinstance(page.next_cursor, str):
                return
            cursor = page.next_cursor

    async def get(self, id: str) -> SandboxInfo:
        return common.parsed(await get_sandbox.asyncio_detailed(id, client=self._client.api), SandboxInfo)

    async def update(
        self,
        id: str,
        *,
        ttl_seconds: int | None = None,
        extend_by_seconds: int | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> SandboxInfo:
        """Sets the TTL from now, or extends it, and/or replaces the labels."""
        body = common.update_body(ttl_seconds, extend_by_seconds, labels)
        response = await update_sandbox.asyncio_detailed(id, client=self._client.api, body=body)
        return common.parsed(response, SandboxInfo)

    async def delete(self, id: str) -> None:
        await delete_sandbox.asyncio_detailed(id, client=self._client.api)


class AsyncSandbox:
    """One sandbox: commands and files. ``info`` is what the last create, get or update answered."""

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
    ) -> SandboxInfo:
        self.info = await self._client.sandboxes.update(
            self.id, ttl_seconds=ttl_seconds, extend_by_seconds=extend_by_seconds, labels=labels
        )
        return self.info

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
        headers = {"Content-Type": "application/octet-stream"}
        content: bytes | AsyncIterable[bytes]
        if isinstance(data, str):
            content = data.encode("utf-8")
        elif isinstance(data, (bytes, bytearray, memoryview)):
            content = bytes(data)
        elif hasattr(data, "read"):
            size = common.file_size(data)
            if size is not None:
                headers["Content-Length"] = str(size)
            content = _file_chunks(data)  # type: ignore[arg-type]
        elif isinstance(data, AsyncIterable):
            content = data
        else:
            content = _iter_chunks(data)
        response = await self._client._http.put(
            common.sandbox_path(self._id, "/files/content"), params={"path": path}, content=content, headers=headers
        )
        return FileInfo.from_dict(response.json())

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
        return common.parsed(response, FileInfo)

    async def list(self, path: str = "/workspace", *, recursive: bool = False) -> FileList:
        response = await list_files.asyncio_detailed(self._id, client=self._client.api, path=path, recursive=recursive)
        return common.parsed(response, FileList)

    async def stat(self, path: str) -> FileInfo:
        return common.parsed(await stat_file.asyncio_detailed(self._id, client=self._client.api, path=path), FileInfo)

    async def mkdir(self, path: str, *, recursive: bool = False) -> FileInfo:
        body = MkdirRequest(path=path, recursive=recursive)
        return common.parsed(await mkdir.asyncio_detailed(self._id, client=self._client.api, body=body), FileInfo)

    async def move(self, source: str, destination: str, *, overwrite: bool = False) -> FileInfo:
        body = MoveFileRequest(from_=source, to=destination, overwrite=overwrite)
        return common.parsed(await move_file.asyncio_detailed(self._id, client=self._client.api, body=body), FileInfo)

    async def delete(self, path: str, *, recursive: bool = False) -> None:
        await delete_file.asyncio_detailed(self._id, client=self._client.api, path=path, recursive=recursive)


async def _file_chunks(data: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await anyio.to_thread.run_sync(data.read, common.CHUNK_SIZE):
        yield chunk


async def _iter_chunks(data: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in data:
        yield chunk
