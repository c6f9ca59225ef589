"""The synchronous client: ``Sandgate(base_url, token)``."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import IO, Any, Self

import httpx
from httpx_sse import connect_sse

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

FileData = bytes | bytearray | memoryview | str | IO[bytes] | Iterable[bytes]
"""A file's new content: bytes, text (UTF-8), a binary file object or an iterable of chunks (both streamed)."""


def _raise_for_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
        response.read()
        raise SandgateError.from_body(response.status_code, response.content)


class Sandgate:
    """A client for one Sandgate host. Use it as a context manager, or call :meth:`close`.

    ``api`` is the generated client (``sandgate.generated``) on the same connection pool, for calls the
    methods here do not cover; on it too, error responses raise :class:`SandgateError`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout = 30.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=common.auth_headers(token, headers),
            timeout=self._timeout,
            transport=transport,
            event_hooks={"response": [_raise_for_error]},
        )
        self.api = AuthenticatedClient(base_url=base_url, token=token or "").set_httpx_client(self._http)
        self.sandboxes = Sandboxes(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def health(self) -> Health:
        """``GET /health``: liveness, version and backend."""
        return common.parsed(health.sync_detailed(client=self.api), Health)

    def sandbox(self, id: str) -> Sandbox:
        """A handle on one sandbox; makes no request by itself."""
        return Sandbox(self, id)


class Sandboxes:
    def __init__(self, client: Sandgate) -> None:
        self._client = client

    def create(
        self,
        *,
        id: str | None = None,
        ttl_seconds: int | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Sandbox:
        """Creates a sandbox and returns a handle on it, with the new sandbox's ``info``."""
        body = common.create_body(id, ttl_seconds, env, labels)
        info = common.parsed(create_sandbox.sync_detailed(client=self._client.api, body=body), SandboxInfo)
        return Sandbox(self._client, info.id, info)

    def list(
        self, *, label: str | Sequence[str] | None = None, limit: int | None = None, cursor: str | None = None
    ) -> SandboxList:
        """One page of sandboxes, filtered by ``key:value`` labels (all must match)."""
        labels = common.label_param(label)
        response = list_sandboxes.sync_detailed(
            client=self._client.api, label=labels, limit=common.opt(limit), cursor=common.opt(cursor)
        )
        return common.parsed(response, SandboxList)

    def iter(self, *, label: str | Sequence[str] | None = None, limit: int | None = None) -> Iterator[SandboxInfo]:
        """Every matching sandbox, fetching page after page as the loop goes."""
        cursor: str | None = None
        while True:
            page = self.list(label=label, limit=limit, cursor=cursor)
            yield from page.sandboxes
            if not isinstance(page.next_cursor, str):
                return
            cursor = page.next_cursor

    def get(self, id: str) -> SandboxInfo:
        return common.parsed(get_sandbox.sync_detailed(id, client=self._client.api), SandboxInfo)

    def update(
        self,
        id: str,
        *,
        ttl_seconds: int | None = None,
        extend_by_seconds: int | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> SandboxInfo:
        """Sets the TTL from now, or extends it, and/or replaces the labels."""
        body = common.update_body(ttl_seconds, extend_by_seconds, labels)
        return common.parsed(update_sandbox.sync_detailed(id, client=self._client.api, body=body), SandboxInfo)

    def delete(self, id: str) -> None:
        delete_sandbox.sync_detailed(id, client=self._client.api)


class Sandbox:
    """One sandbox: commands and files. ``info`` is what the last create, get or update answered."""

    def __init__(self, client: Sandgate, id: str, info: SandboxInfo | None = None) -> None:
        self._client = client
        self.id = id
        self.info = info
        self.files = Files(client, id)

    def __repr__(self) -> str:
        return f"Sandbox(id={self.id!r})"

    def get(self) -> SandboxInfo:
        self.info = self._client.sandboxes.get(self.id)
        return self.info

    def update(
        self,
        *,
        ttl_seconds: int | None = None,
        extend_by_seconds: int | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> SandboxInfo:
        self.info = self._client.sandboxes.update(
            self.id, ttl_seconds=ttl_seconds, extend_by_seconds=extend_by_seconds, labels=labels
        )
        return self.info

    def delete(self) -> None:
        self._client.sandboxes.delete(self.id)

    def exec(
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
        response = self._client._http.post(
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
    ) -> ExecStream:
        """Runs ``command`` and yields its events as they happen: ``stdout``/``stderr``, then ``exit`` or ``error``.

        The request is sent when iteration starts. Closing the stream early (``with`` block, ``close()``,
        or leaving the loop) closes the connection, which kills the command.
        """
        return ExecStream(self._client, self.id, common.exec_body(command, cwd, env, timeout_ms, stdin))


class ExecStream:
    """The events of one streaming exec: iterate it once; a context manager that closes the connection."""

    def __init__(self, client: Sandgate, sandbox_id: str, body: dict[str, Any]) -> None:
        self._events = self._run(client, sandbox_id, body)

    @staticmethod
    def _run(client: Sandgate, sandbox_id: str, body: dict[str, Any]) -> Generator[ExecEvent, None, None]:
        with connect_sse(
            client._http,
            "POST",
            common.sandbox_path(sandbox_id, "/exec/stream"),
            json=body,
            timeout=common.stream_timeout(client._timeout),
        ) as source:
            for message in source.iter_sse():
                event = common.parse_event(message.data)
                if event is not None:
                    yield event

    def __iter__(self) -> Iterator[ExecEvent]:
        return self._events

    def __next__(self) -> ExecEvent:
        return next(self._events)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._events.close()


class Files:
    """Files under the sandbox's /workspace; paths are absolute under it or relative to it."""

    def __init__(self, client: Sandgate, sandbox_id: str) -> None:
        self._client = client
        self._id = sandbox_id

    def read(self, path: str) -> bytes:
        """The whole file, as bytes."""
        response = self._client._http.get(common.sandbox_path(self._id, "/files/content"), params={"path": path})
        return response.content

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return self.read(path).decode(encoding)

    def iter_bytes(self, path: str, chunk_size: int = common.CHUNK_SIZE) -> Iterator[bytes]:
        """The file's bytes in chunks as they arrive; the connection stays open until the loop ends."""
        with self._client._http.stream(
            "GET", common.sandbox_path(self._id, "/files/content"), params={"path": path}
        ) as response:
            yield from response.iter_bytes(chunk_size)

    def download(self, path: str, destination: str | os.PathLike[str] | IO[bytes]) -> int:
        """Streams the file into a local path or a binary file object; returns the number of bytes."""
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as out:
                return self.download(path, out)
        size = 0
        for chunk in self.iter_bytes(path):
            destination.write(chunk)
            size += len(chunk)
        return size

    def write(self, path: str, data: FileData) -> FileInfo:
        """Uploads raw bytes, streamed for file objects and iterables; the file appears whole or not at all.

        Missing parent directories are created.
        """
        headers = {"Content-Type": "application/octet-stream"}
        content: bytes | Iterable[bytes]
        if isinstance(data, str):
            content = data.encode("utf-8")
        elif isinstance(data, (bytes, bytearray, memoryview)):
            content = bytes(data)
        elif hasattr(data, "read"):
            size = common.file_size(data)
            if size is not None:
                headers["Content-Length"] = str(size)
            content = _chunks(data)  # type: ignore[arg-type]
        else:
            content = data
        response = self._client._http.put(
            common.sandbox_path(self._id, "/files/content"), params={"path": path}, content=content, headers=headers
        )
        return FileInfo.from_dict(response.json())

    def upload(self, path: str, source: str | os.PathLike[str]) -> FileInfo:
        """Streams a local file into the sandbox."""
        with open(source, "rb") as data:
            return self.write(path, data)

    def read_json(self, path: str, *, encoding: Encoding = "utf-8") -> FileContent:
        """The file inside JSON, as text or base64 (limited in size by the host; prefer :meth:`read`)."""
        body = ReadFileRequest(path=path, encoding=encoding)
        return common.parsed(read_file_json.sync_detailed(self._id, client=self._client.api, body=body), FileContent)

    def write_json(self, path: str, content: str, *, encoding: Encoding = "utf-8") -> FileInfo:
        """Writes text or base64 content sent inside JSON (limited in size by the host; prefer :meth:`write`)."""
        body = WriteFileRequest(path=path, content=content, encoding=encoding)
        return common.parsed(write_file_json.sync_detailed(self._id, client=self._client.api, body=body), FileInfo)

    def list(self, path: str = "/workspace", *, recursive: bool = False) -> FileList:
        response = list_files.sync_detailed(self._id, client=self._client.api, path=path, recursive=recursive)
        return common.parsed(response, FileList)

    def stat(self, path: str) -> FileInfo:
        return common.parsed(stat_file.sync_detailed(self._id, client=self._client.api, path=path), FileInfo)

    def mkdir(self, path: str, *, recursive: bool = False) -> FileInfo:
        body = MkdirRequest(path=path, recursive=recursive)
        return common.parsed(mkdir.sync_detailed(self._id, client=self._client.api, body=body), FileInfo)

    def move(self, source: str, destination: str, *, overwrite: bool = False) -> FileInfo:
        body = MoveFileRequest(from_=source, to=destination, overwrite=overwrite)
        return common.parsed(move_file.sync_detailed(self._id, client=self._client.api, body=body), FileInfo)

    def delete(self, path: str, *, recursive: bool = False) -> None:
        delete_file.sync_detailed(self._id, client=self._client.api, path=path, recursive=recursive)


def _chunks(data: IO[bytes]) -> Iterator[bytes]:
    while chunk := data.read(common.CHUNK_SIZE):
        yield chunk
