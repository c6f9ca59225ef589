/**
 * Who calls, on the REST surface: the token is checked before validation (so a caller without one
 * learns nothing about the request's shape), and each operation's scope before it runs.
 */
import type { Context, MiddlewareHandler } from "hono";
import { type AuthConfig, type Principal, authenticate, authorize, presentedToken } from "../core/auth.ts";
import type { AnyOperation } from "../core/operations.ts";

export interface RestAuth {
  /** Authenticates every request but the public ones and remembers who made it. */
  authenticate: MiddlewareHandler;
  /** Who made this request (the API token's holder on public paths). */
  principalOf(c: Context): Principal;
  /** Before validation: a scoped token may run this operation only on its sandbox, with the scope the table names. */
  scopeCheck(operation: AnyOperation): MiddlewareHandler;
  /** The compat profile has no scopes: it needs the API token. */
  apiTokenOnly: MiddlewareHandler;
}

export function restAuth(auth: AuthConfig): RestAuth {
  const principals = new WeakMap<Request, Principal>();
  const principalOf = (c: Context): Principal => principals.get(c.req.raw) ?? { kind: "admin" };
  return {
    principalOf,
    authenticate: async (c, next) => {
      if (!isPublic(c.req.path, auth)) principals.set(c.req.raw, await authenticate(auth, presentedToken((name) => c.req.header(name))));
      await next();
    },
    scopeCheck: (operation) => async (c, next) => {
      authorize(principalOf(c), operation.scope, c.req.param("id"));
      await next();
    },
    apiTokenOnly: async (c, next) => {
      authorize(principalOf(c), undefined, undefined);
      await next();
    },
  };
}

function isPublic(path: string, auth: AuthConfig): boolean {
  if (path === "/health") return true;
  if (path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/")) return !auth.protectDocs;
  return false;
}
