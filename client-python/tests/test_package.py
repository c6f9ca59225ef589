"""The package as a user installs it outside this repository: a wheel with ``py.typed``, installed into a
fresh virtual environment in a temporary directory, runs the README's quickstart against a real host."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sandgate-test-wheel-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel(work: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work), str(ROOT / "client-python")],
        check=True,
        timeout=300,
    )
    (found,) = work.glob("sandgate-*.whl")
    return found


def test_the_wheel_holds_the_package_and_py_typed(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("sandgate/__init__.py", "sandgate/_sync.py", "sandgate/py.typed", "sandgate/generated/client.py"):
        assert name in names
    assert not any(name.startswith("tests/") for name in names)


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_quickstart(
    work: Path, wheel: Path, sandgate_url: str, sandgate_token: str
) -> None:
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, timeout=300)
    app = work / "app"
    app.mkdir()
    shutil.copy(ROOT / "examples" / "quickstart.py", app / "quickstart.py")
    done = subprocess.run(
        [str(python), "quickstart.py"],
        cwd=app,
        env={"PATH": os.environ["PATH"], "SANDGATE_URL": sandgate_url, "SANDGATE_TOKEN": sandgate_token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0 hello from /workspace\ntick 1\ntick 2\ntick 3\n"
    # It is the installed copy that ran, not the repository's.
    where = subprocess.run(
        [str(python), "-c", "import sandgate; print(sandgate.__file__)"], cwd=app, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(venv))
