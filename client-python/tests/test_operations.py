"""Every operationId of openapi/openapi.json is reachable from the Python client, sync and async.

Each operation maps to a call (the ergonomic layer, or the generated client for the compat profile);
the call runs against a recording transport that answers 404 with the error envelope, and must send
exactly that operation's method and path, then raise SandgateError("not_found").
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandgate import AsyncSandgate, Sandgate, SandgateError
from sandgate.generated.api.compat import (
    compat_create,
    compat_download,
    compat_exec,
    compat_get,
    compat_kill,
    compat_update,
    compat_upload,
)
from sandgate.generated.models.compat_create_request import CompatCreateRequest
from sandgate.generated.models.compat_download_request import CompatDownloadRequest
from sandgate.generated.models.compat_exec_request import CompatExecRequest
from sandgate.generated.models.compat_update_request import CompatUpdateRequest
from sandgate.generated.models.compat_upload_request import CompatUploadRequest

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())
OPERATIONS = sorted(
    (op["operationId"], method.upper(), path)
    for path, methods in DOCUMENT["paths"].items()
    for method, op in methods.items()
    if "operationId" in op
)
ID = "sb-1"

SYNC: dict[str, Callable[[Sandgate], object]] = {
    "health": lambda sg: sg.health(),
    "createSandbox": lambda sg: sg.sandboxes.create(ttl_seconds=60),
    "listSandboxes": lambda sg: sg.sandboxes.list(label="a:b"),
    "getSandbox": lambda sg: sg.sandbox(ID).get(),
    "updateSandbox": lambda sg: sg.sandbox(ID).update(extend_by_seconds=1),
    "deleteSandbox": lambda sg: sg.sandbox(ID).delete(),
    "exec": lambda sg: sg.sandbox(ID).exec("true"),
    "execStream": lambda sg: list(sg.sandbox(ID).exec_stream("true")),
    "readFile": lambda sg: sg.sandbox(ID).files.read("f"),
    "writeFile": lambda sg: sg.sandbox(ID).files.write("f", b"x"),
    "readFileJson": lambda sg: sg.sandbox(ID).files.read_json("f"),
    "writeFileJson": lambda sg: sg.sandbox(ID).files.write_json("f", "x"),
    "listFiles": lambda sg: sg.sandbox(ID).files.list(),
    "statFile": lambda sg: sg.sandbox(ID).files.stat("f"),
    "mkdir": lambda sg: sg.sandbox(ID).files.mkdir("d"),
    "moveFile": lambda sg: sg.sandbox(ID).files.move("a", "b"),
    "deleteFile": lambda sg: sg.sandbox(ID).files.delete("f"),
    # The compat profile (seed-001 format): no ergonomic methods; the generated client reaches it.
    "compatCreate": lambda sg: compat_create.sync_detailed(client=sg.api, body=CompatCreateRequest(sandbox_id=ID)),
    "compatGet": lambda sg: compat_get.sync_detailed(ID, client=sg.api),
    "compatUpdate": lambda sg: compat_update.sync_detailed(
        ID, client=sg.api, body=CompatUpdateRequest(keepalive_longer_by_seconds=1)
    ),
    "compatKill": lambda sg: compat_kill.sync_detailed(ID, client=sg.api),
    "compatExec": lambda sg: compat_exec.sync_detailed(ID, client=sg.api, body=CompatExecRequest(command="true")),
    "compatDownload": lambda sg: compat_download.sync_detailed(
        ID, client=sg.api, body=CompatDownloadRequest(file_path="f")
    ),
    "createToken": lambda sg: sg.create_token(ID, ["exec"]),
    "startProcess": lambda sg: sg.sandbox(ID).start_process("sleep 1"),
    "listProcesses": lambda sg: sg.sandbox(ID).list_processes(),
    "getProcess": lambda sg: sg.sandbox(ID).process("p-1").get(),
    "getProcessLogs": lambda sg: sg.sandbox(ID).process("p-1").logs(offset=0),
    "streamProcessLogs": lambda sg: list(sg.sandbox(ID).process("p-1").follow()),
    "killProcess": lambda sg: sg.sandbox(ID).process("p-1").kill("KILL"),
    "waitForPort": lambda sg: sg.sandbox(ID).process("p-1").wait_for_port(8080),
    "waitForLog": lambda sg: sg.sandbox(ID).process("p-1").wait_for_log("ready"),
    "createPortLink": lambda sg: sg.sandbox(ID).port_link(8080),
    "gitCheckout": lambda sg: sg.sandbox(ID).git_checkout("file:///workspace/origin.git"),
    "createSnapshot": lambda sg: sg.sandbox(ID).snapshot(excludes=["node_modules"]),
    "restoreSnapshot": lambda sg: sg.sandbox(ID).restore("snap-1", kill_processes=True),
    "forkSandbox": lambda sg: sg.sandbox(ID).fork(2, labels={"k": "v"}),
    "listSnapshots": lambda sg: sg.snapshots.list(sandbox_id=ID),
    "getSnapshot": lambda sg: sg.snapshots.get("snap-1"),
    "deleteSnapshot": lambda sg: sg.snapshots.delete("snap-1"),
    "updateSnapshot": lambda sg: sg.snapshots.update("snap-1", labels={"k": "v"}, keep_forever=True),
    "exportSnapshot": lambda sg: sg.snapshots.export("snap-1", io.BytesIO()),
    "importSnapshot": lambda sg: sg.snapshots.import_archive(b"\0" * 1024, name="imported"),
    "compatUpload": lambda sg: compat_upload.sync_detailed(
        ID, client=sg.api, body=CompatUploadRequest(file_path="f", content="x")
    ),
}


async def _drain(items: Any) -> None:
    async for _ in items:
        pass


ASYNC: dict[str, Callable[[AsyncSandgate], Awaitable[object]]] = {
    "health": lambda sg: sg.health(),
    "createSandbox": lambda sg: sg.sandboxes.create(ttl_seconds=60),
    "listSandboxes": lambda sg: sg.sandboxes.list(label="a:b"),
    "getSandbox": lambda sg: sg.sandbox(ID).get(),
    "updateSandbox": lambda sg: sg.sandbox(ID).update(extend_by_seconds=1),
    "deleteSandbox": lambda sg: sg.sandbox(ID).delete(),
    "exec": lambda sg: sg.sandbox(ID).exec("true"),
    "execStream": lambda sg: _drain(sg.sandbox(ID).exec_stream("true")),
    "readFile": lambda sg: sg.sandbox(ID).files.read("f"),
    "writeFile": lambda sg: sg.sandbox(ID).files.write("f", b"x"),
    "readFileJson": lambda sg: sg.sandbox(ID).files.read_json("f"),
    "writeFileJson": lambda sg: sg.sandbox(ID).files.write_json("f", "x"),
    "listFiles": lambda sg: sg.sandbox(ID).files.list(),
    "statFile": lambda sg: sg.sandbox(ID).files.stat("f"),
    "mkdir": lambda sg: sg.sandbox(ID).files.mkdir("d"),
    "moveFile": lambda sg: sg.sandbox(ID).files.move("a", "b"),
    "deleteFile": lambda sg: sg.sandbox(ID).files.delete("f"),
    "compatCreate": lambda sg: compat_create.asyncio_detailed(client=sg.api, body=CompatCreateRequest(sandbox_id=ID)),
    "compatGet": lambda sg: compat_get.asyncio_detailed(ID, client=sg.api),
    "compatUpdate": lambda sg: compat_update.asyncio_detailed(
        ID, client=sg.api, body=CompatUpdateRequest(keepalive_longer_by_seconds=1)
    ),
    "compatKill": lambda sg: compat_kill.asyncio_detailed(ID, client=sg.api),
    "compatExec": lambda sg: compat_exec.asyncio_detailed(ID, client=sg.api, body=CompatExecRequest(command="true")),
    "compatDownload": lambda sg: compat_download.asyncio_detailed(
        ID, client=sg.api, body=CompatDownloadRequest(file_path="f")
    ),
    "createToken": lambda sg: sg.create_token(ID, ["exec"]),
    "startProcess": lambda sg: sg.sandbox(ID).start_process("sleep 1"),
    "listProcesses": lambda sg: sg.sandbox(ID).list_processes(),
    "getProcess": lambda sg: sg.sandbox(ID).process("p-1").get(),
    "getProcessLogs": lambda sg: sg.sandbox(ID).process("p-1").logs(offset=0),
    "streamProcessLogs": lambda sg: _drain(sg.sandbox(ID).process("p-1").follow()),
    "killProcess": lambda sg: sg.sandbox(ID).process("p-1").kill("KILL"),
    "waitForPort": lambda sg: sg.sandbox(ID).process("p-1").wait_for_port(8080),
    "waitForLog": lambda sg: sg.sandbox(ID).process("p-1").wait_for_log("ready"),
    "createPortLink": lambda sg: sg.sandbox(ID).port_link(8080),
    "gitCheckout": lambda sg: sg.sandbox(ID).git_checkout("file:///workspace/origin.git"),
    "createSnapshot": lambda sg: sg.sandbox(ID).snapshot(excludes=["node_modules"]),
    "restoreSnapshot": lambda sg: sg.sandbox(ID).restore("snap-1", kill_processes=True),
    "forkSandbox": lambda sg: sg.sandbox(ID).fork(2, labels={"k": "v"}),
    "listSnapshots": lambda sg: sg.snapshots.list(sandbox_id=ID),
    "getSnapshot": lambda sg: sg.snapshots.get("snap-1"),
    "deleteSnapshot": lambda sg: sg.snapshots.delete("snap-1"),
    "updateSnapshot": lambda sg: sg.snapshots.update("snap-1", labels={"k": "v"}, keep_forever=True),
    "exportSnapshot": lambda sg: sg.snapshots.export("snap-1", io.BytesIO()),
    "importSnapshot": lambda sg: sg.snapshots.import_archive(b"\0" * 1024, name="imported"),
    "compatUpload": lambda sg: compat_upload.asyncio_detailed(
        ID, client=sg.api, body=CompatUploadRequest(file_path="f", content="x")
    ),
}


def _recorder() -> tuple[list[tuple[str, str]], Callable[[httpx.Request], httpx.Response]]:
    seen: list[tuple[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append((request.method, request.url.path))
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "recorded"}})

    return seen, handle


def _matches(path_template: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path_template), path) is not None


def test_the_maps_name_exactly_the_documents_operations() -> None:
    assert len(OPERATIONS) >= 24
    documented = sorted(op for op, _, _ in OPERATIONS)
    assert sorted(SYNC) == documented
    assert sorted(ASYNC) == documented


@pytest.mark.parametrize(("operation_id", "method", "path"), OPERATIONS)
def test_reachable_sync(operation_id: str, method: str, path: str) -> None:
    seen, handle = _recorder()
    with (
        Sandgate("http://sandgate.test", "t", transport=httpx.MockTransport(handle)) as sg,
        pytest.raises(SandgateError) as caught,
    ):
        SYNC[operation_id](sg)
    assert caught.value.code == "not_found"
    assert len(seen) == 1
    assert seen[0][0] == method
    assert _matches(path, seen[0][1]), seen


@pytest.mark.parametrize(("operation_id", "method", "path"), OPERATIONS)
def test_reachable_async(operation_id: str, method: str, path: str) -> None:
    seen, handle = _recorder()

    async def run() -> None:
        async with AsyncSandgate("http://sandgate.test", "t", transport=httpx.MockTransport(handle)) as sg:
            with pytest.raises(SandgateError) as caught:
                await ASYNC[operation_id](sg)
            assert caught.value.code == "not_found"

    asyncio.run(run())
    assert len(seen) == 1
    assert seen[0][0] == method
    assert _matches(path, seen[0][1]), seen


def test_errors_without_the_envelope_get_a_code_from_the_status() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="<html>upstream down</html>")

    with (
        Sandgate("http://sandgate.test", transport=httpx.MockTransport(handle)) as sg,
        pytest.raises(SandgateError) as caught,
    ):
        sg.health()
    assert (caught.value.code, caught.value.status) == ("sandbox_unavailable", 503)
    assert "upstream down" in caught.value.message
    assert caught.value.details is None


def test_a_502_without_the_envelope_is_upstream_unavailable() -> None:
    error = SandgateError.from_body(502, b"<html>bad gateway</html>")
    assert (error.code, error.status) == ("upstream_unavailable", 502)
