/**
 * The REST surface's wiring: the middleware in the order it runs, one route per row of the operation
 * table, the compat profile, /rpc, /openapi.json and /docs. Each piece lives in its own file.
 */
import { type Hook, OpenAPIHono, createRoute } from "@hono/zod-openapi";
import type { Context, Env } from "hono";
import type { AuthConfig } from "../core/auth.ts";
import type { SandgateCore } from "../core/core.ts";
import { invalidInput } from "../core/errors.ts";
import { type AnyOperation, operations } from "../core/operations.ts";
import { registerCompatRoutes } from "./compat.ts";
import { type DocsAssetLoader, registerDocs } from "./docs.ts";
import { restErrorHandler } from "./error-mapping.ts";
import { notFoundOrNotAllowed } from "./method-not-allowed.ts";
import { openApiDocument, registerSecuritySchemes, routeOf } from "./openapi-derivation.ts";
import { handleOperation } from "./operation-handler.ts";
import { portProxy } from "./port-proxy.ts";
import { jsonBodyLimit, maxJsonBodyBytes, rawBody } from "./request-body.ts";
import { jsonBodyGuard, strictUrl } from "./request-guards.ts";
import { restAuth } from "./rest-auth.ts";
import { SandgateApi, answerRpc } from "./rpc.ts";

export interface RestOptions {
  core: SandgateCore;
  auth: AuthConfig;
  /** Called with errors that become `internal`, for the host's log. Never gets tokens. */
  onInternalError?: (err: unknown) => void;
  /**
   * Answers Cap'n Web requests at /rpc (after auth) with the given API object; each host brings the
   * transport it has (Workers: batch and WebSocket; Node: batch here, WebSocket on upgrade).
   */
  rpc?: (request: Request, api: SandgateApi) => Promise<Response>;
  /** Serves the API explorer at /docs from these Swagger UI assets; no /docs without it. */
  docsAssets?: DocsAssetLoader;
}

/** The REST surface: one route per row of the operation table, plus /openapi.json. */
export function createRestApp({ core, auth, onInternalError, rpc, docsAssets }: RestOptions): OpenAPIHono {
  const validationHook: Hook<unknown, Env, string, unknown> = (result, c) => {
    if (!result.success) return c.json(invalidInput(result.target === "json" ? "body" : result.target, result.error.issues).toEnvelope(), 400);
  };
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(restErrorHandler(onInternalError));
  app.notFound(notFoundOrNotAllowed(app));
  registerSecuritySchemes(app);

  // The port proxy answers its own paths first: it takes port links and their cookies as well as tokens,
  // and forwards bodies and URLs untouched, with no API limits (core/proxy.ts).
  app.use("*", portProxy(core.backend, auth, rawBody));

  const { authenticate, principalOf, scopeCheck, apiTokenOnly } = restAuth(auth);
  app.use("*", authenticate);
  app.use("/sandbox/*", apiTokenOnly);
  app.use("*", strictUrl);

  // After the size limit: the body is UTF-8 and not absurdly nested (request-guards.ts).
  const jsonBody = jsonBodyGuard(jsonBodyLimit(maxJsonBodyBytes(core.limits.maxJsonFileBytes)));

  for (const operation of Object.values(operations) as AnyOperation[]) {
    const middleware = [
      ...(operation.public ? [] : [scopeCheck(operation)]),
      ...(operation.body && (operation.body as { kind: string }).kind === "json" ? [jsonBody] : []),
    ];
    app.openapi(createRoute(routeOf(operation, middleware)), (c: Context) => handleOperation(c, core, operation, principalOf(c)));
  }

  registerCompatRoutes(app, core, jsonBody);
  if (rpc) app.all("/rpc", (c) => answerRpc(c.req.raw, new SandgateApi(core, { principal: principalOf(c), origin: new URL(c.req.url).origin }), rpc));
  app.get("/openapi.json", (c) => c.json(openApiDocument(app)));
  if (docsAssets) registerDocs(app, { assets: docsAssets });
  return app;
}
