import { OpenAPIHono, type RouteConfig, createRoute, z } from "@hono/zod-openapi";
import type { Hook } from "@hono/zod-openapi";
import type { Context, Env, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import { getMimeType } from "hono/utils/mime";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type AuthConfig, type Principal, authenticate, authorize, presentedToken } from "../core/auth.ts";
import { VERSION, type SandgateCore } from "../core/core.ts";
import { SandgateError, httpStatusOf, invalidInput, toSandgateError } from "../core/errors.ts";
import { type Operation, type OperationContext, type ResponseSpec, operations } from "../core/operations.ts";
import type { FileStream } from "../core/backend.ts";
import { ErrorEnvelope, type ErrorCode } from "../schemas/common.ts";
import { challengeHeaders } from "./auth-challenge.ts";
import { registerCompatRoutes } from "./compat.ts";
import { errorResponses } from "./error-examples.ts";
import { type DocsAssetLoader, registerDocs } from "./docs.ts";
import { describeEventStreams } from "./event-streams.ts";
import { notFoundOrNotAllowed } from "./method-not-allowed.ts";
import { describePortProxy, portProxy } from "./port-proxy.ts";
import { jsonBodyGuard, strictUrl } from "./request-guards.ts";
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

/** SSE comment lines keep proxies and clients from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

type AnyOperation = Operation<unknown, unknown, unknown, ResponseSpec>;
type Run = (core: SandgateCore, input: Record<string, unknown>, ctx: OperationContext) => Promise<unknown> | unknown;

export const openApiInfo = {
  openapi: "3.1.0",
  info: {
    title: "Sandgate",
    version: VERSION,
    description:
      "Isolated Linux sandboxes that run commands, hold files and serve ports. Every error is `{\"error\": {\"code\", \"message\", \"details\"?}}`.",
  },
  tags: [
    { name: "service", description: "Liveness and metadata." },
    { name: "sandboxes", description: "Create, find, extend and delete sandboxes." },
    { name: "exec", description: "Run commands, buffered or streamed." },
    { name: "files", description: "Read and write files under /workspace." },
    { name: "processes", description: "Background processes: start, list, follow their output, wait for ports and lines, kill." },
    { name: "ports", description: "Reach a sandbox's ports: the proxy at /v1/sandboxes/{id}/ports/{port}/... (HTTP and WebSocket) and signed links to it." },
    { name: "git", description: "Clone repositories into the workspace." },
    { name: "compat", description: "The seed-001 bridge's wire format (`/sandbox/...`), for existing Python backends." },
  ],
};

/** The REST surface: one route per row of the operation table, plus /openapi.json. */
export function createRestApp({ core, auth, onInternalError, rpc, docsAssets }: RestOptions): OpenAPIHono {
  const validationHook: Hook<unknown, Env, string, unknown> = (result, c) => {
    if (!result.success) return c.json(invalidInput(result.target === "json" ? "body" : result.target, result.error.issues).toEnvelope(), 400);
  };
  const app = new OpenAPIHono({ defaultHook: validationHook });

  app.onError((err, c) => {
    // A request whose client went away (an upload cut off, a connection reset) failed on the client's
    // side: nobody reads the answer, and it is not the host's error to log.
    if (clientGone(c)) return c.json(new SandgateError("invalid_request", "the client closed the connection").toEnvelope(), 400);
    const { status, envelope } = errorAnswer(err, onInternalError);
    return c.json(envelope, status as ContentfulStatusCode, challengeHeaders(status));
  });
  app.notFound(notFoundOrNotAllowed(app));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "tokenHeader", { type: "apiKey", in: "header", name: "x-sandgate-token" });

  // The port proxy answers its own paths first: it takes port links and their cookies as well as tokens,
  // and forwards bodies and URLs untouched, with no API limits (core/proxy.ts).
  app.use("*", portProxy(core.backend, auth, rawBody));

  // Auth runs before validation, so a caller without a token learns nothing about the request's shape.
  const principals = new WeakMap<Request, Principal>();
  const principalOf = (c: Context): Principal => principals.get(c.req.raw) ?? { kind: "admin" };
  app.use("*", async (c, next) => {
    if (!isPublic(c.req.path, auth)) principals.set(c.req.raw, await authenticate(auth, presentedToken((name) => c.req.header(name))));
    await next();
  });
  // The compat profile has no scopes: it needs the API token.
  app.use("/sandbox/*", async (c, next) => {
    authorize(principalOf(c), undefined, undefined);
    await next();
  });
  app.use("*", strictUrl);

  const maxJsonBody = Math.ceil((core.limits.maxJsonFileBytes * 4) / 3) + 64 * 1024;
  const tooLarge = () => {
    throw new SandgateError("payload_too_large", `JSON bodies are limited to ${maxJsonBody} bytes (to write a larger file, PUT its raw bytes to /v1/sandboxes/{id}/files/content?path=...)`, { limitBytes: maxJsonBody });
  };
  const streamedBodyLimit = bodyLimit({ maxSize: maxJsonBody, onError: tooLarge });
  // hono's bodyLimit starts by asking for c.req.raw.body, which makes the Node adapter build a whole
  // web Request and then read the JSON through streams: ~0.5 ms of every JSON call. The same check by
  // Content-Length (what bodyLimit does too when there is one) leaves the adapter's fast path alone.
  const jsonBodyLimit: MiddlewareHandler = async (c, next) => {
    const length = c.req.header("content-length");
    if (length === undefined || c.req.header("transfer-encoding") !== undefined) return streamedBodyLimit(c, next);
    if (Number.parseInt(length, 10) > maxJsonBody) tooLarge();
    await next();
  };

  // After the size limit: the body is UTF-8 and not absurdly nested (request-guards.ts).
  const jsonBody = jsonBodyGuard(jsonBodyLimit);

  for (const operation of Object.values(operations) as AnyOperation[]) {
    app.openapi(
      createRoute({
        method: operation.method,
        path: operation.path,
        operationId: operation.operationId,
        summary: operation.summary,
        description: operation.description,
        tags: operation.tags,
        security: operation.public ? [] : [{ bearerAuth: [] }, { tokenHeader: [] }],
        middleware: [
          ...(operation.public ? [] : [scopeCheck(operation, principalOf)]),
          ...(operation.body && (operation.body as { kind: string }).kind === "json" ? [jsonBody] : []),
        ],
        request: requestOf(operation),
        responses: responsesOf(operation),
      }),
      (c: Context) => handle(c, core, operation, principalOf(c)),
    );
  }

  registerCompatRoutes(app, core, jsonBody);
  if (rpc) app.all("/rpc", (c) => answerRpc(c.req.raw, new SandgateApi(core, { principal: principalOf(c), origin: new URL(c.req.url).origin }), rpc));
  app.get("/openapi.json", (c) => c.json(openApiDocument(app)));
  if (docsAssets) registerDocs(app, { assets: docsAssets });
  return app;
}

/** Before validation: a scoped token may run this operation only on its sandbox, with the scope the table names. */
function scopeCheck(operation: AnyOperation, principalOf: (c: Context) => Principal): MiddlewareHandler {
  return async (c, next) => {
    authorize(principalOf(c), operation.scope, c.req.param("id"));
    await next();
  };
}

export function openApiDocument(app: OpenAPIHono) {
  const document = app.getOpenAPI31Document(openApiInfo);
  describeEventStreams(document);
  describePortProxy(document);
  return document;
}

/** Whether the client of this request is gone: its request aborted, or (Node) its socket closed or failed. */
function clientGone(c: Context): boolean {
  const incoming = (c.env as { incoming?: { aborted?: boolean; errored?: unknown; socket?: { destroyed?: boolean } | null } } | undefined)?.incoming;
  if (incoming && (incoming.aborted || incoming.errored || incoming.socket?.destroyed)) return true;
  return c.req.raw.signal.aborted;
}

function isPublic(path: string, auth: AuthConfig): boolean {
  if (path === "/health") return true;
  if (path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/")) return !auth.protectDocs;
  return false;
}

async function handle(c: Context, core: SandgateCore, operation: AnyOperation, principal: Principal): Promise<Response> {
  const req = c.req as unknown as { valid(target: string): Record<string, unknown> | undefined };
  const body = operation.body as { kind: "json" | "bytes" } | undefined;
  const input: Record<string, unknown> = {
    ...(operation.params ? req.valid("param") : {}),
    ...(operation.query ? req.valid("query") : {}),
    ...(body?.kind === "json" ? req.valid("json") : {}),
  };
  const ctx: OperationContext = { signal: c.req.raw.signal, origin: new URL(c.req.url).origin, principal };
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
          "content-type": response.contentType ?? getMimeType(name) ?? "application/octet-stream",
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

/** What rawBody needs of Node's IncomingMessage (duck-typed: this file also runs in the Worker). */
interface NodeBody {
  readableEnded: boolean;
  readableDidRead: boolean;
  on(event: string, listener: (arg: never) => void): unknown;
  off(event: string, listener: (arg: never) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** Bytes of request body a raw upload buffers ahead of the backend before pausing the socket. */
const RAW_BODY_HIGH_WATER = 1024 * 1024;

/**
 * A raw request body. On the Node host it is read straight from the IncomingMessage that
 * @hono/node-server passes as `c.env.incoming`: the generic path behind `c.req.raw.body` copies
 * every chunk and stacks two web streams, about half the CPU an upload costs the host.
 */
function rawBody(c: Context): ReadableStream<Uint8Array> {
  const incoming = (c.env as { incoming?: Partial<NodeBody> } | undefined)?.incoming;
  if (typeof incoming?.pause === "function" && incoming.readableEnded === false && incoming.readableDidRead === false) {
    const source = incoming as NodeBody;
    let detach = () => {};
    return new ReadableStream<Uint8Array>(
      {
        start(controller) {
          const onData = (chunk: Uint8Array) => {
            controller.enqueue(chunk);
            if ((controller.desiredSize ?? 0) <= 0) source.pause();
          };
          const onEnd = () => {
            detach();
            controller.close();
          };
          const onError = (err: unknown) => {
            detach();
            controller.error(err);
          };
          const onClose = () => onError(new Error("the request body ended early"));
          detach = () => {
            source.off("data", onData);
            source.off("end", onEnd);
            source.off("error", onError);
            source.off("close", onClose);
          };
          source.on("data", onData);
          source.on("end", onEnd);
          source.on("error", onError);
          source.on("close", onClose);
        },
        pull() {
          source.resume();
        },
        cancel() {
          // Left paused: the node server drains or closes what remains once the response is out.
          detach();
          source.pause();
        },
      },
      { highWaterMark: RAW_BODY_HIGH_WATER, size: (chunk) => chunk.byteLength },
    );
  }
  return c.req.raw.body ?? new ReadableStream({ start: (controller) => controller.close() });
}

function streamEvents(c: Context, events: AsyncIterable<{ type: string }>): Response {
  return streamSSE(c, async (stream) => {
    const heartbeat = setInterval(() => void stream.write(": keep-alive\n\n").catch(() => {}), HEARTBEAT_MS);
    try {
      for await (const event of events) {
        if (stream.aborted || stream.closed) break;
        // One write per event, framed here: JSON has no raw line breaks, so the data is one `data:` line
        // (writeSSE would split every event's text on line breaks, a regex pass over all output).
        await stream.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
    } catch (err) {
      const error = toSandgateError(err);
      await stream.writeSSE({ event: "error", data: JSON.stringify({ type: "error", code: error.code, message: error.message }) });
    } finally {
      clearInterval(heartbeat);
    }
  });
}

/**
 * What an error that ends a request answers: its status and the error envelope. Errors that are not
 * Sandgate's own become `internal` and go to the host's log. Shared by the REST app and the Node
 * host's port proxy (hosts/node/port-proxy.ts), so both answer alike.
 */
export function errorAnswer(err: unknown, onInternalError?: (err: unknown) => void): { status: number; envelope: ReturnType<SandgateError["toEnvelope"]> } {
  const error = fromHttpError(err) ?? toSandgateError(err);
  if (!(err instanceof SandgateError) && error.code === "internal") onInternalError?.(err);
  return { status: httpStatusOf[error.code], envelope: error.toEnvelope() };
}

function fromHttpError(err: unknown): SandgateError | undefined {
  if (!(err instanceof HTTPException)) return undefined;
  const code: ErrorCode =
    err.status === 413 ? "payload_too_large" : err.status === 415 ? "unsupported_media_type" : err.status === 401 ? "unauthorized" : "invalid_request";
  const message = err.status === 415 ? "this route takes application/json" : err.message || "invalid request";
  return new SandgateError(code, message);
}

const binary = z.string().openapi({ type: "string", format: "binary" });

function requestOf(operation: AnyOperation) {
  const body = operation.body as { kind: "json"; schema: z.ZodType } | { kind: "bytes"; description: string } | undefined;
  return {
    ...(operation.params ? { params: operation.params as z.ZodObject } : {}),
    ...(operation.query ? { query: operation.query as z.ZodObject } : {}),
    ...(body
      ? {
          body:
            body.kind === "json"
              ? { required: true, content: { "application/json": { schema: body.schema } } }
              : { required: true, description: body.description, content: { "application/octet-stream": { schema: binary } } },
        }
      : {}),
  };
}

function responsesOf(operation: AnyOperation): RouteConfig["responses"] {
  const response = operation.response;
  const success: RouteConfig["responses"] =
    response.kind === "json"
      ? { [response.status]: { description: "Success", content: { "application/json": { schema: response.schema } } } }
      : response.kind === "empty"
        ? { 204: { description: "Done; no content." } }
        : response.kind === "bytes"
          ? // Served with the Content-Type its extension gives (handle() above): octet-stream or any other.
            { 200: { description: response.description, content: { "application/octet-stream": { schema: binary }, "*/*": { schema: binary } } } }
          : { 200: { description: response.description, content: { "text/event-stream": { schema: response.schema } } } };

  // Any request can be refused for its headers (the Node host answers 431 past its limit).
  const codes = new Set<ErrorCode>(["invalid_request", "headers_too_large", "internal", ...operation.errors]);
  if (!operation.public) {
    codes.add("unauthorized");
    codes.add("forbidden"); // a scoped token outside its sandbox or scopes
  }
  if ((operation.body as { kind?: string } | undefined)?.kind === "json") {
    codes.add("payload_too_large");
    codes.add("unsupported_media_type");
  }
  return { ...success, ...errorResponses(codes) };
}
