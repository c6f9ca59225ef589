"""The README's Python example is examples/quickstart.py, verbatim, and it runs against a real host."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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


def test_readme_example_is_the_file() -> None:
    assert readme_example("examples/quickstart.py") == (ROOT / "examples" / "quickstart.py").read_text()


def test_readme_example_runs(sandgate_url: str, sandgate_token: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        env={"PATH": os.environ["PATH"], "SANDGATE_URL": sandgate_url, "SANDGATE_TOKEN": sandgate_token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0 hello from /workspace\ntick 1\ntick 2\ntick 3\n"
    with Sandgate(sandgate_url, sandgate_token) as sg:
        assert sg.sandboxes.list(label="team:docs").sandboxes == []
