/**
 * The port proxy's HTTP requests on the Node host, taken at the node:http level before the REST app
 * sees them. The rules are core/proxy.ts's, the same the Worker runs over web Request/Response (auth,
 * links and their cookies, the redirects, hop-by-hop and forwarded headers, credentials stripped,
 * Location and Set-Cookie rewritten); only the carriage differs: the IncomingMessage is piped to the
 * sandbox's port with node:http (backends/local/port-forward.ts, pooled connections) and the answer
 * piped back to the ServerResponse. Going through @hono/node-server instead turns every request and
 * answer into web objects and streams and back (and the old path opened a connection per request):
 * about 0.5 ms of a small request's round trip on a small VM, and much of a large answer's
 * throughput. WebSocket upgrades: port-upgrade.ts.
 */
import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { AuthConfig } from "../../core/auth.ts";
import type { PortAddress } from "../../core/backend.ts";
import { requestPort } from "../../backends/local/port-forward.ts";
import {
  type ProxyAnswer,
  type ProxyOrigin,
  type ProxyPath,
  downstreamHeaders,
  isBodylessAnswer,
  matchProxyPath,
  planProxyRequest,
  upstreamHeaders,
} from "../../core/proxy.ts";
import { headersFromRaw } from "./http.ts";
import { challengeHeaders } from "../../surfaces/auth-challenge.ts";
import { errorAnswer } from "../../surfaces/error-mapping.ts";

/** The backend as this path needs it: where a sandbox's port is reachable from the host. */
export interface PortAddresses {
  portAddress(id: string, port: number): Promise<PortAddress>;
}

export interface NodePortProxyOptions {
  backend: PortAddresses;
  auth: AuthConfig;
  /** Errors that become `internal`, for the host's log (as the REST app's onInternalError). */
  onInternalError?: (err: unknown) => void;
}

/**
 * The server's request listener: requests under the proxy are answered here, everything else (and
 * any proxy request whose URL the REST adapter would judge itself: see proxyRequestUrl) goes to `rest`.
 */
export function withNodePortProxy(rest: RequestListener, options: NodePortProxyOptions): RequestListener {
  return (request, response) => {
    const url = proxyRequestUrl(request);
    const path = url && matchProxyPath(url.pathname);
    if (!url || !path) return rest(request, response);
    void proxyNodeRequest(request, response, url, path, options);
  };
}

/** Host headers @hono/node-server takes as they are (anything else it checks itself, and may refuse with 400). */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/**
 * The URL of a request that may be for the proxy, the same one the REST adapter would build
 * (`{scheme}://{Host}{target}`, dot segments resolved); undefined when the target cannot be under the
 * proxy or is one the adapter refuses or treats specially (absolute-form, a backslash, an odd Host):
 * those take the REST path, so they are answered exactly as they always were.
 */
function proxyRequestUrl(request: IncomingMessage): URL | undefined {
  const target = request.url ?? "";
  const host = request.headers.host;
  if (!target.startsWith("/v1/sandboxes/") || !target.includes("/ports/") || target.includes("\\")) return undefined;
  if (host === undefined || !PLAIN_HOST.test(host)) return undefined;
  const scheme = (request.socket as Partial<TLSSocket>).encrypted ? "https" : "http";
  try {
    return new URL(`${scheme}://${host}${target}`);
  } catch {
    return undefined;
  }
}

async function proxyNodeRequest(request: IncomingMessage, response: ServerResponse, url: URL, path: ProxyPath, options: NodePortProxyOptions): Promise<void> {
  // The client going away before the answer is complete aborts the upstream exchange.
  const abort = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) abort.abort(new Error("the client closed the connection"));
  });
  try {
    const method = request.method ?? "GET";
    const requestHeaders = headersFromRaw(request.rawHeaders);
    const plan = await planProxyRequest(options.auth, { method, url, headers: requestHeaders }, path);
    if (plan.kind === "answer") return writeAnswer(response, plan.answer);
    const { target } = plan;
    const address = await options.backend.portAddress(target.sandboxId, target.port);
    const origin: ProxyOrigin = { url, clientAddress: request.socket.remoteAddress };
    const outgoing: OutgoingHttpHeaders = {};
    for (const [name, value] of upstreamHeaders(requestHeaders, target, origin, { upgrade: plan.upgrade })) outgoing[name] = value;
    const upstream = await requestPort(
      address,
      { method, path: plan.upstreamPath, headers: outgoing, body: hasBody(request) ? request : null, signal: abort.signal },
      target,
    );
    const status = upstream.statusCode!;
    const bodyless = isBodylessAnswer(method, status);
    const headers = outgoingHeaders(downstreamHeaders(headersFromRaw(upstream.rawHeaders), target, origin, { switching: false }), !bodyless);
    if (bodyless) {
      upstream.resume();
      response.writeHead(status, headers);
      response.end();
      return;
    }
    if (upstream.complete) {
      // The whole answer came with its head (a small one): it goes out in one write, with its
      // length, as the REST adapter did for a body that was done within its first reads.
      const body = readBuffered(upstream);
      headers["content-length"] ??= body.byteLength;
      response.writeHead(status, headers);
      response.end(body);
      return;
    }
    response.writeHead(status, headers);
    // Headers go out at once unless the body's first bytes are here to go with them, so an app
    // that answers slowly (a stream of events) is seen answering.
    if (upstream.readableLength === 0) response.flushHeaders();
    // pipe, not stream.pipeline: pipeline's bookkeeping (an AbortController and its DOMException
    // per call) costs a small request more than the piping itself. A failed upstream (the app died
    // mid-answer) cuts the client's answer off rather than let it look complete; a client that goes
    // away aborts the upstream (above).
    upstream.once("error", () => response.destroy());
    upstream.pipe(response);
  } catch (err) {
    if (response.headersSent || response.destroyed || abort.signal.aborted) return void response.destroy();
    const { status, envelope } = errorAnswer(err, options.onInternalError);
    const body = JSON.stringify(envelope);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...challengeHeaders(status) });
    response.end(body);
  }
}

/**
 * Whether the client sends a body. GET and HEAD never forward one; otherwise HTTP/1.1 framing says
 * (forward none rather than an empty chunked one), as on the REST path (port-proxy.ts).
 */
function hasBody(request: IncomingMessage): boolean {
  if (request.method === "GET" || request.method === "HEAD") return false;
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** Everything an ended IncomingMessage holds, taken at once; the stream is left to end (its connection goes back to the pool). */
function readBuffered(message: IncomingMessage): Buffer {
  const chunks: Buffer[] = [];
  for (let chunk: Buffer | null; (chunk = message.read() as Buffer | null) !== null; ) chunks.push(chunk);
  message.resume();
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function writeAnswer(response: ServerResponse, answer: ProxyAnswer): void {
  response.writeHead(answer.status, answer.headers);
  response.end();
}

/** The web adapter's default for an answer with a body and no Content-Type; kept so both paths answer alike. */
const DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8";

/** Headers as node:http writes them: one value per name (as fetch joins them), Set-Cookie as a list. */
function outgoingHeaders(headers: Headers, withBody: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of headers) if (name !== "set-cookie") out[name] = value;
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  if (withBody) out["content-type"] ??= DEFAULT_CONTENT_TYPE;
  return out;
}
