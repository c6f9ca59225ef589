"""Starts a real Sandgate Node host (the local runtime, bubblewrap) for the compat tests."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[2]
TOKEN = "compat-test-token"


@pytest.fixture(scope="session")
def sandgate_url() -> Iterator[str]:
    data_dir = tempfile.mkdtemp(prefix="sandgate-compat-")
    env = {"PATH": os.environ["PATH"], "SANDGATE_TOKEN": TOKEN}
    proc = subprocess.Popen(
        ["node", "--import", "tsx", "src/node.ts", "--port", "0", "--data-dir", data_dir],
        cwd=SERVICE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    url = None
    deadline = time.monotonic() + 30
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            url = match.group(1)
            break
    if url is None:
        proc.kill()
        raise RuntimeError("host did not start:\n" + "".join(lines))
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
