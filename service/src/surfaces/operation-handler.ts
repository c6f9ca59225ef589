/**
 * Runs one operation for a REST request: its validated params, query and body become the operation's
 * input, and its result becomes the response its kind says (JSON, no content, bytes or SSE).
 */
import type { Context } from "hono";
import { getMimeType } from "hono/utils/mime";
import type { Principal } from "../core/auth.ts";
import type { FileStream } from "../core/backend.ts";
import type { SandgateCore } from "../core/core.ts";
import type { AnyOperation, OperationContext } from "../core/operations.ts";
import { rawBody } from "./request-body.ts";
import { streamEvents } from "./sse.ts";

type Run = (core: SandgateCore, input: Record<string, unknown>, ctx: OperationContext) => Promise<unknown> | unknown;

export async function handleOperation(c: Context, core: SandgateCore, operation: AnyOperation, principal: Principal): Promise<Response> {
  const req = c.req as unknown as { valid(target: string): Record<string, unknown> | undefined };
  const body = operation.body as { kind: "json" | "bytes" } | undefined;
  const input: Record<string, unknown> = {
    ...(operation.params ? req.valid("param") : {}),
    ...(operation.query ? req.valid("query") : {}),
    ...(body?.kind === "json" ? req.valid("json") : {}),
  };
  const accept = c.req.header("accept");
  const ctx: OperationContext = { signal: c.req.raw.signal, origin: new URL(c.req.url).origin, principal, ...(accept !== undefined ? { accept } : {}) };
  if (body?.kind === "bytes") {
    input.body = rawBody(c);
    const length = c.req.header("content-length");
    if (length !== undefined && /^\d+$/.test(length)) ctx.contentLength = Number(length);
  }

  const result = await (operation.run as Run)(core, input, ctx);
  const response = operation.response;
  switch (response.kind) {
    case "json":
      return c.json(result as object, response.status);
    case "empty":
      return c.body(null, 204);
    case "bytes": {
      const file = result as FileStream;
      const name = String(input.path ?? "");
      return new Response(file.body, {
        headers: {
          "content-type": file.contentType ?? response.contentType ?? getMimeType(name) ?? "application/octet-stream",
          // Several media types by Accept: a cache must key on it.
          ...(response.contentTypes ? { vary: "Accept" } : {}),
          // -1: built as it is sent (an archive), so chunked.
          ...(file.size >= 0 ? { "content-length": String(file.size) } : {}),
          // A sandbox's HTML or SVG must never run as this origin's page (where /docs lives).
          "content-security-policy": "sandbox",
          "x-content-type-options": "nosniff",
        },
      });
    }
    case "events":
      return streamEvents(c, result as AsyncIterable<{ type: string }>);
  }
}
