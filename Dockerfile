# The container behind each sandbox on Cloudflare. Keep the tag equal to the exact version of
# @cloudflare/sandbox in service/package.json (a test checks it).
FROM docker.io/cloudflare/sandbox:0.12.10
WORKDIR /workspace
