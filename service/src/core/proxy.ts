/**
 * The port proxy, `/v1/sandboxes/{id}/ports/{port}/...`, apart from any transport: which requests it
 * takes, who may use it (the API token, a scoped token with `ports` on that sandbox, or a signed port
 * link and the cookie it leaves), what the upstream sees (hop-by-hop headers gone, forwarded headers
 * set, no Sandgate credential) and how the upstream's answer is rewritten under the prefix (Location,
 * Content-Location, Set-Cookie paths). Web standard APIs only: this runs in workerd as well as on Node.
 */
import { SandboxId } from "../schemas/common.ts";
import { type AuthConfig, authenticate, authorize, presentedToken, verifyPortLink } from "./auth.ts";
import type { Backend } from "./backend.ts";
import { PORT_LINK_PARAM } from "./core.ts";
import { SandgateError } from "./errors.ts";

/** A request path under the proxy, as it arrived (percent-encoding kept). */
export interface ProxyPath {
  /** The sandbox id segment, decoded (not yet validated). */
  id: string;
  /** The port segment as written (not yet validated). */
  portText: string;
  /** The path the upstream gets, from the slash after the port on; undefined for `/ports/8080` itself. */
  rest: string | undefined;
}

/** What the proxy knows of one request once its sandbox and port are valid. */
export interface ProxyTarget {
  sandboxId: string;
  port: number;
  /** `/v1/sandboxes/{id}/ports/{port}`, without a trailing slash. */
  prefix: string;
}

/** Where the request came from, for X-Forwarded-* and Forwarded. */
export interface ProxyOrigin {
  /** The URL the client asked for (its scheme and host are this service's public ones). */
  url: URL;
  /** The client's address, when the transport knows it. */
  clientAddress?: string;
}

const PROXY_PATH = /^\/v1\/sandboxes\/([^/]+)\/ports\/([^/]*)(\/.*)?$/;

/** Whether `pathname` (raw, as in the URL) is under the proxy, and its parts. */
export function matchProxyPath(pathname: string): ProxyPath | undefined {
  const match = PROXY_PATH.exec(pathname);
  if (!match) return undefined;
  let id = match[1]!;
  try {
    id = decodeURIComponent(id);
  } catch {
    // left as written: it fails validation below
  }
  return { id, portText: match[2]!, rest: match[3] };
}

/** The port segment as a number, or undefined unless it is a plain 1-65535 (no sign, no leading zero). */
export function parsePort(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** Validates the sandbox id and the port of a proxy path: `invalid_request` otherwise. */
export function proxyTarget(path: ProxyPath): ProxyTarget {
  if (!SandboxId.safeParse(path.id).success) {
    throw new SandgateError("invalid_request", "invalid sandbox id: lowercase letters, digits and '-', 1 to 63 characters", { id: path.id.slice(0, 100) });
  }
  const port = parsePort(path.portText);
  if (port === undefined) throw new SandgateError("invalid_request", "the port must be an integer from 1 to 65535", { port: path.portText.slice(0, 20) });
  return { sandboxId: path.id, port, prefix: proxyPrefix(path.id, port) };
}

export function proxyPrefix(sandboxId: string, port: number): string {
  return `/v1/sandboxes/${sandboxId}/ports/${port}`;
}

/** Names of the cookies port links leave; the one for a sandbox's port is `sandgate_link_{id}_{port}`. */
const LINK_COOKIE_PREFIX = `${PORT_LINK_PARAM}_`;

export function linkCookieName(sandboxId: string, port: number | string): string {
  return `${LINK_COOKIE_PREFIX}${sandboxId}_${port}`;
}

/** The query string without any `sandgate_link` parameter (the rest untouched, byte for byte), and that link. */
export function splitLinkParam(search: string): { search: string; link: string | undefined } {
  if (search.length <= 1) return { search: "", link: undefined };
  let link: string | undefined;
  const kept: string[] = [];
  for (const part of search.slice(1).split("&")) {
    const eq = part.indexOf("=");
    const name = decodeQueryPart(eq < 0 ? part : part.slice(0, eq));
    if (name === PORT_LINK_PARAM) {
      link ??= decodeQueryPart(eq < 0 ? "" : part.slice(eq + 1));
      continue;
    }
    kept.push(part);
  }
  return { search: kept.length > 0 ? `?${kept.join("&")}` : "", link };
}

function decodeQueryPart(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/** The values of cookie `name` in a Cookie header (a browser sends one per matching path, most specific first). */
export function cookieValues(header: string | null | undefined, name: string): string[] {
  const values: string[] = [];
  for (const pair of (header ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq >= 0 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return values;
}

/** The request headers the rules read: web `Headers`, or a view of Node's IncomingMessage headers. */
export interface HeaderLookup {
  get(name: string): string | null;
}

/** An answer the proxy gives itself, without the upstream: always a redirect, with no body. */
export interface ProxyAnswer {
  status: number;
  headers: Record<string, string>;
}

/** How a request may pass: as it is, or (a port link in the URL) by a redirect that trades the link for a cookie. */
export type ProxyAccess = { kind: "allowed" } | { kind: "redirect"; answer: ProxyAnswer };

const NO_LINK = "invalid or expired port link";

/**
 * Who may use the proxy, before anything about the request is validated (a caller without a
 * credential learns nothing about its shape):
 *   1. `?sandgate_link=` in the URL: a valid link to exactly this sandbox and port answers a redirect to
 *      the same URL without it, setting the link as an HttpOnly cookie for this port's path until the
 *      link expires (a WebSocket upgrade cannot follow redirects: there the link is simply accepted).
 *      An invalid or expired link is `unauthorized`, whatever else the request carries.
 *   2. That cookie, if it holds a valid link.
 *   3. Otherwise a token, like every other route: the API token, or a scoped token with `ports` on this sandbox.
 */
export async function authorizeProxy(
  auth: AuthConfig,
  request: { method: string; url: URL; headers: HeaderLookup },
  path: ProxyPath,
  options: { upgrade: boolean },
): Promise<ProxyAccess> {
  const header = (name: string) => request.headers.get(name);
  const { search, link } = splitLinkParam(request.url.search);
  if (auth.token === undefined) {
    // No token configured: the same rule as every route (allowed on the Node host's loopback, refused by a fail-closed Worker).
    await authenticate(auth, undefined);
    return { kind: "allowed" };
  }
  const port = parsePort(path.portText);
  if (link !== undefined) {
    const expiresAt = port === undefined ? undefined : await verifyPortLink(auth.token, link, { sandboxId: path.id, port }, auth.sandboxInstance);
    if (expiresAt === undefined) throw new SandgateError("unauthorized", NO_LINK);
    if (options.upgrade) return { kind: "allowed" };
    const prefix = proxyPrefix(path.id, port!);
    const maxAge = Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000));
    const secure = request.url.protocol === "https:" ? "; Secure" : "";
    return {
      kind: "redirect",
      answer: {
        status: request.method === "GET" || request.method === "HEAD" ? 302 : 303,
        headers: {
          location: `${prefix}${path.rest ?? "/"}${search}`,
          "set-cookie": `${linkCookieName(path.id, port!)}=${link}; Path=${prefix}/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`,
          "cache-control": "no-store",
          "referrer-policy": "no-referrer",
        },
      },
    };
  }
  if (port !== undefined) {
    // A page of the app can set a cookie of the same name for a deeper path; any valid one will do.
    for (const cookie of cookieValues(header("cookie"), linkCookieName(path.id, port)).slice(0, 4)) {
      if ((await verifyPortLink(auth.token, cookie, { sandboxId: path.id, port }, auth.sandboxInstance)) !== undefined) return { kind: "allowed" };
    }
  }
  const principal = await authenticate(auth, presentedToken(header));
  authorize(principal, "ports", path.id);
  return { kind: "allowed" };
}

/** Whether a request asks to become a WebSocket. */
export function isWebSocketUpgrade(headers: HeaderLookup): boolean {
  return (headers.get("upgrade") ?? "").toLowerCase() === "websocket" && /(^|,)\s*upgrade\s*(,|$)/i.test(headers.get("connection") ?? "");
}

/** Headers meaningful only on one connection (RFC 9110 7.6.1): never forwarded. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "http2-settings"];

/** Sandgate's own credentials: the sandbox never sees them. */
const CREDENTIAL_HEADERS = ["authorization", "x-sandgate-token"];

function removeHopByHop(headers: Headers): void {
  for (const name of (headers.get("connection") ?? "").split(",")) {
    const trimmed = name.trim().toLowerCase();
    if (trimmed) headers.delete(trimmed);
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
}

/**
 * The headers the upstream gets: the client's, without hop-by-hop headers (and those the client's
 * Connection names), without Sandgate credentials (Authorization, x-sandgate-token, link cookies);
 * Host is the upstream's own (`localhost:{port}`), and X-Forwarded-For/Proto/Host/Port/Prefix and
 * Forwarded say where the request came from. A WebSocket upgrade keeps `Upgrade` and `Connection: Upgrade`.
 */
export function upstreamHeaders(incoming: Headers, target: ProxyTarget, origin: ProxyOrigin, options: { upgrade: boolean }): Headers {
  const headers = new Headers(incoming);
  const upgrade = options.upgrade ? incoming.get("upgrade") : null;
  removeHopByHop(headers);
  headers.delete("expect"); // this hop answered it (Node sends 100 Continue itself)
  for (const name of CREDENTIAL_HEADERS) headers.delete(name);
  const cookies = (incoming.get("cookie") ?? "")
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "" && !pair.startsWith(LINK_COOKIE_PREFIX));
  if (cookies.length > 0) headers.set("cookie", cookies.join("; "));
  else headers.delete("cookie");
  if (upgrade) {
    headers.set("connection", "Upgrade");
    headers.set("upgrade", upgrade);
  }

  headers.set("host", upstreamHost(target.port));
  const proto = origin.url.protocol.replace(/:$/, "");
  const client = origin.clientAddress ? plainAddress(origin.clientAddress) : undefined;
  if (client) {
    const previous = incoming.get("x-forwarded-for");
    headers.set("x-forwarded-for", previous ? `${previous}, ${client}` : client);
  }
  headers.set("x-forwarded-proto", proto);
  headers.set("x-forwarded-host", origin.url.host);
  headers.set("x-forwarded-port", origin.url.port || (proto === "https" ? "443" : "80"));
  headers.set("x-forwarded-prefix", target.prefix);
  const element = [`for=${forwardedValue(client ? forwardedNode(client) : "unknown")}`, `host=${forwardedValue(origin.url.host)}`, `proto=${proto}`].join(";");
  const previous = incoming.get("forwarded");
  headers.set("forwarded", previous ? `${previous}, ${element}` : element);
  return headers;
}

/** The Host the upstream gets, and the URL the request is addressed to (the backend decides where that is). */
export function upstreamHost(port: number): string {
  return `localhost:${port}`;
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as Node reports IPv4 clients of a dual-stack socket) as plain IPv4. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

function forwardedNode(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** A Forwarded parameter value: a token as it is, anything else quoted (RFC 7239). */
function forwardedValue(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/**
 * The headers the client gets: the upstream's, without hop-by-hop headers (a 101 keeps its Connection
 * and Upgrade), Location and Content-Location rewritten under the prefix when they point at the
 * upstream itself or at a path of this host, Set-Cookie confined to the prefix.
 */
export function downstreamHeaders(upstream: Headers, target: ProxyTarget, origin: ProxyOrigin, options: { switching: boolean }): Headers {
  const headers = new Headers();
  const connection = options.switching ? null : upstream.get("connection");
  const dropped = new Set<string>((connection ?? "").split(",").map((name) => name.trim().toLowerCase()));
  if (!options.switching) for (const name of HOP_BY_HOP) dropped.add(name);
  for (const [name, value] of upstream) {
    if (dropped.has(name) || name === "set-cookie") continue;
    headers.append(name, name === "location" || name === "content-location" ? rewriteLocation(value, target, origin) : value);
  }
  for (const cookie of upstream.getSetCookie()) {
    const rewritten = rewriteSetCookie(cookie, target);
    if (rewritten !== undefined) headers.append("set-cookie", rewritten);
  }
  return headers;
}

/** `path` (absolute, raw) under the prefix, unless it is already there (the app honoured X-Forwarded-Prefix). */
function underPrefix(path: string, prefix: string): string {
  if (path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`) || path.startsWith(`${prefix}#`)) return path;
  return `${prefix}${path}`;
}

/** The hosts (as URL.host writes them) by which an app addresses itself: the Host it was sent and loopback. */
function upstreamHosts(port: number): Set<string> {
  return new Set(["localhost", "127.0.0.1", "[::1]", "0.0.0.0"].map((host) => new URL(`http://${host}:${port}`).host));
}

/**
 * A Location (or Content-Location) from the upstream, as the client must see it: a path (`/login`)
 * goes under the prefix; an absolute URL naming the upstream itself (`http://localhost:8080/login`) or
 * this service's host becomes this service's URL under the prefix; relative references (`login`,
 * `../x`) already resolve under the prefix, and other hosts are left alone.
 */
export function rewriteLocation(value: string, target: ProxyTarget, origin: ProxyOrigin): string {
  const trimmed = value.trim();
  if (trimmed.startsWith("/") && !trimmed.startsWith("//")) return underPrefix(trimmed, target.prefix);
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(trimmed);
  if (!absolute && !trimmed.startsWith("//")) return value;
  let url: URL;
  try {
    url = new URL(trimmed, origin.url);
  } catch {
    return value;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return value;
  if (!upstreamHosts(target.port).has(url.host) && url.host !== origin.url.host) return value;
  return `${origin.url.origin}${underPrefix(`${url.pathname}${url.search}${url.hash}`, target.prefix)}`;
}

/**
 * A Set-Cookie from the upstream, confined to the prefix: `Path=/x` becomes `Path={prefix}/x` (a
 * cookie without Path already defaults to a directory under the prefix), a Domain naming the upstream
 * (localhost) is dropped so the browser keeps the cookie, and cookies posing as link cookies are
 * dropped altogether (undefined).
 */
export function rewriteSetCookie(value: string, target: ProxyTarget): string | undefined {
  const [pair = "", ...attributes] = value.split(";");
  if (pair.split("=")[0]!.trim().startsWith(LINK_COOKIE_PREFIX)) return undefined;
  const out = [pair];
  for (const attribute of attributes) {
    const eq = attribute.indexOf("=");
    const key = (eq < 0 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
    const val = eq < 0 ? "" : attribute.slice(eq + 1).trim();
    if (key === "path" && val.startsWith("/")) {
      out.push(` Path=${underPrefix(val, target.prefix)}`);
    } else if (key === "domain" && ["localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"].includes(val.replace(/^\./, "").toLowerCase())) {
      continue;
    } else {
      out.push(attribute);
    }
  }
  return out.join(";");
}

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** Whether the client's answer to `method` with `status` has no body (the upstream's, if any, is dropped). */
export function isBodylessAnswer(method: string, status: number): boolean {
  return NULL_BODY.has(status) || method === "HEAD";
}

/** What to do with a request under the proxy: answer it here (a redirect), or forward it to the sandbox. */
export type ProxyPlan =
  | { kind: "answer"; answer: ProxyAnswer }
  | {
      kind: "forward";
      target: ProxyTarget;
      /** The upstream's request target: the path after the port and the query without the link parameter. */
      upstreamPath: string;
      upgrade: boolean;
    };

/**
 * The decisions the proxy makes about one request before the upstream sees it, whatever carries it
 * (the web Request below, or the Node host's IncomingMessage in hosts/node/port-proxy.ts):
 * authorization (maybe a redirect that trades a port link for its cookie), the sandbox and port
 * validated, `/ports/8080` redirected to `/ports/8080/`, and the upstream's path.
 */
export async function planProxyRequest(auth: AuthConfig, request: { method: string; url: URL; headers: HeaderLookup }, path: ProxyPath): Promise<ProxyPlan> {
  const upgrade = isWebSocketUpgrade(request.headers);
  const access = await authorizeProxy(auth, request, path, { upgrade });
  if (access.kind === "redirect") return { kind: "answer", answer: access.answer };
  const target = proxyTarget(path);
  const { search } = splitLinkParam(request.url.search);
  if (path.rest === undefined) {
    // Relative links of the app's pages resolve against the directory: `/ports/8080` must be `/ports/8080/`.
    return { kind: "answer", answer: { status: 308, headers: { location: `${target.prefix}/${search}` } } };
  }
  return { kind: "forward", target, upstreamPath: `${path.rest}${search}`, upgrade };
}

export interface ProxyOptions {
  backend: Backend;
  auth: AuthConfig;
  /** The client's address, when the transport knows it. */
  clientAddress?: string;
  /**
   * The request body as the transport reads it best (the Node host reads its socket directly);
   * default: `request.body`. Null for no body.
   */
  body?: () => ReadableStream<Uint8Array> | null;
}

/**
 * Answers a request under `/v1/sandboxes/{id}/ports/{port}/...` (undefined for any other path):
 * authorizes it, then forwards it through `backend.fetchPort` as a request to
 * `http://localhost:{port}{path}{query}` with the proxy's headers, body streamed, and rewrites the
 * answer. Redirects from the upstream are passed on (rewritten), never followed. WebSocket upgrades
 * go the same way (a backend that can answers 101 with the socket: Workers). This is the web-standard
 * path (the Worker); the Node host takes the same decisions over node:http (hosts/node/port-proxy.ts).
 */
export async function proxyPortRequest(request: Request, options: ProxyOptions): Promise<Response | undefined> {
  const url = new URL(request.url);
  const path = matchProxyPath(url.pathname);
  if (!path) return undefined;
  const method = request.method;
  const plan = await planProxyRequest(options.auth, { method, url, headers: request.headers }, path);
  if (plan.kind === "answer") return new Response(null, plan.answer);
  const { target, upgrade } = plan;
  const origin: ProxyOrigin = { url, clientAddress: options.clientAddress };
  const body = method === "GET" || method === "HEAD" ? null : options.body ? options.body() : request.body;
  const upstream = new Request(`http://${upstreamHost(target.port)}${plan.upstreamPath}`, {
    method,
    headers: upstreamHeaders(request.headers, target, origin, { upgrade }),
    body,
    redirect: "manual",
    signal: request.signal,
    ...(body ? { duplex: "half" } : {}),
  } as RequestInit);
  const response = await options.backend.fetchPort(target.sandboxId, target.port, upstream);
  if (response.status === 101) return response; // a WebSocket (Workers): its headers went out with the handshake
  const bodyless = isBodylessAnswer(method, response.status);
  if (bodyless) await response.body?.cancel().catch(() => {});
  return new Response(bodyless ? null : response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: downstreamHeaders(response.headers, target, origin, { switching: false }),
  });
}
