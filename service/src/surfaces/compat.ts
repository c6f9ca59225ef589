/**
 * The compatibility profile: the seed-001 wire format (`/sandbox/...`, snake_case) mapped onto the
 * same core operations, so a backend written against that bridge can point at Sandgate unchanged.
 * A thin translation only; anything it needs that core lacks belongs in core for everyone.
 */
import { type OpenAPIHono, type RouteConfig, createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { SandgateCore } from "../core/core.ts";
import { httpStatusOf } from "../core/errors.ts";
import { ErrorEnvelope, type ErrorCode } from "../schemas/common.ts";
import {
  CompatCreateBody,
  CompatDownloadBody,
  CompatDownloadResult,
  CompatExecBody,
  CompatExecResult,
  CompatGetQuery,
  CompatIdParams,
  CompatSandbox,
  CompatSuccess,
  CompatUpdateBody,
  CompatUploadBody,
} from "../schemas/compat.ts";
import type { SandboxInfo } from "../schemas/sandboxes.ts";
import type { z } from "@hono/zod-openapi";

import { errorResponses } from "./error-examples.ts";

const security = [{ bearerAuth: [] }];

function responses(schema: z.ZodType, codes: ErrorCode[], hasJsonBody = true): RouteConfig["responses"] {
  const out: RouteConfig["responses"] = { 200: { description: "Success", content: { "application/json": { schema } } } };
  const common: ErrorCode[] = ["invalid_request", "unauthorized", "forbidden", "headers_too_large", "internal"];
  // A JSON body can be too large or not JSON at all.
  if (hasJsonBody) common.push("payload_too_large", "unsupported_media_type");
  return { ...out, ...errorResponses([...common, ...codes]) };
}

const jsonBody = <S extends z.ZodType>(schema: S) => ({ required: true, content: { "application/json": { schema } } });

function toCompat(info: SandboxInfo): z.infer<typeof CompatSandbox> {
  return {
    sandbox_id: info.id,
    sandbox_status: info.status === "ready" ? "running" : info.status,
    sandbox_created_at: info.createdAt,
    sandbox_expires_at: info.expiresAt,
  };
}

/** The seed's `keepalive_seconds` on get and exec: keep the sandbox alive at least that long from now. */
async function keepAlive(core: SandgateCore, id: string, seconds: number | undefined): Promise<SandboxInfo> {
  const info = await core.getSandbox({ id });
  if (seconds === undefined || Date.parse(info.expiresAt) >= Date.now() + seconds * 1000) return info;
  return core.updateSandbox({ id, ttlSeconds: seconds });
}

/** The OpenAPI tag the compat routes are listed under (they are not rows of the operation table). */
export const compatTag = { name: "compat", description: "The seed-001 bridge's wire format (`/sandbox/...`), for existing Python backends." };

export function registerCompatRoutes(app: OpenAPIHono, core: SandgateCore, jsonBodyLimit: MiddlewareHandler): void {
  const base = { tags: [compatTag.name], security, middleware: [jsonBodyLimit] as MiddlewareHandler[] };

  app.openapi(
    createRoute({ ...base, method: "post", path: "/sandbox/create", operationId: "compatCreate", summary: "Create a sandbox (seed-001 format)", request: { body: jsonBody(CompatCreateBody) }, responses: responses(CompatSandbox, ["conflict", "sandbox_unavailable"]) }),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(toCompat(await core.createSandbox({ id: body.sandbox_id, ttlSeconds: body.keepalive_seconds })), 200);
    },
  );

  app.openapi(
    createRoute({ ...base, middleware: [], method: "get", path: "/sandbox/{sandbox_id}", operationId: "compatGet", summary: "Get a sandbox (seed-001 format)", request: { params: CompatIdParams, query: CompatGetQuery }, responses: responses(CompatSandbox, ["not_found", "sandbox_unavailable"], false) }),
    async (c) => c.json(toCompat(await keepAlive(core, c.req.valid("param").sandbox_id, c.req.valid("query").keepalive_seconds)), 200),
  );

  app.openapi(
    createRoute({ ...base, method: "post", path: "/sandbox/{sandbox_id}/update", operationId: "compatUpdate", summary: "Extend a sandbox's keep-alive (seed-001 format)", request: { params: CompatIdParams, body: jsonBody(CompatUpdateBody) }, responses: responses(CompatSandbox, ["not_found", "sandbox_unavailable"]) }),
    async (c) => {
      const id = c.req.valid("param").sandbox_id;
      return c.json(toCompat(await core.updateSandbox({ id, extendBySeconds: c.req.valid("json").keepalive_longer_by_seconds })), 200);
    },
  );

  app.openapi(
    createRoute({ ...base, middleware: [], method: "post", path: "/sandbox/{sandbox_id}/kill", operationId: "compatKill", summary: "Delete a sandbox (seed-001 format)", request: { params: CompatIdParams }, responses: responses(CompatSuccess, ["not_found", "conflict", "sandbox_unavailable"], false) }),
    async (c) => {
      await core.deleteSandbox({ id: c.req.valid("param").sandbox_id });
      return c.json({ success: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({ ...base, method: "post", path: "/sandbox/{sandbox_id}/exec", operationId: "compatExec", summary: "Run a shell command (seed-001 format)", request: { params: CompatIdParams, body: jsonBody(CompatExecBody) }, responses: responses(CompatExecResult, ["not_found", "sandbox_unavailable"]) }),
    async (c) => {
      const id = c.req.valid("param").sandbox_id;
      const body = c.req.valid("json");
      if (body.keepalive_seconds !== undefined) await keepAlive(core, id, body.keepalive_seconds);
      const result = await core.exec({ id, command: body.command }, c.req.raw.signal);
      return c.json({ stdout: result.stdout, stderr: result.stderr, exit_code: result.exitCode }, 200);
    },
  );

  app.openapi(
    createRoute({ ...base, method: "post", path: "/sandbox/{sandbox_id}/download", operationId: "compatDownload", summary: "Read a file as text or base64 (seed-001 format)", request: { params: CompatIdParams, body: jsonBody(CompatDownloadBody) }, responses: responses(CompatDownloadResult, ["not_found", "forbidden", "sandbox_unavailable"]) }),
    async (c) => {
      const body = c.req.valid("json");
      const file = await core.readFileJson({ id: c.req.valid("param").sandbox_id, path: body.file_path, encoding: body.encoding });
      return c.json({ content: file.content, encoding: file.encoding }, 200);
    },
  );

  app.openapi(
    createRoute({ ...base, method: "post", path: "/sandbox/{sandbox_id}/upload", operationId: "compatUpload", summary: "Write a file from text or base64 (seed-001 format)", request: { params: CompatIdParams, body: jsonBody(CompatUploadBody) }, responses: responses(CompatSuccess, ["not_found", "forbidden", "sandbox_unavailable"]) }),
    async (c) => {
      const body = c.req.valid("json");
      await core.writeFileJson({ id: c.req.valid("param").sandbox_id, path: body.file_path, content: body.content, encoding: body.encoding });
      return c.json({ success: true as const }, 200);
    },
  );
}
