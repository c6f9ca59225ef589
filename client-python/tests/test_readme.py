"""The README's Python examples are examples/quickstart.py, processes.py and snapshots.py, verbatim, and they run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandgate import Sandgate

ROOT = Path(__file__).resolve().parents[2]


def readme_example(file: str) -> str:
    """The fenced block that follows ``<!-- example: <file> -->`` in the README."""
    readme = (ROOT / "README.md").read_text()
    marker = f"<!-- example: {file} -->\n"
    start = readme.index(marker) + len(marker)
    match = re.match(r"```\w*\n(.*?)^```$", readme[start:], re.S | re.M)
    assert match is not None, f"no code block right after {marker.strip()}"
    return match.group(1)


EXAMPLES = {
    "examples/quickstart.py": "0 hello from /workspace\ntick 1\ntick 2\ntick 3\n",
    "examples/processes.py": "step 1\nstep 2\nstep 3\nexit 0\n200 <h1>hi</h1>\nTrue\n",
    "examples/snapshots.py": "v1\napp\n" + "".join(f"copy {i}: v1\n" for i in range(5)),
}


@pytest.mark.parametrize("file", sorted(EXAMPLES))
def test_readme_example_is_the_file(file: str) -> None:
    assert readme_example(file) == (ROOT / file).read_text()


@pytest.mark.parametrize("file", sorted(EXAMPLES))
def test_readme_example_runs(file: str, sandgate_url: str, sandgate_token: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / file)],
        env={"PATH": os.environ["PATH"], "SANDGATE_URL": sandgate_url, "SANDGATE_TOKEN": sandgate_token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXAMPLES[file]
    with Sandgate(sandgate_url, sandgate_token) as sg:
        assert sg.sandboxes.list(label="team:docs").sandboxes == []
