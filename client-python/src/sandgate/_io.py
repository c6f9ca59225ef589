"""What differs between the sync and async clients, in pairs (``async_x`` / ``x``): the generator that
writes ``_sync.py`` from ``_async.py`` (scripts/gen_sync.py) turns each async name into its sync twin.

Also the transports that turn every failure without a response into ``SandgateError``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import IO

import anyio
import anyio.to_thread
import httpx

from . import _common as common
from ._errors import SandgateError

AsyncFileData = bytes | bytearray | memoryview | str | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes]
"""A file's new content: bytes, text (UTF-8), a binary file object, or chunks (sync or async; streamed)."""

FileData = bytes | bytearray | memoryview | str | IO[bytes] | Iterable[bytes]
"""A file's new content: bytes, text (UTF-8), a binary file object or an iterable of chunks (both streamed)."""


async def async_sleep(seconds: float) -> None:
    await anyio.sleep(seconds)


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def _bytes_or_none(data: object) -> bytes | None:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    return None


async def async_upload_content(data: AsyncFileData) -> tuple[bytes | AsyncIterable[bytes], dict[str, str]]:
    """The body and headers of a raw upload; file objects are read chunk by chunk in a worker thread."""
    headers = {"Content-Type": "application/octet-stream"}
    whole = _bytes_or_none(data)
    if whole is not None:
        return whole, headers
    if hasattr(data, "read"):
        size = common.file_size(data)
        if size is not None:
            headers["Content-Length"] = str(size)
        return _async_file_chunks(data), headers  # type: ignore[arg-type]
    if isinstance(data, AsyncIterable):
        return data, headers
    return _async_iter_chunks(data), headers  # type: ignore[arg-type]


def upload_content(data: FileData) -> tuple[bytes | Iterable[bytes], dict[str, str]]:
    """The body and headers of a raw upload; file objects are read chunk by chunk."""
    headers = {"Content-Type": "application/octet-stream"}
    whole = _bytes_or_none(data)
    if whole is not None:
        return whole, headers
    if hasattr(data, "read"):
        size = common.file_size(data)
        if size is not None:
            headers["Content-Length"] = str(size)
        return _file_chunks(data), headers  # type: ignore[arg-type]
    return data, headers  # type: ignore[return-value]


async def _async_file_chunks(data: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await anyio.to_thread.run_sync(data.read, common.CHUNK_SIZE):
        yield chunk


async def _async_iter_chunks(data: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in data:
        yield chunk


def _file_chunks(data: IO[bytes]) -> Iterator[bytes]:
    while chunk := data.read(common.CHUNK_SIZE):
        yield chunk


class AsyncErrorTransport(httpx.AsyncBaseTransport):
    """Wraps a transport so that failures without a response (refused, reset, timed out), also while a
    body is read, raise ``SandgateError`` (``unreachable``/``timeout``, status 0) from the httpx error."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError as err:
            raise SandgateError.from_transport(err) from err
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_AsyncErrorStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class _AsyncErrorStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TransportError as err:
            raise SandgateError.from_transport(err) from err

    async def aclose(self) -> None:
        await self._inner.aclose()


class ErrorTransport(httpx.BaseTransport):
    """Wraps a transport so that failures without a response (refused, reset, timed out), also while a
    body is read, raise ``SandgateError`` (``unreachable``/``timeout``, status 0) from the httpx error."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._inner.handle_request(request)
        except httpx.TransportError as err:
            raise SandgateError.from_transport(err) from err
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_ErrorStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class _ErrorStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx.TransportError as err:
            raise SandgateError.from_transport(err) from err

    def close(self) -> None:
        self._inner.close()
