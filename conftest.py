"""Shared by every Python suite (service/test/compat, client-python/tests): one real Sandgate Node host
(the local runtime, bubblewrap) for the whole session, with a token."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SERVICE_DIR = ROOT / "service"
TOKEN = "python-test-token"


@pytest.fixture(scope="session")
def sandgate_url() -> Iterator[str]:
    """The URL of a host started for this session (token: ``TOKEN``, also the ``sandgate_token`` fixture)."""
    data_dir = tempfile.mkdtemp(prefix="sandgate-pytest-")
    log_path = Path(data_dir + ".log")
    env = {"PATH": os.environ["PATH"], "SANDGATE_TOKEN": TOKEN}
    # The host's output goes to a file, never a pipe nobody drains (a full pipe would stall the host).
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            ["node", "--import", "tsx", "src/node.ts", "--port", "0", "--data-dir", data_dir],
            cwd=SERVICE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        match = re.search(r"listening on (http://\S+)", log_path.read_text())
        if match:
            url = match.group(1)
            break
        time.sleep(0.05)
    try:
        if url is None:
            raise RuntimeError("host did not start:\n" + log_path.read_text())
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        log_path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def sandgate_token() -> str:
    return TOKEN
