"""Background processes, their logs (buffered, and followed across dropped connections), kill and the waits,
git checkout, sandbox env, scoped tokens and the port proxy, through the sync and async clients against a
real Node host (real sandboxes, real sockets).

Dropped connections are real too: the clients run over httpx's own HTTP transport, wrapped so that the
body of a log stream is cut after some bytes (the connection is closed, and the reader sees the body end
or fail, as when a proxy or the network drops it).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Literal
from urllib.parse import urlsplit

import httpx
import pytest

from sandgate import (
    AsyncSandbox,
    AsyncSandgate,
    ProcessExitEvent,
    ProcessLogEvent,
    ProcessStderrEvent,
    ProcessStdoutEvent,
    Sandbox,
    Sandgate,
    SandgateError,
)

IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}
LINES = 40
# Prints `line 1` ... `line 40`, one every 50 ms: about 2 s.
NUMBERED = f'for i in $(seq 1 {LINES}); do echo "line $i"; sleep 0.05; done'
EXPECTED = [f"line {i}" for i in range(1, LINES + 1)]

Cut = tuple[int, Literal["end", "error"]]


def output_of(events: list[ProcessLogEvent]) -> str:
    return "".join(e.data for e in events if isinstance(e, (ProcessStdoutEvent, ProcessStderrEvent)))


def assert_contiguous(events: list[ProcessLogEvent], start: int = 0) -> int:
    """Every output event starts where the one before ended: no gap, no overlap. Returns the end."""
    at = start
    for event in events:
        if isinstance(event, (ProcessStdoutEvent, ProcessStderrEvent)):
            assert event.offset == at
            at = event.next_offset
    return at


class _CutStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int, how: str) -> None:
        self._inner, self._limit, self._how = inner, limit, how

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self._inner:
            room = self._limit - sent
            if len(chunk) < room:
                sent += len(chunk)
                yield chunk
                continue
            if room > 0:
                yield chunk[:room]
            self._inner.close()  # the real connection goes away
            if self._how == "error":
                raise httpx.ReadError("connection cut by the test")
            return

    def close(self) -> None:
        self._inner.close()


class CuttingTransport(httpx.BaseTransport):
    """httpx's HTTP transport, cutting the body of the first log streams after some bytes each."""

    def __init__(self, cuts: list[Cut]) -> None:
        self._inner = httpx.HTTPTransport()
        self.cuts = list(cuts)
        self.offsets: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if not request.url.path.endswith("/logs/stream"):
            return response
        self.offsets.append(request.url.params.get("offset"))
        if not self.cuts:
            return response
        limit, how = self.cuts.pop(0)
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_CutStream(response.stream, limit, how),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class _AsyncCutStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int, how: str) -> None:
        self._inner, self._limit, self._how = inner, limit, how

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._inner:
            room = self._limit - sent
            if len(chunk) < room:
                sent += len(chunk)
                yield chunk
                continue
            if room > 0:
                yield chunk[:room]
            await self._inner.aclose()
            if self._how == "error":
                raise httpx.ReadError("connection cut by the test")
            return

    async def aclose(self) -> None:
        await self._inner.aclose()


class AsyncCuttingTransport(httpx.AsyncBaseTransport):
    def __init__(self, cuts: list[Cut]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.cuts = list(cuts)
        self.offsets: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not request.url.path.endswith("/logs/stream"):
            return response
        self.offsets.append(request.url.params.get("offset"))
        if not self.cuts:
            return response
        limit, how = self.cuts.pop(0)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_AsyncCutStream(response.stream, limit, how),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class StallingRelay:
    """A TCP relay to the host whose first connection forwards ``stall_after`` bytes of the answer and then
    nothing, holding the connection open: a peer that vanished without closing. Later connections relay."""

    def __init__(self, target_url: str, stall_after: int) -> None:
        target = urlsplit(target_url)
        self._target = (target.hostname or "127.0.0.1", target.port or 80)
        self._stall_after = stall_after
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                downstream, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            self._sockets += [downstream, upstream]
            limit = self._stall_after if self.connections == 0 else None
            self.connections += 1
            threading.Thread(target=self._pipe, args=(downstream, upstream, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, downstream, limit), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if limit is not None and sent + len(data) >= limit:
                    sink.sendall(data[: limit - sent])
                    self._closed.wait()  # silent from here on, the connection left open
                    return
                sink.sendall(data)
                sent += len(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        for sock in self._sockets:
            sock.close()


CUTS: list[Cut] = [(200, "end"), (333, "error"), (250, "error")]


@pytest.fixture
def sg(sandgate_url: str, sandgate_token: str) -> Iterator[Sandgate]:
    with Sandgate(sandgate_url, sandgate_token) as client:
        yield client


@pytest.fixture
def sb(sg: Sandgate) -> Iterator[Sandbox]:
    sandbox = sg.sandboxes.create(labels={"suite": "python-processes"})
    yield sandbox
    sandbox.delete()


@pytest.fixture
async def asg(sandgate_url: str, sandgate_token: str) -> AsyncIterator[AsyncSandgate]:
    async with AsyncSandgate(sandgate_url, sandgate_token) as client:
        yield client


@pytest.fixture
async def asb(asg: AsyncSandgate) -> AsyncIterator[AsyncSandbox]:
    sandbox = await asg.sandboxes.create(labels={"suite": "python-processes-async"})
    yield sandbox
    await sandbox.delete()


# --- sync ---------------------------------------------------------------------------------------------


def test_start_list_get_and_buffered_logs(sb: Sandbox) -> None:
    # stdout and stderr are two pipes: pauses keep their interleaving in the log deterministic.
    proc = sb.start_process("echo out; sleep 0.1; echo err >&2; sleep 0.1; echo done", name="short")
    assert proc.info is not None
    assert (proc.info.sandbox_id, proc.info.name, proc.info.cwd) == (sb.id, "short", "/workspace")
    assert proc.info.argv == ["/bin/sh", "-c", "echo out; sleep 0.1; echo err >&2; sleep 0.1; echo done"]
    assert proc.id in [p.id for p in sb.list_processes()]

    ended = proc.wait()
    assert (ended.status, ended.exit_code) == ("exited", 0)
    assert sb.process(proc.id).get() == ended

    logs = proc.logs()
    assert (logs.stdout, logs.stderr, logs.first_offset, logs.next_offset) == ("out\ndone\n", "err\n", 0, 13)
    at = 0
    for chunk in logs.chunks:
        assert chunk.offset == at
        at += len(chunk.data.encode())
    assert at == 13
    tail = proc.logs(limit_bytes=5)
    assert ("".join(c.data for c in tail.chunks), tail.next_offset) == ("done\n", 13)
    assert "".join(c.data for c in proc.logs(offset=4).chunks) == "err\ndone\n"


def test_follow_reconnects_from_the_last_offset_without_duplicates_or_gaps(
    sandgate_url: str, sandgate_token: str, sb: Sandbox
) -> None:
    proc = sb.start_process(NUMBERED)
    transport = CuttingTransport(CUTS)
    with Sandgate(sandgate_url, sandgate_token, transport=transport) as cutting:
        events: list[ProcessLogEvent] = []
        seen_offsets: list[int] = []
        with cutting.sandbox(sb.id).process(proc.id).follow(backoff=0.02) as follower:
            for event in follower:
                events.append(event)
                seen_offsets.append(follower.offset)
        assert follower.reconnects == 3
    # Four connections: the first from 0, each later one from the offset the follower had reached.
    assert len(transport.offsets) == 4
    assert transport.offsets[0] == "0"
    assert len(set(transport.offsets)) == 4
    for offset in transport.offsets[1:]:
        assert offset is not None
        assert int(offset) in seen_offsets
    end = assert_contiguous(events)
    assert output_of(events).splitlines() == EXPECTED
    assert sum(isinstance(e, ProcessExitEvent) for e in events) == 1
    last = events[-1]
    assert isinstance(last, ProcessExitEvent)
    assert (last.status, last.exit_code, last.next_offset) == ("exited", 0, end)
    assert follower.offset == end


def test_follow_reconnects_when_the_stream_goes_silent(sandgate_url: str, sandgate_token: str, sb: Sandbox) -> None:
    proc = sb.start_process(NUMBERED)
    relay = StallingRelay(sandgate_url, stall_after=600)  # the response head and a few events
    try:
        with (
            Sandgate(relay.url, sandgate_token) as stalling,
            stalling.sandbox(sb.id).process(proc.id).follow(idle_timeout=0.5, backoff=0.01) as follower,
        ):
            events = list(follower)
        assert (follower.reconnects, relay.connections) == (1, 2)
    finally:
        relay.close()
    assert_contiguous(events)
    assert output_of(events).splitlines() == EXPECTED
    assert isinstance(events[-1], ProcessExitEvent)


def test_follow_resumes_from_an_offset_and_gives_up_after_max_retries(
    sandgate_url: str, sandgate_token: str, sb: Sandbox
) -> None:
    proc = sb.start_process("echo one; echo two; echo three")
    proc.wait()
    assert output_of(list(proc.follow(offset=4))) == "two\nthree\n"

    transport = CuttingTransport([(0, "error")] * 10)
    with (
        Sandgate(sandgate_url, sandgate_token, transport=transport) as failing,
        pytest.raises(SandgateError, match="connection cut") as cut,
    ):
        list(failing.sandbox(sb.id).process(proc.id).follow(max_retries=2, backoff=0.001))
    assert (cut.value.code, cut.value.status) == ("unreachable", 0)
    assert isinstance(cut.value.__cause__, httpx.ReadError)
    assert transport.offsets == ["0", "0", "0"]
    # A refusal is not retried.
    with pytest.raises(SandgateError) as caught:
        list(sb.process("p-missing").follow())
    assert (caught.value.code, caught.value.status) == ("not_found", 404)


def test_closing_a_follower_leaves_the_process_running(sb: Sandbox) -> None:
    proc = sb.start_process(NUMBERED)
    with proc.follow() as events:
        first = next(iter(events))
    assert isinstance(first, ProcessStdoutEvent)
    assert proc.get().status == "running"
    proc.kill("KILL")


def test_kill(sb: Sandbox) -> None:
    term = sb.start_process("echo up; exec sleep 60")
    term.wait_for_log("^up$")
    killed = term.kill()
    assert (killed.status, killed.exit_code) == ("killed", 143)
    assert term.info == killed
    tree = sb.start_process("sleep 60 & sleep 60 & wait")
    assert (tree.kill("KILL").status, tree.info.exit_code if tree.info else None) == ("killed", 137)
    last = list(tree.follow())[-1]
    assert isinstance(last, ProcessExitEvent)
    assert (last.status, last.exit_code) == ("killed", 137)


def test_wait_for_log(sb: Sandbox) -> None:
    server = sb.start_process("echo starting; sleep 0.3; echo 'ready on 8080' >&2; sleep 30")
    found = server.wait_for_log(r"^ready on \d+$", timeout_ms=10_000)
    assert (found.line, found.offset, found.process.status) == ("ready on 8080", len("starting\n"), "running")
    with pytest.raises(SandgateError) as caught:
        server.wait_for_log("ready", stream="stdout", timeout_ms=300)
    assert (caught.value.code, caught.value.status) == ("timeout", 504)
    server.kill("KILL")
    quitter = sb.start_process("echo bye")
    with pytest.raises(SandgateError) as caught:
        quitter.wait_for_log("never printed", timeout_ms=10_000)
    assert caught.value.code == "conflict"


def test_set_env_and_network(sg: Sandgate) -> None:
    sb = sg.sandboxes.create(env={"FIRST": "1"}, network="none")
    try:
        assert sb.info is not None
        assert sb.info.network == "none"
        assert sb.exec("echo $FIRST").stdout == "1\n"
        sb.set_env({"SECOND": "2"})
        assert sb.exec("echo ${FIRST:-unset} $SECOND").stdout == "unset 2\n"
        proc = sb.start_process("echo $SECOND $OWN", env={"OWN": "mine"})
        proc.wait()
        assert proc.logs().stdout == "2 mine\n"
    finally:
        sb.delete()


def test_create_token(sandgate_url: str, sg: Sandgate, sb: Sandbox) -> None:
    minted = sb.create_token(["exec", "sandbox:read"], ttl_seconds=600)
    assert (minted.sandbox_id, minted.scopes) == (sb.id, ["exec", "sandbox:read"])
    with Sandgate(sandgate_url, minted.token) as scoped_client:
        scoped = scoped_client.sandbox(sb.id)
        assert scoped.get().id == sb.id
        proc = scoped.start_process("echo scoped")
        proc.wait()
        assert proc.logs().stdout == "scoped\n"
        with pytest.raises(SandgateError) as caught:
            scoped.files.write("x", "y")
        assert caught.value.code == "forbidden"
    other = sg.create_token(sb.id, ["files:read"])
    with Sandgate(sandgate_url, other.token) as reader, pytest.raises(SandgateError) as caught:
        reader.sandbox(sb.id).exec("true")
    assert (caught.value.code, caught.value.status) == ("forbidden", 403)


def test_git_checkout(sb: Sandbox) -> None:
    made = sb.exec(
        "\n".join(
            [
                "set -e",
                "git init -q --bare -b main /workspace/origin.git",
                "git clone -q /workspace/origin.git work 2>/dev/null",
                "cd work && git checkout -q -b main",
                "for n in 1 2; do echo v$n > version.txt; git add version.txt; git commit -qm v$n; done",
                "git push -q origin main",
                "git rev-parse HEAD",
            ]
        ),
        env=IDENTITY,
    )
    assert made.exit_code == 0, made.stderr
    result = sb.git_checkout("file:///workspace/origin.git", branch="main", depth=1, dir="checkout")
    assert (result.dir_, result.branch, result.commit) == ("/workspace/checkout", "main", made.stdout.strip())
    assert sb.files.read_text("checkout/version.txt") == "v2\n"
    assert sb.exec("git -C checkout rev-list --count HEAD").stdout == "1\n"
    with pytest.raises(SandgateError) as caught:
        sb.git_checkout("file:///workspace/origin.git", dir="checkout")
    assert caught.value.code == "conflict"


def test_port_proxy_and_port_link(sandgate_url: str, sandgate_token: str, sg: Sandgate, sb: Sandbox) -> None:
    sb.files.write("site/hello.txt", "hello through the proxy\n")
    server = sb.start_process(["python3", "-m", "http.server", "8080"], cwd="site")
    ready = server.wait_for_port(8080, path="/hello.txt", timeout_ms=20_000)
    assert ready.process.status == "running"

    url = sb.port_url(8080, "/hello.txt")
    assert url == f"{sandgate_url}/v1/sandboxes/{sb.id}/ports/8080/hello.txt"
    assert sb.port_url(8080, "ws", websocket=True) == url.replace("http", "ws", 1).replace("hello.txt", "ws")

    response = sb.fetch_port(8080, "/hello.txt")
    assert (response.status_code, response.text) == (200, "hello through the proxy\n")
    assert "hello.txt" in sb.fetch_port(8080, "/").text
    assert sb.fetch_port(8080, "/nope.txt").status_code == 404  # the app's own answer, not raised

    assert httpx.get(url).status_code == 401  # no token
    link = sb.port_link(8080, path="/hello.txt", ttl_seconds=60)
    assert isinstance(link.url, str)
    assert link.url.startswith(f"{sandgate_url}/v1/sandboxes/{sb.id}/ports/8080/hello.txt?")
    # As a browser does: the link redirects to the same URL without it, leaving a cookie for the port.
    with httpx.Client(follow_redirects=True) as browser:
        via_link = browser.get(link.url)
    assert (via_link.status_code, via_link.text) == (200, "hello through the proxy\n")
    assert [r.status_code for r in via_link.history] == [302]

    ports = sb.create_token(["ports"])
    with Sandgate(sandgate_url, ports.token) as scoped:
        assert scoped.sandbox(sb.id).fetch_port(8080, "/hello.txt").text == "hello through the proxy\n"

    closed = sb.fetch_port(8081)
    assert closed.status_code == 502
    error = SandgateError.from_body(closed.status_code, closed.content)
    assert error.code == "upstream_unavailable"
    server.kill()


# --- async --------------------------------------------------------------------------------------------


async def test_async_follow_reconnects_without_duplicates_or_gaps(
    sandgate_url: str, sandgate_token: str, asb: AsyncSandbox
) -> None:
    proc = await asb.start_process(NUMBERED)
    assert proc.info is not None
    assert proc.info.status == "running"
    transport = AsyncCuttingTransport(CUTS)
    events: list[ProcessLogEvent] = []
    async with (
        AsyncSandgate(sandgate_url, sandgate_token, transport=transport) as cutting,
        cutting.sandbox(asb.id).process(proc.id).follow(backoff=0.02) as follower,
    ):
        async for event in follower:
            events.append(event)
    assert follower.reconnects == 3
    assert len(transport.offsets) == 4
    assert len(set(transport.offsets)) == 4
    end = assert_contiguous(events)
    assert output_of(events).splitlines() == EXPECTED
    last = events[-1]
    assert isinstance(last, ProcessExitEvent)
    assert (last.exit_code, last.next_offset) == (0, end)
    assert (await proc.logs()).next_offset == end


async def test_async_processes_ports_git_env_tokens(sandgate_url: str, asg: AsyncSandgate, asb: AsyncSandbox) -> None:
    proc = await asb.start_process("echo a; sleep 0.2; echo b")
    assert proc.id in [p.id for p in await asb.list_processes()]
    found = await proc.wait_for_log("^b$")
    assert found.line == "b"
    assert (await proc.wait()).exit_code == 0
    assert output_of([e async for e in proc.follow(offset=2)]) == "b\n"
    assert (await asb.process(proc.id).logs()).stdout == "a\nb\n"

    sleeper = await asb.start_process(["sleep", "60"])
    assert (await sleeper.kill("KILL")).exit_code == 137

    await asb.set_env({"GREETING": "hi"})
    assert (await asb.exec("echo $GREETING")).stdout == "hi\n"

    made = await asb.exec(
        "git init -q --bare -b main origin.git && git clone -q origin.git w 2>/dev/null && cd w"
        " && git checkout -q -b main && echo x > f && git add f && git commit -qm x && git push -q origin main",
        env=IDENTITY,
    )
    assert made.exit_code == 0, made.stderr
    checkout = await asb.git_checkout("file:///workspace/origin.git", branch="main", depth=1)
    assert (checkout.dir_, checkout.branch) == ("/workspace/origin", "main")

    await asb.files.write("site/index.html", "<p>async</p>")
    server = await asb.start_process(["python3", "-m", "http.server", "8080"], cwd="site")
    await server.wait_for_port(8080, timeout_ms=20_000)
    assert (await asb.fetch_port(8080, "/index.html")).text == "<p>async</p>"
    link = await asb.port_link(8080)
    assert isinstance(link.url, str)
    async with httpx.AsyncClient(follow_redirects=True) as anonymous:
        assert (await anonymous.get(asb.port_url(8080, "/index.html"))).status_code == 401
        assert (await anonymous.get(link.url)).text == "<p>async</p>"
        # The link left a cookie for the port: the browser-like client now gets in without it.
        assert (await anonymous.get(asb.port_url(8080, "/index.html"))).status_code == 200
    token = await asg.create_token(asb.id, ["ports"])
    async with AsyncSandgate(sandgate_url, token.token) as scoped:
        assert (await scoped.sandbox(asb.id).fetch_port(8080, "/index.html")).status_code == 200
    await server.kill()
