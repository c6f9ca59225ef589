/**
 * WebSocket (and any other HTTP/1.1 upgrade) through the port proxy on the Node host. Node hands
 * upgrades to the server's `upgrade` event, not to the REST app, so they are authorized here exactly
 * like HTTP requests (core/proxy.ts: tokens, port links, link cookies), then the handshake is sent to
 * the sandbox's port (`backend.portAddress`) with node:http; once the upstream answers 101, its answer
 * goes back to the client and the two sockets are piped together until either side ends.
 */
import { type IncomingMessage, STATUS_CODES, request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { AuthConfig } from "../../core/auth.ts";
import type { Backend } from "../../core/backend.ts";
import { SandgateError, toSandgateError } from "../../core/errors.ts";
import { portFailure } from "../../backends/local/port-forward.ts";
import {
  type ProxyOrigin,
  type ProxyPath,
  authorizeProxy,
  downstreamHeaders,
  proxyTarget,
  splitLinkParam,
  upstreamHeaders,
} from "../../core/proxy.ts";
import { endWithError, headersFromRaw } from "./http.ts";

/** How long the upstream may take to accept the connection. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Proxies one upgrade request whose path is under the proxy (`path`, from matchProxyPath). */
export async function proxyUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, path: ProxyPath, backend: Backend, auth: AuthConfig): Promise<void> {
  // Until it is piped, a client that goes away must not take the host down with an unhandled error.
  const onEarlyError = () => socket.destroy();
  socket.on("error", onEarlyError);
  try {
    const url = requestUrl(request);
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined) continue;
      // Node joins repeated Cookie headers with "; " and keeps Set-Cookie-like lists as arrays.
      for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
    }
    await authorizeProxy(auth, { method: request.method ?? "GET", url, headers }, path, { upgrade: true });
    const target = proxyTarget(path);
    if (!backend.portAddress) throw new SandgateError("upstream_unavailable", `the ${backend.name} backend does not take upgrades on this host`);
    const address = await backend.portAddress(target.sandboxId, target.port);
    if (socket.destroyed) return;
    const origin: ProxyOrigin = { url, clientAddress: request.socket.remoteAddress };
    const forwarded = upstreamHeaders(headers, target, origin, { upgrade: true });
    await pipeUpgrade(request, socket, head, address, `${path.rest ?? "/"}${splitLinkParam(url.search).search}`, forwarded, target, origin, onEarlyError);
  } catch (err) {
    endWithError(socket, toSandgateError(err));
  }
}

function pipeUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  address: { host: string; port: number },
  path: string,
  headers: Headers,
  target: ReturnType<typeof proxyTarget>,
  origin: ProxyOrigin,
  onEarlyError: () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const outgoing: Record<string, string> = {};
    for (const [name, value] of headers) outgoing[name] = value;
    const upstreamRequest = httpRequest({ host: address.host, port: address.port, method: request.method, path, headers: outgoing, agent: false });
    let connectTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(connectTimer);
      upstreamRequest.destroy();
    };
    socket.once("close", stop);
    upstreamRequest.on("socket", (s: Socket) => {
      if (!s.connecting) return;
      connectTimer = setTimeout(() => upstreamRequest.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
      s.once("connect", () => clearTimeout(connectTimer));
    });
    upstreamRequest.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      reject(portFailure(err, target));
    });

    upstreamRequest.on("upgrade", (response: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
      clearTimeout(connectTimer);
      socket.off("close", stop);
      socket.off("error", onEarlyError);
      if (socket.destroyed) {
        upstream.destroy();
        return resolve();
      }
      const rewritten = downstreamHeaders(headersOf(response), target, origin, { switching: true });
      socket.write(responseHead(101, response.statusMessage || "Switching Protocols", rewritten));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      // Whichever side ends or fails first takes the other with it.
      const close = () => {
        upstream.destroy();
        socket.destroy();
      };
      upstream.on("error", close);
      socket.on("error", close);
      upstream.on("close", close);
      socket.on("close", close);
      upstream.setNoDelay(true);
      (socket as Partial<Socket>).setNoDelay?.(true);
      upstream.pipe(socket);
      socket.pipe(upstream);
      resolve();
    });

    // The upstream refused the upgrade with an ordinary answer: pass it on, then close.
    upstreamRequest.on("response", (response: IncomingMessage) => {
      clearTimeout(connectTimer);
      const status = response.statusCode ?? 502;
      const rewritten = downstreamHeaders(headersOf(response), target, origin, { switching: false });
      rewritten.delete("content-length");
      rewritten.set("connection", "close");
      socket.write(responseHead(status, response.statusMessage || STATUS_CODES[status] || "", rewritten));
      response.pipe(socket);
      response.on("error", () => socket.destroy());
      resolve();
    });
    upstreamRequest.end();
  });
}

/** The URL the client asked for; the Node host speaks plain HTTP itself. */
function requestUrl(request: IncomingMessage): URL {
  try {
    return new URL(request.url ?? "/", `http://${request.headers.host ?? "localhost"}`);
  } catch {
    return new URL(request.url ?? "/", "http://localhost");
  }
}

function headersOf(response: IncomingMessage): Headers {
  return headersFromRaw(response.rawHeaders);
}

/** An HTTP/1.1 status line and headers, as written on a raw socket (Set-Cookie one line each). */
function responseHead(status: number, message: string, headers: Headers): string {
  const lines = [`HTTP/1.1 ${status} ${message}`];
  for (const [name, value] of headers) if (name !== "set-cookie") lines.push(`${name}: ${value}`);
  for (const cookie of headers.getSetCookie()) lines.push(`set-cookie: ${cookie}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}
