#!/usr/bin/env bash
# Runs the Python test suites in the repo's own virtual environment, creating it when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import pytest, pytest_asyncio, httpx' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
fi
exec .venv/bin/python -m pytest service/test/compat "$@"
