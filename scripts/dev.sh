#!/usr/bin/env bash
# `npm run dev`: the Worker under `wrangler dev` on a machine without Docker. Containers are off; the
# Worker's RemoteBackend forwards to a local Node host (the local runtime) started beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
# Fixed ports (README "Cloudflare"): the Worker on 8787, its Node host on 8788. wrangler dev fails
# when its port is taken rather than moving to another one the user would have to find.
PORT=${SANDGATE_DEV_PORT:-8787}
HOST_PORT=${SANDGATE_DEV_HOST_PORT:-8788}
node --import tsx service/src/node.ts --port "$HOST_PORT" --data-dir .sandgate-dev &
host=$!
trap 'kill $host 2>/dev/null' EXIT
npx wrangler dev --port "$PORT" --enable-containers=false \
  --var SANDGATE_BACKEND:remote \
  --var "SANDGATE_REMOTE_URL:http://127.0.0.1:$HOST_PORT" \
  --var SANDGATE_ALLOW_NO_TOKEN:true "$@"
