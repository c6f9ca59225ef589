#!/usr/bin/env bash
# Runs the Python suites in the repo's own virtual environment (created or updated by scripts/venv.sh):
# ruff and mypy over the Python client, then pytest over the compat suite and the client's tests, which
# share one real Node host (conftest.py at the repo root). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
.venv/bin/ruff check --quiet client-python
.venv/bin/ruff format --quiet --check client-python
.venv/bin/ruff check --quiet --line-length 120 examples/quickstart.py
.venv/bin/ruff format --quiet --check --line-length 120 examples/quickstart.py
(cd client-python && ../.venv/bin/mypy --no-error-summary)
exec .venv/bin/python -m pytest service/test/compat client-python/tests "$@"
