import type { Scope } from "../schemas/tokens.ts";
import { base64urlToBytes, bytesToBase64url } from "./base64.ts";
import { SandgateError } from "./errors.ts";

export interface AuthConfig {
  /** The API token; undefined turns authentication off (the Node host allows that on loopback only). */
  token?: string;
  /** Also require the token for /openapi.json and /docs. */
  protectDocs: boolean;
  /** With no token configured, refuse every protected request instead of allowing it (the Worker's default). */
  failClosed?: boolean;
}

/** The token a request presents: `Authorization: Bearer <token>` or `x-sandgate-token: <token>`. Never a URL. */
export function presentedToken(header: (name: string) => string | null | undefined): string | undefined {
  const authorization = header("authorization");
  if (authorization) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? "";
  }
  return header("x-sandgate-token") ?? undefined;
}

/** Who a request acts as: the holder of the API token, or of a token scoped to one sandbox. */
export type Principal = { kind: "admin" } | { kind: "scoped"; sandboxId: string; scopes: Scope[]; expiresAt: string };

const ADMIN: Principal = { kind: "admin" };
const UNAUTHORIZED = "missing or invalid token";
/** Scoped tokens start with this, so they are told apart from the API token before any crypto. */
const SCOPED_PREFIX = "sgs1.";

/** Throws `unauthorized` unless the presented token is the API token or a valid scoped token. Says nothing about why. */
export async function authenticate(config: AuthConfig, presented: string | undefined): Promise<Principal> {
  if (config.token === undefined) {
    if (config.failClosed) throw new SandgateError("unauthorized", "this service has no token configured and refuses requests; set SANDGATE_TOKEN");
    return ADMIN;
  }
  if (presented === undefined || presented === "") throw new SandgateError("unauthorized", UNAUTHORIZED);
  if (presented.startsWith(SCOPED_PREFIX)) {
    const principal = await verifyScopedToken(config.token, presented);
    if (!principal) throw new SandgateError("unauthorized", UNAUTHORIZED);
    return principal;
  }
  if (!(await constantTimeEqual(presented, config.token))) throw new SandgateError("unauthorized", UNAUTHORIZED);
  return ADMIN;
}

/** Throws `forbidden` unless the principal may run an operation needing `scope` on `sandboxId` (no scope: API token only). */
export function authorize(principal: Principal, scope: Scope | undefined, sandboxId: string | undefined): void {
  if (principal.kind === "admin") return;
  if (scope === undefined) throw new SandgateError("forbidden", "this operation needs the API token, not a scoped token");
  if (sandboxId !== principal.sandboxId) throw new SandgateError("forbidden", "this token is scoped to another sandbox");
  if (!principal.scopes.includes(scope)) throw new SandgateError("forbidden", `this token lacks the '${scope}' scope`, { scope });
}

/** A token for one sandbox and some scopes, until `expiresAt`: its claims, signed with HMAC-SHA256 under a key derived from the API token. */
export async function mintScopedToken(apiToken: string, claims: { sandboxId: string; scopes: Scope[]; expiresAt: string }): Promise<string> {
  const payload = bytesToBase64url(new TextEncoder().encode(JSON.stringify({ sb: claims.sandboxId, sc: claims.scopes, exp: claims.expiresAt })));
  return `${SCOPED_PREFIX}${payload}.${await sign(apiToken, payload)}`;
}

/** Port links start with this; they open one port of one sandbox and nothing else. */
const LINK_PREFIX = "sgl1.";

/**
 * A port link's signature: its sandbox, port and expiry, HMAC-SHA256 under a key derived from the
 * API token for links only (a link is never a token, nor a token a link).
 */
export async function mintPortLink(apiToken: string, claims: { sandboxId: string; port: number; expiresAt: string }): Promise<string> {
  const payload = bytesToBase64url(new TextEncoder().encode(JSON.stringify({ sb: claims.sandboxId, p: claims.port, exp: claims.expiresAt })));
  return `${LINK_PREFIX}${payload}.${await sign(apiToken, payload, LINK_KEY_CONTEXT)}`;
}

/** Whether `link` is a valid, unexpired link to exactly this sandbox and port. */
export async function verifyPortLink(apiToken: string, link: string, sandboxId: string, port: number): Promise<boolean> {
  if (!link.startsWith(LINK_PREFIX)) return false;
  const [payload, signature, extra] = link.slice(LINK_PREFIX.length).split(".");
  if (!payload || !signature || extra !== undefined) return false;
  if (!(await constantTimeEqual(signature, await sign(apiToken, payload, LINK_KEY_CONTEXT)))) return false;
  try {
    const bytes = base64urlToBytes(payload);
    if (!bytes) return false;
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { sb?: unknown; p?: unknown; exp?: unknown };
    return claims.sb === sandboxId && claims.p === port && typeof claims.exp === "string" && Date.parse(claims.exp) > Date.now();
  } catch {
    return false;
  }
}

async function verifyScopedToken(apiToken: string, token: string): Promise<Principal | undefined> {
  const [payload, signature, extra] = token.slice(SCOPED_PREFIX.length).split(".");
  if (!payload || !signature || extra !== undefined) return undefined;
  if (!(await constantTimeEqual(signature, await sign(apiToken, payload)))) return undefined;
  try {
    const bytes = base64urlToBytes(payload);
    if (!bytes) return undefined;
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { sb?: unknown; sc?: unknown; exp?: unknown };
    if (typeof claims.sb !== "string" || !Array.isArray(claims.sc) || typeof claims.exp !== "string") return undefined;
    if (!(Date.parse(claims.exp) > Date.now())) return undefined;
    return { kind: "scoped", sandboxId: claims.sb, scopes: claims.sc as Scope[], expiresAt: claims.exp };
  } catch {
    return undefined;
  }
}

const TOKEN_KEY_CONTEXT = "sandgate scoped tokens v1";
const LINK_KEY_CONTEXT = "sandgate port links v1";

/** HMAC-SHA256 of `data`; the key is derived from the API token, so rotating it revokes every scoped token and link. */
async function sign(apiToken: string, data: string, context = TOKEN_KEY_CONTEXT): Promise<string> {
  const encoder = new TextEncoder();
  const keyBytes = await crypto.subtle.digest("SHA-256", encoder.encode(`${context}\n${apiToken}`));
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return bytesToBase64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data))));
}

/**
 * Compares SHA-256 digests byte by byte without an early exit, so neither the content nor the length
 * of the expected token shows in the time taken. Web Crypto runs on Node and in Workers alike.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const left = new Uint8Array(x);
  const right = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < left.length; i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return diff === 0;
}
