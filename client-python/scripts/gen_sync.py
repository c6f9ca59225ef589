"""Writes src/sandgate/_sync.py from src/sandgate/_async.py (unasync, as httpcore does), then ruff-formats it.

``--check`` writes nothing and fails when the committed _sync.py differs from what this generates.
Names: ``async``/``await`` go; ``AsyncX`` becomes ``X`` and ``async_x`` becomes ``x`` (the pairs in
``_io.py``), plus the renames below for httpx, httpx-sse and the generated client.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tokenize_rt
import unasync

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "sandgate" / "_async.py"
TARGET = ROOT / "src" / "sandgate" / "_sync.py"

REPLACEMENTS = {
    "aclose": "close",
    "anext": "next",
    "aread": "read",
    "aiter_bytes": "iter_bytes",
    "aiter_sse": "iter_sse",
    "aconnect_sse": "connect_sse",
    "asyncio_detailed": "sync_detailed",
    "set_async_httpx_client": "set_httpx_client",
}

HEADER = "# Generated from _async.py by client-python/scripts/gen_sync.py: do not edit.\n"
SYNC_DOCSTRING = '''"""The client: ``Sandgate(base_url, token)``, generated from ``_async.py``: edit that file."""'''


class Rule(unasync.Rule):  # type: ignore[misc]
    def _unasync_name(self, name: str) -> str:
        if name in self.token_replacements:
            return str(self.token_replacements[name])
        if len(name) > 5 and name.startswith("Async") and name[5].isupper():
            return name[5:]
        if name.startswith("async_") and len(name) > 6:
            return name[6:]
        if name.startswith("_async_") and len(name) > 7:
            return "_" + name[7:]
        return name


def generate() -> str:
    rule = Rule(str(SOURCE.parent), str(TARGET.parent), additional_replacements=REPLACEMENTS)
    tokens = tokenize_rt.src_to_tokens(SOURCE.read_text())
    text = tokenize_rt.tokens_to_src(list(rule._unasync_tokens(tokens)))
    # The module docstring is the one thing said differently: replace it whole.
    docstring_end = text.index('"""', 3) + 3
    text = HEADER + SYNC_DOCSTRING + text[docstring_end:]
    ruff = Path(sys.executable).parent / "ruff"
    fixed = subprocess.run(
        [str(ruff), "check", "--fix-only", "--quiet", "--stdin-filename", str(TARGET), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return subprocess.run(
        [str(ruff), "format", "--quiet", "--stdin-filename", str(TARGET), "-"],
        input=fixed,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout


def main() -> int:
    text = generate()
    if "--check" in sys.argv[1:]:
        if TARGET.read_text() != text:
            print(
                f"{TARGET.relative_to(ROOT)} is not what {SOURCE.name} generates: run scripts/gen-python.sh",
                file=sys.stderr,
            )
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
