"""The asyncio client against a real Node host: every method, streaming, binary files, errors."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from beats import BEATER, UNTIL_STOPPED

from sandgate import (
    AsyncSandbox,
    AsyncSandgate,
    ExecEvent,
    ExecExitEvent,
    ExecStderrEvent,
    ExecStdoutEvent,
    SandgateError,
)
from sandgate.generated.api.compat import compat_get
from sandgate.generated.models.compat_sandbox import CompatSandbox


@pytest.fixture
async def sg(sandgate_url: str, sandgate_token: str) -> AsyncIterator[AsyncSandgate]:
    async with AsyncSandgate(sandgate_url, sandgate_token) as client:
        yield client


@pytest.fixture
async def sb(sg: AsyncSandgate) -> AsyncIterator[AsyncSandbox]:
    sandbox = await sg.sandboxes.create(labels={"suite": "python-async"})
    yield sandbox
    try:
        await sandbox.delete()
    except SandgateError as err:
        if err.code != "not_found":  # a test may have deleted it already
            raise


async def test_health_and_lifecycle(sg: AsyncSandgate) -> None:
    health = await sg.health()
    assert (health.ok, health.backend) == (True, "local")

    run = f"apy-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    sb = await sg.sandboxes.create(id=run, ttl_seconds=600, labels={"run": run})
    assert sb.info is not None
    assert (sb.id, sb.info.status) == (run, "ready")
    assert (sb.info.expires_at - sb.info.created_at).total_seconds() == 600
    assert (await sg.sandboxes.get(run)).id == run
    assert [s.id for s in (await sg.sandboxes.list(label=f"run:{run}")).sandboxes] == [run]
    assert [s.id async for s in sg.sandboxes.iter(label=f"run:{run}")] == [run]

    extended = await sg.sandboxes.update(run, extend_by_seconds=100)
    assert (extended.expires_at - sb.info.expires_at).total_seconds() == 100
    relabelled = await sb.update(labels={"only": "this"})
    assert relabelled.labels == {"only": "this"}
    assert (await sb.get()).labels == {"only": "this"}

    await sb.delete()
    with pytest.raises(SandgateError) as missing:
        await sb.get()
    assert (missing.value.code, missing.value.status, missing.value.details) == ("not_found", 404, {"sandboxId": run})


async def test_exec_and_concurrency(sb: AsyncSandbox) -> None:
    result = await sb.exec("echo $A; cat; exit 2", env={"A": "a"}, stdin="in")
    assert (result.exit_code, result.stdout) == (2, "a\nin")
    argv = await sb.exec(["printf", "%s|", "x y", "*"])
    assert argv.stdout == "x y|*|"
    # Several commands at once over one client: they overlap rather than queue. Each marks that it
    # started and then waits (at most 10 s) until all four have: queued commands would time out instead.
    overlap = (
        "touch started-{n}; i=0; while [ $(ls started-* | wc -l) -lt 4 ] && [ $i -lt 200 ]; "
        "do sleep 0.05; i=$((i+1)); done; ls started-* | wc -l; echo {n}"
    )
    results = await asyncio.gather(*(sb.exec(overlap.format(n=n)) for n in range(4)))
    assert [r.stdout.split() for r in results] == [["4", str(n)] for n in range(4)]


async def test_exec_stream(sb: AsyncSandbox) -> None:
    events: list[ExecEvent] = [
        e async for e in sb.exec_stream("for i in 1 2 3; do echo $i; sleep 0.05; done; echo e >&2")
    ]
    last = events[-1]
    assert isinstance(last, ExecExitEvent)
    assert last.exit_code == 0
    assert "".join(e.data for e in events if isinstance(e, ExecStdoutEvent)) == "1\n2\n3\n"
    assert "".join(e.data for e in events if isinstance(e, ExecStderrEvent)) == "e\n"
    assert sum(isinstance(e, ExecStdoutEvent) for e in events) >= 3


async def test_closing_an_exec_stream_kills_the_command(sb: AsyncSandbox) -> None:
    async with sb.exec_stream(BEATER) as stream:
        first = await anext(stream)
    assert isinstance(first, ExecStdoutEvent)
    assert first.data == "started\n"
    # Waits in the sandbox until the command's beat stops (bounded), instead of sleeping.
    assert (await sb.exec(UNTIL_STOPPED)).stdout == "stopped\n"


async def test_files(sb: AsyncSandbox, tmp_path: Path) -> None:
    await sb.files.write("t.txt", "héllo")
    assert await sb.files.read_text("t.txt") == "héllo"

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            yield part

    assert (await sb.files.write("async-chunks.txt", chunks())).size == 13
    assert await sb.files.read("async-chunks.txt") == b"one two three"
    await sb.files.write("sync-chunks.txt", [b"a", b"b"])
    assert await sb.files.read("sync-chunks.txt") == b"ab"
    await sb.files.write("obj.bin", io.BytesIO(bytes(range(256))))
    assert await sb.files.read("obj.bin") == bytes(range(256))

    data = os.urandom(8 * 1024 * 1024 + 3)
    source = tmp_path / "src.bin"
    source.write_bytes(data)
    assert (await sb.files.upload("big.bin", source)).size == len(data)
    target = tmp_path / "dst.bin"
    assert await sb.files.download("big.bin", target) == len(data)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
    streamed = b"".join([c async for c in sb.files.iter_bytes("big.bin", chunk_size=65536)])
    assert streamed == data

    await sb.files.write_json("b64", "AAEC/w==", encoding="base64")
    assert (await sb.files.read_json("b64", encoding="base64")).content == "AAEC/w=="
    await sb.files.mkdir("d/e", recursive=True)
    await sb.files.move("t.txt", "d/e/t.txt")
    assert (await sb.files.stat("d/e/t.txt")).size == len("héllo".encode())
    assert sorted(e.path for e in (await sb.files.list("d", recursive=True)).entries) == [
        "/workspace/d/e",
        "/workspace/d/e/t.txt",
    ]
    await sb.files.delete("d", recursive=True)
    with pytest.raises(SandgateError) as gone:
        await sb.files.stat("d")
    assert gone.value.code == "not_found"


async def test_errors(sg: AsyncSandgate, sb: AsyncSandbox, sandgate_url: str) -> None:
    with pytest.raises(SandgateError) as conflict:
        await sg.sandboxes.create(id=sb.id)
    assert (conflict.value.code, conflict.value.status) == ("conflict", 409)
    with pytest.raises(SandgateError) as forbidden:
        await sb.files.read("/etc/passwd")
    assert forbidden.value.code == "forbidden"
    with pytest.raises(SandgateError) as invalid:
        await sb.exec([])
    assert invalid.value.code == "invalid_request"

    async def stream_missing() -> None:
        async with sg.sandbox("no-such-sandbox").exec_stream("true") as stream:
            async for _ in stream:
                pass

    with pytest.raises(SandgateError) as missing_stream:
        await stream_missing()
    assert missing_stream.value.code == "not_found"
    async with AsyncSandgate(sandgate_url, "wrong") as wrong:
        with pytest.raises(SandgateError) as unauthorized:
            await wrong.sandboxes.list()
    assert (unauthorized.value.code, unauthorized.value.status) == ("unauthorized", 401)

    response = await compat_get.asyncio_detailed(sb.id, client=sg.api)
    assert isinstance(response.parsed, CompatSandbox)
    assert response.parsed.sandbox_id == sb.id


async def test_restore_refuses_while_processes_run_unless_told_to_kill(sg: AsyncSandgate, sb: AsyncSandbox) -> None:
    await sb.files.write("/workspace/state.txt", b"saved")
    snapshot = await sb.snapshot(name="async-restore")
    await sb.files.write("/workspace/state.txt", b"changed")
    process = await sb.start_process("sleep 300")
    with pytest.raises(SandgateError) as busy:
        await sb.restore(snapshot.id)
    assert (busy.value.code, busy.value.status) == ("conflict", 409)
    assert await sb.files.read("/workspace/state.txt") == b"changed"  # control: nothing was restored
    result = await sb.restore(snapshot.id, kill_processes=True)
    assert result.killed_processes == 1
    assert await sb.files.read("/workspace/state.txt") == b"saved"
    assert (await process.get()).status != "running"
    await sg.snapshots.delete(snapshot.id)
