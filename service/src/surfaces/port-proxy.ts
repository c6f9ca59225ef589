/**
 * The port proxy on the REST surface: a middleware that answers every path under
 * `/v1/sandboxes/{id}/ports/{port}` itself (any method), ahead of the API's own auth, body limits and
 * URL checks, which are not its business: it authorizes links, link cookies and tokens itself and
 * forwards the request untouched (core/proxy.ts). Node WebSocket upgrades: hosts/node/port-upgrade.ts.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AuthConfig } from "../core/auth.ts";
import type { Backend } from "../core/backend.ts";
import { PORT_LINK_PARAM } from "../core/core.ts";
import { linkCookieName, matchProxyPath, proxyPortRequest } from "../core/proxy.ts";

/** What the Node adapter passes as `c.env.incoming` (duck-typed: this file also runs in the Worker). */
interface Incoming {
  socket?: { remoteAddress?: string } | null;
}

export function portProxy(backend: Backend, auth: AuthConfig, rawBody: (c: Context) => ReadableStream<Uint8Array>): MiddlewareHandler {
  return async (c, next) => {
    // Cheap test first: almost every request is not for the proxy.
    if (!c.req.path.includes("/ports/") || !matchProxyPath(new URL(c.req.url).pathname)) return next();
    const incoming = (c.env as { incoming?: Incoming } | undefined)?.incoming;
    const response = await proxyPortRequest(c.req.raw, {
      backend,
      auth,
      // Node: the socket's peer. Workers: Cloudflare's own header (a client cannot set it there).
      clientAddress: incoming ? (incoming.socket?.remoteAddress ?? undefined) : (c.req.header("cf-connecting-ip") ?? undefined),
      body: incoming
        ? () => {
            // HTTP/1.1 framing says whether there is a body at all; forward none rather than an empty chunked one.
            const length = c.req.header("content-length");
            if (c.req.header("transfer-encoding") === undefined && (length === undefined || length === "0")) return null;
            return rawBody(c);
          }
        : undefined,
    });
    return response ?? next();
  };
}

const PROXY_DESCRIPTION = `Reach the ports of a sandbox.

**The proxy**: \`/v1/sandboxes/{id}/ports/{port}/{path}\` (any method, any path and query) forwards the request to port
\`{port}\` inside the sandbox, as \`http://localhost:{port}/{path}\`, and answers the app's response. Bodies stream both
ways with no size limit and no JSON checks; WebSocket upgrades are proxied too. Hop-by-hop headers are dropped,
\`Host\` is \`localhost:{port}\`, and \`X-Forwarded-For\`, \`-Proto\`, \`-Host\`, \`-Port\`, \`-Prefix\` (the
\`/v1/sandboxes/{id}/ports/{port}\` prefix) and \`Forwarded\` are set. The app never sees a Sandgate credential:
\`Authorization\`, \`x-sandgate-token\`, the link parameter and link cookies are removed. Redirects are not followed;
\`Location\` and \`Content-Location\` that name a path or the app itself are rewritten under the prefix, and
\`Set-Cookie\` paths are confined to it. \`/ports/{port}\` without a trailing slash redirects (308) to \`/ports/{port}/\`.

**Auth**: the API token, a scoped token with the \`ports\` scope on this sandbox, or a port link
(\`POST /v1/sandboxes/{id}/port-links\`). A link carries \`?${PORT_LINK_PARAM}=...\`: opening it answers a redirect
(302, or 303 for other methods than GET and HEAD) to the same URL without the parameter and sets an HttpOnly,
SameSite=Lax cookie \`${linkCookieName("{id}", "{port}")}\` for the port's path until the link
expires, so a browser can use the app without a token. WebSocket upgrades accept the parameter directly.

**Errors** (the usual envelope): 400 \`invalid_request\` for a port outside 1-65535 or an invalid id, 401
\`unauthorized\`, 403 \`forbidden\`, 404 \`not_found\` for an unknown sandbox, 502 \`upstream_unavailable\` when
nothing listens on the port. Everything else is the app's own answer.`;

/**
 * Describes the proxy in the OpenAPI document. It has no operations there (a generated client would
 * get one awkward method per HTTP verb, and fuzzers would expect the app's answers to be documented):
 * the \`ports\` tag says what it does, and `x-sandgate-port-proxy` says it in a form tools can read.
 */
export function describePortProxy(document: { tags?: { name: string; description?: string }[] }): void {
  const tag = document.tags?.find((t) => t.name === "ports");
  if (tag) tag.description = PROXY_DESCRIPTION;
  (document as Record<string, unknown>)["x-sandgate-port-proxy"] = {
    path: "/v1/sandboxes/{id}/ports/{port}/{path}",
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    websocket: true,
    upstream: "http://localhost:{port}/{path}",
    security: [{ bearerAuth: [] }, { tokenHeader: [] }],
    scope: "ports",
    portLink: { parameter: PORT_LINK_PARAM, cookie: linkCookieName("{id}", "{port}"), mint: "createPortLink" },
    errors: { "400": "invalid_request", "401": "unauthorized", "403": "forbidden", "404": "not_found", "502": "upstream_unavailable" },
  };
}
