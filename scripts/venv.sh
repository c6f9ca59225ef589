#!/usr/bin/env bash
# Makes sure the repo's .venv exists and holds what the Python suites and the Python client generation
# need: requirements-dev.txt plus client-python[dev] (editable). Reinstalls only when those files change.
# Usage: scripts/venv.sh (prints nothing when the venv is current).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.sandgate-deps
want=$(cat requirements-dev.txt client-python/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && .venv/bin/python -c 'import sandgate, pytest' 2>/dev/null; then
  exit 0
fi
echo "setting up .venv (requirements-dev.txt, client-python[dev])" >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements-dev.txt -e 'client-python[dev]'
echo "$want" >"$stamp"
