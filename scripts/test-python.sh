#!/usr/bin/env bash
# Runs the Python suites in the repo's own virtual environment (created or updated by scripts/venv.sh):
# ruff and mypy over the Python client, then pytest over the compat suite, the client's tests and the
# Schemathesis fuzz run (last: it fills the host with generated input), which share one real Node host
# (conftest.py at the repo root). Extra arguments go to pytest; SANDGATE_FUZZ_EXAMPLES=<n> runs a larger fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
.venv/bin/python client-python/scripts/gen_sync.py --check
.venv/bin/ruff check --quiet client-python
.venv/bin/ruff format --quiet --check client-python
.venv/bin/ruff check --quiet --line-length 120 examples/quickstart.py examples/processes.py
.venv/bin/ruff format --quiet --check --line-length 120 examples/quickstart.py examples/processes.py
(cd client-python && ../.venv/bin/mypy --no-error-summary)
.venv/bin/ruff check --quiet --line-length 120 service/test/fuzz
.venv/bin/ruff format --quiet --check --line-length 120 service/test/fuzz
exec .venv/bin/python -m pytest service/test/compat client-python/tests service/test/fuzz "$@"
