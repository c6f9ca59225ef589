"""The synchronous client against a real Node host: every method, streaming, binary files, errors."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, assert_type

import pytest
from beats import BEATER, UNTIL_STOPPED

from sandgate import (
    ExecErrorEvent,
    ExecEvent,
    ExecExitEvent,
    ExecStderrEvent,
    ExecStdoutEvent,
    FileInfo,
    FileList,
    PortLink,
    RestoreResult,
    Sandbox,
    SandboxInfo,
    Sandgate,
    SandgateError,
    Snapshot,
)
from sandgate.generated.api.compat import compat_get
from sandgate.generated.models.compat_sandbox import CompatSandbox
from sandgate.generated.models.file_type import FileType


@pytest.fixture
def sg(sandgate_url: str, sandgate_token: str) -> Iterator[Sandgate]:
    with Sandgate(sandgate_url, sandgate_token) as client:
        yield client


@pytest.fixture
def sb(sg: Sandgate) -> Iterator[Sandbox]:
    sandbox = sg.sandboxes.create(labels={"suite": "python-sync"})
    yield sandbox
    try:
        sandbox.delete()
    except SandgateError as err:
        if err.code != "not_found":  # a test may have deleted it already
            raise


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{time.monotonic_ns() % 10**9}"


def test_health_is_public(sandgate_url: str) -> None:
    with Sandgate(sandgate_url) as anonymous:
        health = anonymous.health()
    assert health.ok is True
    assert health.backend == "local"


def test_sandbox_lifecycle(sg: Sandgate) -> None:
    run = unique("py")
    sb = sg.sandboxes.create(id=run, ttl_seconds=600, env={"FROM_SANDBOX": "yes"}, labels={"suite": "py", "run": run})
    assert sb.id == run
    assert sb.info is not None
    assert sb.info.status == "ready"
    assert sb.info.labels == {"suite": "py", "run": run}
    assert (sb.info.expires_at - sb.info.created_at).total_seconds() == 600
    assert sb.exec("echo $FROM_SANDBOX").stdout == "yes\n"

    got = sg.sandboxes.get(run)
    assert got.id == run
    assert got.expires_at == sb.info.expires_at

    listed = sg.sandboxes.list(label=f"run:{run}")
    assert [s.id for s in listed.sandboxes] == [run]
    assert listed.next_cursor is None
    assert sg.sandboxes.list(label=[f"run:{run}", "suite:other"]).sandboxes == []

    extended = sg.sandboxes.update(run, extend_by_seconds=100)
    assert (extended.expires_at - sb.info.expires_at).total_seconds() == 100
    relabelled = sb.update(labels={"only": "this"})
    assert relabelled.labels["only"] == "this"
    assert sb.info == relabelled
    assert sb.get().labels == {"only": "this"}

    sg.sandboxes.delete(run)
    with pytest.raises(SandgateError) as missing:
        sg.sandboxes.get(run)
    assert missing.value.code == "not_found"
    assert missing.value.status == 404
    assert missing.value.details == {"sandboxId": run}


def test_iter_walks_every_page(sg: Sandgate) -> None:
    run = unique("pages")
    # Generated ids and chosen ones of every length mod 3: cursors carry ids as unpadded base64.
    ids = [sg.sandboxes.create(labels={"run": run}).id for _ in range(3)]
    ids += [sg.sandboxes.create(id=f"{run}-{suffix}", labels={"run": run}).id for suffix in ("a", "ab", "abc")]
    first = sg.sandboxes.list(label=f"run:{run}", limit=2)
    assert len(first.sandboxes) == 2
    assert isinstance(first.next_cursor, str)
    assert sorted(s.id for s in sg.sandboxes.iter(label=f"run:{run}", limit=2)) == sorted(ids)
    for sandbox_id in ids:
        sg.sandbox(sandbox_id).delete()


def test_exec(sb: Sandbox) -> None:
    shell = sb.exec("echo hello from $(pwd); echo oops >&2; exit 3")
    assert (shell.exit_code, shell.stdout, shell.stderr) == (3, "hello from /workspace\n", "oops\n")
    assert shell.timed_out is False
    assert shell.truncated is False
    assert shell.duration_ms > 0

    argv = sb.exec(["printf", "%s|", "a b", "$HOME", "*"])
    assert argv.stdout == "a b|$HOME|*|"

    sb.files.mkdir("sub")
    full = sb.exec("pwd; echo $GREETING; cat", cwd="sub", env={"GREETING": "hi"}, stdin="from stdin")
    assert full.stdout == "/workspace/sub\nhi\nfrom stdin"

    timed = sb.exec("sleep 5", timeout_ms=300)
    assert (timed.timed_out, timed.exit_code) == (True, 137)


def test_exec_stream_yields_typed_events(sb: Sandbox) -> None:
    events: list[ExecEvent] = list(
        sb.exec_stream("for i in 1 2 3; do echo out $i; sleep 0.05; done; echo err >&2; exit 4")
    )
    last = events[-1]
    assert isinstance(last, ExecExitEvent)
    assert (last.type_, last.exit_code, last.timed_out) == ("exit", 4, False)
    stdout = "".join(e.data for e in events if isinstance(e, ExecStdoutEvent))
    stderr = "".join(e.data for e in events if isinstance(e, ExecStderrEvent))
    assert stdout == "out 1\nout 2\nout 3\n"
    assert stderr == "err\n"
    assert sum(isinstance(e, ExecStdoutEvent) for e in events) >= 3
    assert not any(isinstance(e, ExecErrorEvent) for e in events)

    with sb.exec_stream(["sh", "-c", "echo $X"], env={"X": "from env"}) as stream:
        kinds = [(e.type_, getattr(e, "data", None)) for e in stream]
    assert kinds == [("stdout", "from env\n"), ("exit", None)]


def test_closing_an_exec_stream_kills_the_command(sb: Sandbox) -> None:
    with sb.exec_stream(BEATER) as stream:
        first = next(stream)
    assert isinstance(first, ExecStdoutEvent)
    assert first.data == "started\n"
    # Waits in the sandbox until the command's beat stops (bounded), instead of sleeping.
    assert sb.exec(UNTIL_STOPPED).stdout == "stopped\n"


def test_files_every_shape(sb: Sandbox, tmp_path: Path) -> None:
    text = "héllo wörld ✓\n"
    info = sb.files.write("text.txt", text)
    assert isinstance(info, FileInfo)
    assert (info.path, info.name, info.type_, info.size) == (
        "/workspace/text.txt",
        "text.txt",
        "file",
        len(text.encode()),
    )
    assert sb.files.read_text("text.txt") == text

    data = bytes(range(256))
    sb.files.write("/workspace/dir/deep/bytes.bin", data)
    assert sb.files.read("dir/deep/bytes.bin") == data
    sb.files.write("array.bin", bytearray(data))
    assert sb.files.read("array.bin") == data
    sb.files.write("chunks.txt", (part.encode() for part in ["one ", "two ", "three"]))
    assert sb.files.read("chunks.txt") == b"one two three"
    sb.files.write("fileobj.bin", io.BytesIO(data * 3))
    assert sb.files.read("fileobj.bin") == data * 3
    assert sb.exec("cat chunks.txt").stdout == "one two three"

    sb.files.write("empty", b"")
    assert sb.files.read("empty") == b""
    assert list(sb.files.iter_bytes("empty")) == []

    content = sb.files.write_json("j.txt", "plain text")
    assert content.size == 10
    assert sb.files.read_json("j.txt").to_dict() == {
        "path": "/workspace/j.txt",
        "content": "plain text",
        "encoding": "utf-8",
        "size": 10,
    }
    sb.files.write_json("b.bin", "AAEC/w==", encoding="base64")
    assert sb.files.read("b.bin") == b"\x00\x01\x02\xff"
    assert sb.files.read_json("b.bin", encoding="base64").content == "AAEC/w=="


def test_binary_files_stream_to_and_from_local_files(sb: Sandbox, tmp_path: Path) -> None:
    size = 24 * 1024 * 1024 + 7
    source = tmp_path / "source.bin"
    with open(source, "wb") as out:
        for _ in range(size // (1024 * 1024)):
            out.write(os.urandom(1024 * 1024))
        out.write(os.urandom(size % (1024 * 1024)))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()

    info = sb.files.upload("big/blob.bin", source)
    assert info.size == size
    assert sb.exec("sha256sum big/blob.bin").stdout.split()[0] == digest

    target = tmp_path / "copy.bin"
    assert sb.files.download("big/blob.bin", target) == size
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest

    hasher = hashlib.sha256()
    chunks = 0
    for chunk in sb.files.iter_bytes("big/blob.bin", chunk_size=256 * 1024):
        hasher.update(chunk)
        chunks += 1
    assert hasher.hexdigest() == digest
    assert chunks > 1
    assert hashlib.sha256(sb.files.read("big/blob.bin")).hexdigest() == digest


def test_file_tree_operations(sb: Sandbox) -> None:
    made = sb.files.mkdir("a/b/c", recursive=True)
    assert (made.path, made.type_) == ("/workspace/a/b/c", "directory")
    with pytest.raises(SandgateError) as exists:
        sb.files.mkdir("a/b/c")
    assert exists.value.code == "conflict"
    sb.files.write("a/one.txt", "1")
    sb.files.write("a/b/two.txt", "22")

    assert [e.name for e in sb.files.list().entries] == ["a"]
    assert sorted(e.name for e in sb.files.list("a").entries) == ["b", "one.txt"]
    deep = sb.files.list("/workspace/a", recursive=True)
    assert sorted(e.path for e in deep.entries) == [
        "/workspace/a/b",
        "/workspace/a/b/c",
        "/workspace/a/b/two.txt",
        "/workspace/a/one.txt",
    ]
    assert deep.truncated is False
    stat = sb.files.stat("a/b/two.txt")
    assert (stat.type_, stat.size, stat.name) == ("file", 2, "two.txt")

    moved = sb.files.move("a/one.txt", "a/b/two.txt", overwrite=True)
    assert (moved.path, moved.size) == ("/workspace/a/b/two.txt", 1)
    sb.files.write("x", "x")
    with pytest.raises(SandgateError) as clash:
        sb.files.move("x", "a/b/two.txt")
    assert clash.value.code == "conflict"

    with pytest.raises(SandgateError) as not_empty:
        sb.files.delete("a")
    assert not_empty.value.code == "conflict"
    sb.files.delete("a", recursive=True)
    sb.files.delete("x")
    assert sb.files.list().entries == []


def test_errors(sg: Sandgate, sb: Sandbox, sandgate_url: str) -> None:
    def code_of(call: object) -> tuple[str, int]:
        assert callable(call)
        with pytest.raises(SandgateError) as caught:
            call()
        return caught.value.code, caught.value.status

    assert code_of(lambda: sg.sandboxes.create(id=sb.id)) == ("conflict", 409)
    assert code_of(lambda: sg.sandboxes.create(id="Not Valid!")) == ("invalid_request", 400)
    assert code_of(lambda: sg.sandboxes.update(sb.id, ttl_seconds=10, extend_by_seconds=10)) == ("invalid_request", 400)
    assert code_of(lambda: sb.files.read("../../etc/passwd")) == ("forbidden", 403)
    assert code_of(lambda: sb.files.write("/etc/evil", b"x")) == ("forbidden", 403)
    assert code_of(lambda: sb.files.read("nope.txt")) == ("not_found", 404)
    assert code_of(lambda: list(sb.files.iter_bytes("nope.txt"))) == ("not_found", 404)
    assert code_of(lambda: sb.files.read_json("nope.txt")) == ("not_found", 404)
    assert code_of(lambda: sb.exec([])) == ("invalid_request", 400)

    with pytest.raises(SandgateError) as invalid:
        sg.sandboxes.create(id="Not Valid!")
    assert invalid.value.details is not None
    assert [issue["path"] for issue in invalid.value.details["issues"]] == ["id"]
    assert "invalid_request" in str(invalid.value)

    gone = sg.sandbox("no-such-sandbox")
    assert code_of(lambda: gone.exec("true")) == ("not_found", 404)
    # a stream's errors before it starts are raised when iteration begins, not yielded
    stream = gone.exec_stream("true")
    assert code_of(lambda: next(stream)) == ("not_found", 404)

    with Sandgate(sandgate_url, "wrong-token") as wrong:
        assert code_of(lambda: wrong.sandboxes.list()) == ("unauthorized", 401)
    with Sandgate(sandgate_url) as anonymous:
        assert code_of(lambda: anonymous.sandboxes.create()) == ("unauthorized", 401)


def test_generated_client_shares_the_connection_and_errors(sg: Sandgate, sb: Sandbox) -> None:
    # The compat route, through the generated client on the ergonomic client's connection and token.
    response = compat_get.sync_detailed(sb.id, client=sg.api)
    assert isinstance(response.parsed, CompatSandbox)
    assert (response.parsed.sandbox_id, response.parsed.sandbox_status) == (sb.id, "running")
    with pytest.raises(SandgateError) as missing:
        compat_get.sync_detailed("no-such-sandbox", client=sg.api)
    assert missing.value.code == "not_found"


def test_write_uses_content_length_for_files(sb: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as f:
        f.seek(4)
        info = sb.files.write("tail.bin", f)
    assert info.size == 6
    assert sb.files.read("tail.bin") == b"456789"


def test_snapshots_round_trip_through_a_tar_archive(sg: Sandgate, sb: Sandbox, tmp_path: Path) -> None:
    sb.files.write("/workspace/keep/a.txt", b"kept")
    sb.files.write("/workspace/node_modules/big.js", b"left out")
    snapshot = sg.sandbox(sb.id).snapshot(
        name=unique("py-snap"), labels={"suite": "python-sync"}, excludes=["node_modules"]
    )
    assert snapshot.sandbox_id == sb.id
    assert snapshot.digest.startswith("sha256:")
    assert sg.snapshots.get(snapshot.id).id == snapshot.id

    archive = tmp_path / "workspace.tar"
    exported: list[int] = []
    assert sg.snapshots.export(snapshot.id, archive, on_progress=exported.append) == archive.stat().st_size > 0
    assert exported[-1] == archive.stat().st_size
    assert exported == sorted(exported)
    sent: list[int] = []
    with archive.open("rb") as data:
        imported = sg.snapshots.import_archive(
            data, name="from-tar", label="suite:python-sync", on_progress=sent.append
        )
    assert sent[-1] == archive.stat().st_size
    assert imported.digest == snapshot.digest
    # Compressed as asked (the magic bytes say which); each imports to the same digest.
    cases: tuple[tuple[Literal["zstd", "gzip"], bytes], ...] = (("zstd", b"\x28\xb5\x2f\xfd"), ("gzip", b"\x1f\x8b"))
    for compression, magic in cases:
        packed = tmp_path / f"workspace.tar.{compression}"
        sg.snapshots.export(snapshot.id, packed, compression=compression)
        assert packed.read_bytes()[: len(magic)] == magic
        with packed.open("rb") as data:
            assert sg.snapshots.import_archive(data, label="suite:python-sync").digest == snapshot.digest

    target = sg.sandboxes.create(labels={"suite": "python-sync"})
    try:
        target.files.write("/workspace/stale.txt", b"goes away")
        result = target.restore(imported.id)
        assert result.snapshot.id == imported.id
        assert target.files.read("/workspace/keep/a.txt") == b"kept"
        for gone in ("/workspace/stale.txt", "/workspace/node_modules/big.js"):
            with pytest.raises(SandgateError) as caught:
                target.files.stat(gone)
            assert caught.value.code == "not_found"
    finally:
        target.delete()

    relabeled = sg.snapshots.update(snapshot.id, labels={"suite": "python-sync", "v": "2"}, ttl_seconds=3600)
    assert relabeled.labels == {"suite": "python-sync", "v": "2"}
    assert relabeled.expires_at is not None
    assert sg.snapshots.update(snapshot.id, keep_forever=True).expires_at is None
    ids = [s.id for s in sg.snapshots.iter(label="suite:python-sync", limit=1)]
    assert {snapshot.id, imported.id} <= set(ids)
    sg.snapshots.delete(imported.id)
    with pytest.raises(SandgateError) as caught:
        sg.snapshots.get(imported.id)
    assert caught.value.code == "not_found"


def test_results_are_plain_types_over_the_generated_models(sg: Sandgate) -> None:
    """What users get: ``dict`` labels, ``.type``, a set ``url``, ``info`` after create (mypy checks the
    ``assert_type`` lines; the asserts check the values at run time)."""
    created = sg.sandboxes.create(labels={"suite": "python-sync", "kind": "types"})
    try:
        info = created.info  # not Optional: no None check needed after create
        assert_type(info, SandboxInfo)
        assert_type(info.labels, dict[str, str])
        assert type(info.labels) is dict
        assert info.labels["kind"] == "types"
        assert "labels={'suite': 'python-sync', 'kind': 'types'}" in repr(info)
        assert "Labels(" not in repr(info)

        written = created.files.write("d/f.txt", b"x")
        assert_type(written.type, FileType)
        assert (written.type, written.type_) == ("file", "file")  # the generated attribute stays
        listed = created.files.list(recursive=True)
        assert isinstance(listed, FileList)
        assert sorted((e.name, e.type) for e in listed.entries) == [("d", "directory"), ("f.txt", "file")]
        assert all(isinstance(e, FileInfo) for e in listed.entries)
        assert created.files.stat("d").type == "directory"
        assert created.files.mkdir("e").type == "directory"
        assert created.files.move("e", "g").type == "directory"

        link = created.port_link(8080)
        assert isinstance(link, PortLink)
        assert_type(link.url, str)
        assert link.url.startswith("http")

        snapshot = created.snapshot(name=unique("py-types"), labels={"kind": "types"})
        try:
            assert isinstance(snapshot, Snapshot)
            assert_type(snapshot.labels, dict[str, str])
            assert type(snapshot.labels) is dict
            assert snapshot.labels == {"kind": "types"}
            assert "Labels(" not in repr(snapshot)
            assert sg.snapshots.get(snapshot.id) == snapshot
            assert snapshot.id in [s.id for s in sg.snapshots.list(sandbox_id=created.id).snapshots]
            result = created.restore(snapshot.id)
            assert isinstance(result, RestoreResult)
            assert_type(result.sandbox, SandboxInfo)
            assert result.sandbox.labels == info.labels
            assert created.info == result.sandbox
        finally:
            sg.snapshots.delete(snapshot.id)
    finally:
        created.delete()


def test_fork_and_create_from_snapshot(sg: Sandgate, sb: Sandbox) -> None:
    sb.files.write("/workspace/app.txt", b"forked")
    fork = sb.fork(2, labels={"suite": "python-fork"}, keep_snapshot=True)
    try:
        assert len(fork.sandboxes) == 2
        assert fork.snapshot is not None
        assert fork.snapshot.sandbox_id == sb.id
        for copy in fork.sandboxes:
            assert copy.info.labels == {"suite": "python-fork"}
            assert copy.exec("cat app.txt").stdout == "forked"
        again = sg.sandboxes.create(from_snapshot=fork.snapshot.id)
        try:
            assert again.exec("cat app.txt").stdout == "forked"
        finally:
            again.delete()
    finally:
        for copy in fork.sandboxes:
            copy.delete()
        if fork.snapshot is not None:
            sg.snapshots.delete(fork.snapshot.id)
    with pytest.raises(SandgateError) as caught:
        sb.fork(0)
    assert caught.value.code == "invalid_request"
