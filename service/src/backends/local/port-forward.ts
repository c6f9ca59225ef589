/**
 * HTTP to a port of a local sandbox: the proxy's prepared request (core/proxy.ts) sent with node:http
 * to where the sandbox's port is reachable from the host, bodies streamed both ways with backpressure,
 * redirects answered, never followed. A client that goes away aborts the upstream request.
 *
 * `requestPort` is the node:http exchange itself, used as it is by the Node host's port proxy
 * (hosts/node/port-proxy.ts); `forwardToPort` wraps it in web Request/Response for Backend.fetchPort.
 */
import { Agent, type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PortAddress } from "../../core/backend.ts";
import { SandgateError } from "../../core/errors.ts";

/** How long the sandbox's port may take to accept a connection. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * How long an idle pooled connection to a sandbox's port is kept. Short, and below the usual server
 * keep-alive timeouts (Node's is 5 s), so the app seldom closes one just as it is reused; and a
 * connection to a sandbox that is gone does not linger.
 */
const IDLE_CONNECTION_MS = 2_000;

/**
 * Connections kept open to sandboxes' ports (the Agent keeps them per host:port), for idempotent
 * requests without a body only: such a request can safely be sent again, on a fresh connection, when
 * a pooled one turns out to have been closed by the app meanwhile (see requestPort). Other requests
 * get a connection of their own, as before: a body cannot be sent twice, and a POST must not be.
 * A new TCP connection costs a small request about as much as everything else the proxy does.
 */
const pooledConnections = new Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS });
const RESENDABLE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A connection to a sandbox's port that failed before any answer, as the error callers get. */
export function portFailure(err: NodeJS.ErrnoException, target: { sandboxId: string; port: number }): SandgateError {
  return err.code === "ECONNREFUSED"
    ? new SandgateError("upstream_unavailable", `nothing is listening on port ${target.port} in sandbox ${target.sandboxId}`, { port: target.port })
    : new SandgateError("upstream_unavailable", `port ${target.port} in sandbox ${target.sandboxId} failed: ${err.code ?? err.message}`, { port: target.port });
}

/** A request to a sandbox's port, as node:http sends it. */
export interface PortRequest {
  method: string;
  /** The request target: path and query. */
  path: string;
  headers: OutgoingHttpHeaders;
  /** The body, null for none (then the request is sent without one, and may use a pooled connection). */
  body: Readable | null;
  /** Aborts the exchange: the upstream request and its response go (the client went away). */
  signal?: AbortSignal;
}

/**
 * Sends `request` to the sandbox's port and resolves with the upstream's response (status 200-599)
 * as soon as its head arrives; its body is the IncomingMessage itself. `upstream_unavailable` when
 * nothing listens, the connection fails before an answer, or the answer is not valid HTTP.
 */
export function requestPort(address: PortAddress, request: PortRequest, target: { sandboxId: string; port: number }): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const { signal } = request;
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    let outgoing: ReturnType<typeof httpRequest> | undefined;
    let response: IncomingMessage | undefined;
    const onAbort = () => {
      const reason = signal?.reason instanceof Error ? signal.reason : new Error("the client closed the connection");
      outgoing?.destroy(reason);
      response?.destroy(reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);

    const send = (pooled: boolean) => {
      let answered = false;
      const sent = httpRequest({
        host: address.host,
        port: address.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        agent: pooled ? pooledConnections : false,
      });
      outgoing = sent;
      let connectTimer: NodeJS.Timeout | undefined;
      sent.on("socket", (socket: Socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => sent.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
        socket.once("connect", () => clearTimeout(connectTimer));
      });
      sent.on("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        if (answered) return; // the response body carries it
        if (signal?.aborted) {
          done();
          return reject(signal.reason ?? err);
        }
        // A pooled connection the app closed while it sat idle: nothing reached the app, send it again on a new one.
        if (sent.reusedSocket && (err.code === "ECONNRESET" || err.code === "EPIPE")) return send(false);
        done();
        reject(portFailure(err, target));
      });
      sent.on("response", (incoming: IncomingMessage) => {
        clearTimeout(connectTimer);
        answered = true;
        response = incoming;
        const status = incoming.statusCode ?? 502;
        if (status < 200 || status > 599) {
          incoming.destroy();
          done();
          return reject(new SandgateError("upstream_unavailable", `port ${target.port} in sandbox ${target.sandboxId} answered an invalid status ${status}`));
        }
        incoming.once("close", done);
        // An abort can destroy the response before its consumer has attached (it gets it a tick
        // later, through the promise): the error must not go unheard and take the host down. The
        // consumer still learns of it (the stream is destroyed).
        incoming.on("error", () => {});
        resolve(incoming);
      });
      if (request.body) {
        pipeline(request.body, sent).catch((err: unknown) => {
          // The client's body failed (it went away): the upstream request goes too.
          sent.destroy(err instanceof Error ? err : new Error(String(err)));
        });
      } else {
        sent.end();
      }
    };
    send(request.body === null && RESENDABLE_METHODS.has(request.method));
  });
}

/** Backend.fetchPort over requestPort: the proxy's web Request to the sandbox's port, its answer as a web Response. */
export async function forwardToPort(address: PortAddress, request: Request, target: { sandboxId: string; port: number }): Promise<Response> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = value;
  const body = request.body ? Readable.fromWeb(request.body as import("node:stream/web").ReadableStream<Uint8Array>) : null;
  const incoming = await requestPort(address, { method: request.method, path: `${url.pathname}${url.search}`, headers, body, signal: request.signal }, target);
  const status = incoming.statusCode!;
  const responseHeaders = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
  const bodyless = NULL_BODY.has(status) || request.method === "HEAD";
  if (bodyless) incoming.resume();
  return new Response(bodyless ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), { status, headers: responseHeaders });
}
