import type { Scope } from "../schemas/tokens.ts";
import { base64urlToBytes, bytesToBase64url } from "../schemas/base64.ts";
import { SandgateError } from "./errors.ts";

export interface AuthConfig {
  /** The API token; undefined turns authentication off (the Node host allows that on loopback only). */
  token?: string;
  /** Also require the token for /openapi.json and /docs. */
  protectDocs: boolean;
  /** With no token configured, refuse every protected request instead of allowing it (the Worker's default). */
  failClosed?: boolean;
  /**
   * The current instance of a sandbox (undefined: no sandbox by that id). Scoped tokens and port
   * links name the instance they were minted for and work only while it lives, so a sandbox deleted
   * and re-created under the same id never honours them; without this lookup they are refused.
   */
  sandboxInstance?: SandboxInstanceLookup;
}

export type SandboxInstanceLookup = (sandboxId: string) => Promise<string | undefined>;

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
export type Principal = { kind: "admin" } | { kind: "scoped"; sandboxId: string; instance: string; scopes: Scope[]; expiresAt: string };

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
    await ensureCurrent(principal, config.sandboxInstance);
    return principal;
  }
  if (!(await constantTimeEqual(presented, config.token))) throw new SandgateError("unauthorized", UNAUTHORIZED);
  return ADMIN;
}

/**
 * Throws `unauthorized` once a scoped principal no longer holds: its token expired, or the sandbox
 * instance it was minted for is gone (deleted, or re-created under the same id). Sessions that
 * outlive the request that authenticated them (Cap'n Web over a WebSocket) call it before every call.
 */
export async function ensureCurrent(principal: Principal, sandboxInstance: SandboxInstanceLookup | undefined, now = Date.now()): Promise<void> {
  if (principal.kind === "admin") return;
  if (!(Date.parse(principal.expiresAt) > now)) throw new SandgateError("unauthorized", UNAUTHORIZED);
  // No lookup: nothing can tell a live instance from a dead one, so no scoped token holds.
  if (!sandboxInstance || (await sandboxInstance(principal.sandboxId)) !== principal.instance) throw new SandgateError("unauthorized", UNAUTHORIZED);
}

/** Throws `forbidden` unless the principal may run an operation needing `scope` on `sandboxId` (no scope: API token only). */
export function authorize(principal: Principal, scope: Scope | readonly Scope[] | undefined, sandboxId: string | undefined): void {
  if (principal.kind === "admin") return;
  if (scope === undefined) throw new SandgateError("forbidden", "this operation needs the API token, not a scoped token");
  if (sandboxId !== principal.sandboxId) throw new SandgateError("forbidden", "this token is scoped to another sandbox");
  // Some operations need several scopes (a restore writes files too).
  for (const needed of typeof scope === "string" ? [scope] : scope) {
    if (!principal.scopes.includes(needed)) throw new SandgateError("forbidden", `this token lacks the '${needed}' scope`, { scope: needed });
  }
}

/**
 * A token for one instance of a sandbox and some scopes, until `expiresAt`: its claims, signed with
 * HMAC-SHA256 under a key derived from the API token.
 */
export async function mintScopedToken(apiToken: string, claims: { sandboxId: string; instance: string; scopes: Scope[]; expiresAt: string }): Promise<string> {
  const payload = encodeClaims({ sb: claims.sandboxId, in: claims.instance, sc: claims.scopes, exp: claims.expiresAt });
  return `${SCOPED_PREFIX}${payload}.${await sign(apiToken, payload)}`;
}

/** Port links start with this; they open one port of one sandbox and nothing else. */
const LINK_PREFIX = "sgl1.";

/**
 * A port link's signature: its sandbox instance, port and expiry, HMAC-SHA256 under a key derived
 * from the API token for links only (a link is never a token, nor a token a link).
 */
export async function mintPortLink(apiToken: string, claims: { sandboxId: string; instance: string; port: number; expiresAt: string }): Promise<string> {
  const payload = encodeClaims({ sb: claims.sandboxId, in: claims.instance, p: claims.port, exp: claims.expiresAt });
  return `${LINK_PREFIX}${payload}.${await sign(apiToken, payload, LINK_KEY_CONTEXT)}`;
}

/**
 * The expiry (ms since the epoch) of `link` if it is a valid, unexpired link to exactly this port of
 * the sandbox's current instance; undefined otherwise (links minted before instances existed too).
 */
export async function verifyPortLink(
  apiToken: string,
  link: string,
  target: { sandboxId: string; port: number },
  sandboxInstance: SandboxInstanceLookup | undefined,
): Promise<number | undefined> {
  if (!link.startsWith(LINK_PREFIX)) return undefined;
  const claims = await verifiedClaims(apiToken, link.slice(LINK_PREFIX.length), LINK_KEY_CONTEXT);
  if (!claims || claims.sb !== target.sandboxId || claims.p !== target.port || typeof claims.in !== "string" || typeof claims.exp !== "string") return undefined;
  const expiresAt = Date.parse(claims.exp);
  if (!(expiresAt > Date.now())) return undefined;
  if (!sandboxInstance || (await sandboxInstance(target.sandboxId)) !== claims.in) return undefined;
  return expiresAt;
}

async function verifyScopedToken(apiToken: string, token: string): Promise<Principal | undefined> {
  const claims = await verifiedClaims(apiToken, token.slice(SCOPED_PREFIX.length), TOKEN_KEY_CONTEXT);
  if (!claims) return undefined;
  // Tokens minted before instances existed have no `in`: they are refused like any invalid token.
  if (typeof claims.sb !== "string" || typeof claims.in !== "string" || !Array.isArray(claims.sc) || typeof claims.exp !== "string") return undefined;
  if (!(Date.parse(claims.exp) > Date.now())) return undefined;
  return { kind: "scoped", sandboxId: claims.sb, instance: claims.in, scopes: claims.sc as Scope[], expiresAt: claims.exp };
}

function encodeClaims(claims: Record<string, unknown>): string {
  return bytesToBase64url(new TextEncoder().encode(JSON.stringify(claims)));
}

/** The claims of `payload.signature` once the signature checks out; undefined for anything else. */
async function verifiedClaims(apiToken: string, signed: string, context: string): Promise<Record<string, unknown> | undefined> {
  const [payload, signature, extra] = signed.split(".");
  if (!payload || !signature || extra !== undefined) return undefined;
  if (!(await constantTimeEqual(signature, await sign(apiToken, payload, context)))) return undefined;
  try {
    const bytes = base64urlToBytes(payload);
    const claims: unknown = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
    return typeof claims === "object" && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
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
