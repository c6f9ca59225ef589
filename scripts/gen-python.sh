#!/usr/bin/env bash
# Regenerates the Python client's generated package (client-python/src/sandgate/generated) from
# openapi/openapi.json with the pinned openapi-python-client and ruff of the repo's .venv, and
# src/sandgate/_sync.py from _async.py (scripts/gen_sync.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
export PATH="$PWD/.venv/bin:$PATH"
cd client-python
openapi-python-client generate --path ../openapi/openapi.json --meta none --config openapi-python-client.yaml \
  --output-path src/sandgate/generated --overwrite >/dev/null
echo "wrote client-python/src/sandgate/generated"
# The sync client is generated from the async one (unasync), so the two never drift.
../.venv/bin/python scripts/gen_sync.py
