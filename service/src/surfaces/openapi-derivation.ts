/**
 * The OpenAPI side of the REST surface: each operation's route (request, responses, security) and the
 * document's top level (info, tags, security schemes), all derived from the operation table.
 */
import { type OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import { VERSION } from "../core/core.ts";
import { type AnyOperation, type OperationTag, operationTags, operations } from "../core/operations.ts";
import type { ErrorCode } from "../schemas/common.ts";
import { compatTag } from "./compat.ts";
import { errorResponses } from "./error-examples.ts";
import { describeEventStreams } from "./event-streams.ts";
import { describePortProxy } from "./port-proxy.ts";

/** The document's tags: those the operation table uses, in the table's order of groups, then compat's. */
function documentTags(): { name: string; description: string }[] {
  const used = new Set<OperationTag>((Object.values(operations) as AnyOperation[]).flatMap((operation) => operation.tags));
  const tags = (Object.keys(operationTags) as OperationTag[]).filter((name) => used.has(name));
  return [...tags.map((name) => ({ name, description: operationTags[name] })), compatTag];
}

export const openApiInfo = {
  openapi: "3.1.0",
  info: {
    title: "Sandgate",
    version: VERSION,
    description:
      "Isolated Linux sandboxes that run commands, hold files and serve ports. Every error is `{\"error\": {\"code\", \"message\", \"details\"?}}`.",
  },
  tags: documentTags(),
};

/** The two ways to present a token; every non-public operation takes either. */
export function registerSecuritySchemes(app: OpenAPIHono): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "tokenHeader", { type: "apiKey", in: "header", name: "x-sandgate-token" });
}

/** The route an operation is served and documented as, with the middleware that runs before validation. */
export function routeOf(operation: AnyOperation, middleware: RouteConfig["middleware"]): RouteConfig {
  return {
    method: operation.method,
    path: operation.path,
    operationId: operation.operationId,
    summary: operation.summary,
    description: operation.description,
    tags: operation.tags,
    security: operation.public ? [] : [{ bearerAuth: [] }, { tokenHeader: [] }],
    middleware,
    request: requestOf(operation),
    responses: responsesOf(operation),
  };
}

export function openApiDocument(app: OpenAPIHono) {
  const document = app.getOpenAPI31Document(openApiInfo);
  describeEventStreams(document);
  describePortProxy(document);
  return document;
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
          ? response.contentTypes
            ? // The media types the caller may ask for in Accept (operation-handler.ts serves the one chosen).
              { 200: { description: response.description, content: Object.fromEntries(response.contentTypes.map((type) => [type, { schema: binary }])) } }
            : // Served with the Content-Type its extension gives (operation-handler.ts): octet-stream or any other.
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
