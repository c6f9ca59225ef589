"""A backend written against the seed-001 bridge, pointed at Sandgate: plain httpx, no generated client."""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta

import httpx
import pytest

from conftest import TOKEN

pytestmark = pytest.mark.asyncio


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
async def client(sandgate_url: str):
    async with httpx.AsyncClient(base_url=sandgate_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as c:
        yield c


async def test_backend_flow(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/sandbox/create",
        json={"sandbox_id": "compat-flow", "keepalive_seconds": 1800, "additional_configs": {"ignored": True}, "extra": 1},
    )
    assert created.status_code == 200, created.text
    info = created.json()
    assert info["sandbox_id"] == "compat-flow"
    assert info["sandbox_status"] == "running"
    lifetime = parse_time(info["sandbox_expires_at"]) - parse_time(info["sandbox_created_at"])
    assert lifetime == timedelta(seconds=1800)

    got = await client.get("/sandbox/compat-flow")
    assert got.status_code == 200
    assert got.json() == info

    extended = await client.post("/sandbox/compat-flow/update", json={"keepalive_longer_by_seconds": 600})
    assert extended.status_code == 200
    assert parse_time(extended.json()["sandbox_expires_at"]) - parse_time(info["sandbox_expires_at"]) == timedelta(seconds=600)

    version = await client.post("/sandbox/compat-flow/exec", json={"command": "python3 --version", "keepalive_seconds": 60})
    assert version.status_code == 200
    assert version.json()["exit_code"] == 0
    assert version.json()["stdout"].startswith("Python 3.")

    echo = await client.post("/sandbox/compat-flow/exec", json={"command": "echo hello; echo oops >&2; exit 4"})
    assert echo.json() == {"stdout": "hello\n", "stderr": "oops\n", "exit_code": 4}

    payload = os.urandom(70_000) + bytes(range(256))
    uploaded = await client.post(
        "/sandbox/compat-flow/upload",
        json={"file_path": "/workspace/data/blob.bin", "content": base64.b64encode(payload).decode(), "encoding": "base64"},
    )
    assert uploaded.status_code == 200
    assert uploaded.json() == {"success": True}
    downloaded = await client.post("/sandbox/compat-flow/download", json={"file_path": "/workspace/data/blob.bin", "encoding": "base64"})
    assert downloaded.status_code == 200
    assert downloaded.json()["encoding"] == "base64"
    assert base64.b64decode(downloaded.json()["content"]) == payload

    await client.post("/sandbox/compat-flow/upload", json={"file_path": "notes.txt", "content": "héllo"})
    text = await client.post("/sandbox/compat-flow/download", json={"file_path": "/workspace/notes.txt"})
    assert text.json() == {"content": "héllo", "encoding": "utf-8"}
    size = await client.post("/sandbox/compat-flow/exec", json={"command": "wc -c < data/blob.bin"})
    assert size.json()["stdout"].strip() == str(len(payload))

    killed = await client.post("/sandbox/compat-flow/kill")
    assert killed.status_code == 200
    assert killed.json() == {"success": True}
    after = await client.get("/sandbox/compat-flow")
    assert after.status_code == 404
    assert after.json()["error"]["code"] == "not_found"


async def test_get_with_keepalive_extends_but_never_shortens(client: httpx.AsyncClient) -> None:
    info = (await client.post("/sandbox/create", json={"sandbox_id": "compat-keep", "keepalive_seconds": 60})).json()
    longer = (await client.get("/sandbox/compat-keep", params={"keepalive_seconds": 3600})).json()
    assert parse_time(longer["sandbox_expires_at"]) > parse_time(info["sandbox_expires_at"]) + timedelta(seconds=3000)
    same = (await client.get("/sandbox/compat-keep", params={"keepalive_seconds": 10})).json()
    assert same["sandbox_expires_at"] == longer["sandbox_expires_at"]
    await client.post("/sandbox/compat-keep/kill")


async def test_errors_use_the_envelope(client: httpx.AsyncClient, sandgate_url: str) -> None:
    async with httpx.AsyncClient(base_url=sandgate_url) as anonymous:
        denied = await anonymous.post("/sandbox/create", json={"sandbox_id": "nope"})
        assert denied.status_code == 401
        assert denied.json() == {"error": {"code": "unauthorized", "message": "missing or invalid token"}}
    missing = await client.post("/sandbox/unknown-box/exec", json={"command": "true"})
    assert missing.status_code == 404
    bad = await client.post("/sandbox/create", json={"keepalive_seconds": 5})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_request"
    await client.post("/sandbox/create", json={"sandbox_id": "compat-err"})
    escape = await client.post("/sandbox/compat-err/download", json={"file_path": "/etc/passwd"})
    assert escape.status_code == 403
    assert escape.json()["error"]["code"] == "forbidden"
    assert (await client.post("/sandbox/create", json={"sandbox_id": "compat-err"})).status_code == 409
    await client.post("/sandbox/compat-err/kill")
