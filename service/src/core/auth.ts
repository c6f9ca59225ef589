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

/** Throws `unauthorized` unless the presented token equals the configured one. Says nothing about why. */
export async function requireToken(config: AuthConfig, presented: string | undefined): Promise<void> {
  if (config.token === undefined) {
    if (config.failClosed) throw new SandgateError("unauthorized", "this service has no token configured and refuses requests; set SANDGATE_TOKEN");
    return;
  }
  if (presented === undefined || presented === "" || !(await constantTimeEqual(presented, config.token))) {
    throw new SandgateError("unauthorized", "missing or invalid token");
  }
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
