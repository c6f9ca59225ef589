"""Every failure of the client is a SandgateError with a code, sync and async: a host that refuses the
connection (``unreachable``), one that does not answer in time (``timeout``), a wrong token (``unauthorized``)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import assert_type

import httpx
import pytest

from sandgate import AsyncSandgate, CreatedSandbox, PortLink, SandboxInfo, Sandgate, SandgateError


@pytest.fixture
def refused_url() -> str:
    """A loopback port nothing listens on: bound, then closed, so connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()
    for conn in accepted:
        conn.close()


def test_refused_connection_is_unreachable(refused_url: str) -> None:
    with Sandgate(refused_url, "t") as sg, pytest.raises(SandgateError) as caught:
        sg.health()
    assert (caught.value.code, caught.value.status) == ("unreachable", 0)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    # Also through the generated layer on the same connection pool, and for streams.
    with Sandgate(refused_url, "t") as sg:
        with pytest.raises(SandgateError, match="cannot reach"):
            sg.sandboxes.create()
        with pytest.raises(SandgateError, match="cannot reach"):
            list(sg.sandbox("x").exec_stream("true"))


async def test_refused_connection_is_unreachable_async(refused_url: str) -> None:
    async with AsyncSandgate(refused_url, "t") as sg:
        with pytest.raises(SandgateError) as caught:
            await sg.health()
        assert (caught.value.code, caught.value.status) == ("unreachable", 0)
        with pytest.raises(SandgateError, match="cannot reach"):
            await sg.sandbox("x").files.read("a")


def test_no_answer_in_time_is_timeout(silent_url: str) -> None:
    with Sandgate(silent_url, "t", timeout=0.2) as sg, pytest.raises(SandgateError) as caught:
        sg.health()
    assert (caught.value.code, caught.value.status) == ("timeout", 0)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


async def test_no_answer_in_time_is_timeout_async(silent_url: str) -> None:
    async with AsyncSandgate(silent_url, "t", timeout=0.2) as sg:
        with pytest.raises(SandgateError) as caught:
            await sg.sandboxes.list()
    assert (caught.value.code, caught.value.status) == ("timeout", 0)


def test_wrong_token_is_unauthorized_and_the_right_one_works(sandgate_url: str, sandgate_token: str) -> None:
    with Sandgate(sandgate_url, "wrong") as sg, pytest.raises(SandgateError) as caught:
        sg.sandboxes.list()
    assert (caught.value.code, caught.value.status) == ("unauthorized", 401)
    with Sandgate(sandgate_url, sandgate_token) as sg:  # positive control: the same call goes through
        assert isinstance(sg.sandboxes.list().sandboxes, list)


async def test_wrong_token_is_unauthorized_async(sandgate_url: str) -> None:
    async with AsyncSandgate(sandgate_url, "wrong") as sg:
        with pytest.raises(SandgateError) as caught:
            await sg.sandboxes.list()
    assert (caught.value.code, caught.value.status) == ("unauthorized", 401)


def test_plain_types(sandgate_url: str, sandgate_token: str) -> None:
    """``info`` is set after create, labels are a dict, events have ``type``, a port link's ``url`` is a str."""
    with Sandgate(sandgate_url, sandgate_token) as sg:
        sb = sg.sandboxes.create(labels={"suite": "python-types"})
        try:
            assert_type(sb, CreatedSandbox)
            assert_type(sb.info, SandboxInfo)
            assert sb.info.labels == {"suite": "python-types"}
            assert type(sb.info.labels) is dict
            assert "labels={'suite': 'python-types'}" in repr(sb.info)
            assert sb.info.network == "egress"
            assert [e.type for e in sb.exec_stream("echo hi")] == ["stdout", "exit"]
            link = sb.port_link(8080)
            assert_type(link, PortLink)
            assert_type(link.url, str)
            assert link.url.startswith(sandgate_url + "/")
            assert [info.labels for info in sg.sandboxes.iter(label="suite:python-types")] == [
                {"suite": "python-types"}
            ]
        finally:
            sb.delete()
