/**
 * What a request no route takes answers, from the routes the app has: 405 with `Allow` when the path
 * exists under other methods (RFC 9110 §15.5.6), a 404 that names the route when only a trailing
 * slash differs, else a plain 404.
 */
import type { Context } from "hono";
import { SandgateError } from "../core/errors.ts";

interface Template {
  pattern: RegExp;
  methods: Set<string>;
  /** Literal segments: `/sandbox/create` (2) is more specific than `/sandbox/:sandbox_id` (1) and wins. */
  literals: number;
}

/** Hono's `/v1/sandboxes/:id/exec` as a regular expression over one request path. */
function templatePattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}

/** What the app is asked for: its routes, as hono lists them. */
interface HasRoutes {
  routes: ReadonlyArray<{ method: string; path: string }>;
}

function templatesOf(app: HasRoutes): Template[] {
  const byPath = new Map<string, Set<string>>();
  for (const route of app.routes) {
    // Middleware is registered as ALL on wildcard paths; it names no resource.
    if (route.method === "ALL" && route.path.includes("*")) continue;
    if (route.path.includes("*")) continue;
    const methods = byPath.get(route.path) ?? new Set<string>();
    if (route.method === "ALL") for (const m of ["GET", "POST", "PUT", "PATCH", "DELETE"]) methods.add(m);
    else methods.add(route.method.toUpperCase());
    byPath.set(route.path, methods);
  }
  return [...byPath].map(([path, methods]) => {
    // GET implies HEAD (hono answers it); the list is what `Allow` says.
    if (methods.has("GET")) methods.add("HEAD");
    return { pattern: templatePattern(path), methods, literals: path.split("/").filter((p) => p !== "" && !p.startsWith(":")).length };
  });
}

/** The app's notFound handler: 405 + Allow, a trailing-slash hint, or 404. Routes are read once, on first use. */
export function notFoundOrNotAllowed(app: HasRoutes): (c: Context) => Response {
  let templates: Template[] | undefined;
  const allowed = (path: string): Set<string> => {
    templates ??= templatesOf(app);
    const matches = templates.filter((t) => t.pattern.test(path));
    const best = Math.max(...matches.map((t) => t.literals));
    const methods = new Set<string>();
    for (const t of matches) if (t.literals === best) for (const m of t.methods) methods.add(m);
    return methods;
  };
  return (c) => {
    const { method, path } = c.req;
    const methods = allowed(path);
    if (methods.size > 0 && !methods.has(method)) {
      const allow = [...methods].sort().join(", ");
      return c.json(new SandgateError("method_not_allowed", `${method} is not allowed on ${path}; allowed: ${allow}`, { allow: [...methods].sort() }).toEnvelope(), 405, {
        allow,
      });
    }
    if (path.length > 1 && path.endsWith("/")) {
      const trimmed = path.replace(/\/+$/, "") || "/";
      if (allowed(trimmed).size > 0) {
        return c.json(new SandgateError("not_found", `no route for ${method} ${path}; did you mean ${trimmed} (without the trailing slash)?`, { route: trimmed }).toEnvelope(), 404);
      }
    }
    return c.json(new SandgateError("not_found", `no route for ${method} ${path}`).toEnvelope(), 404);
  };
}
