/**
 * HTTP to a port of a local sandbox: the proxy's prepared request (core/proxy.ts) sent with node:http
 * to where the sandbox's port is reachable from the host, bodies streamed both ways with backpressure,
 * redirects answered, never followed. A client that goes away aborts the upstream request.
 */
import { type IncomingMessage, request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PortAddress } from "../../core/backend.ts";
import { SandgateError } from "../../core/errors.ts";

/** How long the sandbox's port may take to accept a connection. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([204, 205, 304]);

export function forwardToPort(address: PortAddress, request: Request, target: { sandboxId: string; port: number }): Promise<Response> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = value;
  const signal = request.signal;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    let answered = false;
    // A fresh connection per request: nothing pooled can outlive its sandbox, or be half-closed by the app.
    const outgoing = httpRequest({ host: address.host, port: address.port, method: request.method, path: `${url.pathname}${url.search}`, headers, agent: false });
    let connectTimer: NodeJS.Timeout | undefined;
    let response: IncomingMessage | undefined;
    const onAbort = () => {
      const reason = signal?.reason instanceof Error ? signal.reason : new Error("the client closed the connection");
      outgoing.destroy(reason);
      response?.destroy(reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);

    outgoing.on("socket", (socket: Socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => outgoing.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
      socket.once("connect", () => clearTimeout(connectTimer));
    });
    outgoing.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (answered) return; // the response body carries it (see below)
      done();
      if (signal?.aborted) return reject(signal.reason ?? err);
      reject(
        err.code === "ECONNREFUSED"
          ? new SandgateError("upstream_unavailable", `nothing is listening on port ${target.port} in sandbox ${target.sandboxId}`, { port: target.port })
          : new SandgateError("upstream_unavailable", `port ${target.port} in sandbox ${target.sandboxId} failed: ${err.code ?? err.message}`, { port: target.port }),
      );
    });
    outgoing.on("response", (incoming: IncomingMessage) => {
      clearTimeout(connectTimer);
      answered = true;
      response = incoming;
      const status = incoming.statusCode ?? 502;
      if (status < 200 || status > 599) {
        incoming.destroy();
        done();
        return reject(new SandgateError("upstream_unavailable", `port ${target.port} in sandbox ${target.sandboxId} answered an invalid status ${status}`));
      }
      const responseHeaders = new Headers();
      const raw = incoming.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
      incoming.once("close", done);
      const bodyless = NULL_BODY.has(status) || request.method === "HEAD";
      if (bodyless) incoming.resume();
      resolve(
        new Response(bodyless ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), {
          status,
          headers: responseHeaders,
        }),
      );
    });

    if (request.body) {
      pipeline(Readable.fromWeb(request.body as import("node:stream/web").ReadableStream<Uint8Array>), outgoing).catch((err: unknown) => {
        // The client's body failed (it went away): the upstream request goes too.
        outgoing.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    } else {
      outgoing.end();
    }
  });
}
