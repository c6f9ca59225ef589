import type { z } from "@hono/zod-openapi";
import type { ErrorCode } from "../schemas/common.ts";
import { CreateTokenBody, type Scope, ScopedToken } from "../schemas/tokens.ts";
import { SandboxIdParams } from "../schemas/common.ts";
import { ExecBody, ExecEvent, ExecResult } from "../schemas/exec.ts";
import {
  DeleteFileQuery,
  FileContent,
  FileInfo,
  FileList,
  ListFilesQuery,
  MkdirBody,
  MoveFileBody,
  PathQuery,
  ReadFileJsonBody,
  WriteFileJsonBody,
} from "../schemas/files.ts";
import {
  CreateSandboxBody,
  HealthInfo,
  ListSandboxesQuery,
  SandboxInfo,
  SandboxList,
  UpdateSandboxBody,
} from "../schemas/sandboxes.ts";
import type { FileStream } from "./backend.ts";
import type { SandgateCore } from "./core.ts";

/**
 * The operation table: every operation of Sandgate, declared once. Surfaces are generated from it
 * (REST routes and the OpenAPI document now; RPC methods later), so adding an operation means adding
 * a row here, its schemas and its core method, and never touching a surface.
 */

type ObjectSchema = z.ZodType<Record<string, unknown>>;
export type BodySpec = { kind: "json"; schema: z.ZodType } | { kind: "bytes"; description: string };
export type ResponseSpec =
  | { kind: "json"; status: 200 | 201; schema: z.ZodType }
  | { kind: "empty" }
  | { kind: "bytes"; description: string }
  | { kind: "events"; schema: z.ZodType; description: string };

type Out<S> = S extends z.ZodType ? z.output<S> : unknown;
type BodyInput<B> = B extends { kind: "json"; schema: infer S } ? Out<S> : B extends { kind: "bytes" } ? { body: ReadableStream<Uint8Array> } : unknown;

/** What a handler receives: path params, query and body merged into one object, as RPC callers pass it. */
export type OperationInput<P, Q, B> = Out<P> & Out<Q> & BodyInput<B>;
export type OperationOutput<R> = R extends { kind: "json"; schema: infer S }
  ? Out<S>
  : R extends { kind: "empty" }
    ? void
    : R extends { kind: "bytes" }
      ? FileStream
      : R extends { kind: "events"; schema: infer S }
        ? AsyncIterable<Out<S>>
        : never;

export interface OperationContext {
  /** Aborted when the caller goes away; long operations stop and clean up. */
  signal: AbortSignal;
  /** The declared length of a raw body, when the transport knows it. */
  contentLength?: number;
}

export interface Operation<P = unknown, Q = unknown, B = unknown, R extends ResponseSpec = ResponseSpec> {
  operationId: string;
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI-style path, `{id}` for parameters. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Public operations need no token. */
  public?: boolean;
  /** The scope a scoped token needs for this operation (on its sandbox); none: the API token only. */
  scope?: Scope;
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /** The error codes this operation can answer with, besides the ones every operation has. */
  errors: ErrorCode[];
  run(core: SandgateCore, input: OperationInput<P, Q, B>, ctx: OperationContext): Promise<OperationOutput<R>> | OperationOutput<R>;
}

function op<P extends ObjectSchema | undefined, Q extends ObjectSchema | undefined, B extends BodySpec | undefined, R extends ResponseSpec>(
  def: Operation<P, Q, B, R>,
): Operation<P, Q, B, R> {
  return def;
}

const json = <S extends z.ZodType>(schema: S) => ({ kind: "json" as const, schema });
const ok = <S extends z.ZodType>(schema: S, status: 200 | 201 = 200) => ({ kind: "json" as const, status, schema });
const sandboxErrors: ErrorCode[] = ["not_found", "sandbox_unavailable"];
const fileErrors: ErrorCode[] = [...sandboxErrors, "forbidden"];

export const operations = {
  health: op({
    operationId: "health",
    method: "get",
    path: "/health",
    summary: "Liveness, version and backend",
    tags: ["service"],
    public: true,
    response: ok(HealthInfo),
    errors: [],
    run: (core) => core.health(),
  }),

  createSandbox: op({
    operationId: "createSandbox",
    method: "post",
    path: "/v1/sandboxes",
    summary: "Create a sandbox",
    description: "Creates an isolated sandbox with an empty /workspace. Creating an id that exists answers 409.",
    tags: ["sandboxes"],
    body: json(CreateSandboxBody),
    response: ok(SandboxInfo, 201),
    errors: ["conflict", "sandbox_unavailable"],
    run: (core, input) => core.createSandbox(input),
  }),

  listSandboxes: op({
    operationId: "listSandboxes",
    method: "get",
    path: "/v1/sandboxes",
    summary: "List sandboxes, optionally by label",
    tags: ["sandboxes"],
    query: ListSandboxesQuery,
    response: ok(SandboxList),
    errors: ["sandbox_unavailable"],
    run: (core, input) => core.listSandboxes(input),
  }),

  getSandbox: op({
    operationId: "getSandbox",
    scope: "sandbox:read",
    method: "get",
    path: "/v1/sandboxes/{id}",
    summary: "Get a sandbox",
    tags: ["sandboxes"],
    params: SandboxIdParams,
    response: ok(SandboxInfo),
    errors: ["not_found", "sandbox_unavailable"],
    run: (core, input) => core.getSandbox(input),
  }),

  updateSandbox: op({
    operationId: "updateSandbox",
    method: "patch",
    path: "/v1/sandboxes/{id}",
    summary: "Extend a sandbox's TTL or replace its labels",
    tags: ["sandboxes"],
    params: SandboxIdParams,
    body: json(UpdateSandboxBody),
    response: ok(SandboxInfo),
    errors: ["not_found", "sandbox_unavailable"],
    run: (core, input) => core.updateSandbox(input),
  }),

  createToken: op({
    operationId: "createToken",
    method: "post",
    path: "/v1/tokens",
    summary: "Mint a token scoped to one sandbox",
    description:
      "Answers a token that works only on `sandboxId`, for the given scopes, until it expires: hand it to code you trust less than the API token's holder. Needs the API token itself.",
    tags: ["sandboxes"],
    body: json(CreateTokenBody),
    response: ok(ScopedToken, 201),
    errors: ["not_found", "forbidden"],
    run: (core, input) => core.createToken(input),
  }),

  deleteSandbox: op({
    operationId: "deleteSandbox",
    method: "delete",
    path: "/v1/sandboxes/{id}",
    summary: "Delete a sandbox, its processes and its files",
    tags: ["sandboxes"],
    params: SandboxIdParams,
    response: { kind: "empty" },
    errors: ["not_found", "conflict", "sandbox_unavailable"],
    run: (core, input) => core.deleteSandbox(input),
  }),

  exec: op({
    operationId: "exec",
    scope: "exec",
    method: "post",
    path: "/v1/sandboxes/{id}/exec",
    summary: "Run a command and wait for it",
    description: "Runs `command` with /bin/sh or `argv` directly, and answers with its exit code and output once it ends. A timeout kills the whole process tree.",
    tags: ["exec"],
    params: SandboxIdParams,
    body: json(ExecBody),
    response: ok(ExecResult),
    errors: sandboxErrors,
    run: (core, input, ctx) => core.exec(input, ctx.signal),
  }),

  execStream: op({
    operationId: "execStream",
    scope: "exec",
    method: "post",
    path: "/v1/sandboxes/{id}/exec/stream",
    summary: "Run a command and stream its output",
    description:
      "Server-sent events `stdout`, `stderr`, then one `exit` or `error`; a comment line every 15 s keeps idle streams open. Closing the stream kills the command.",
    tags: ["exec"],
    params: SandboxIdParams,
    body: json(ExecBody),
    response: { kind: "events", schema: ExecEvent, description: "A stream of ExecEvent objects, each as the `data` of an SSE event named by its `type`." },
    errors: sandboxErrors,
    run: (core, input, ctx) => core.execStream(input, ctx.signal),
  }),

  readFile: op({
    operationId: "readFile",
    scope: "files:read",
    method: "get",
    path: "/v1/sandboxes/{id}/files/content",
    summary: "Download a file's bytes",
    tags: ["files"],
    params: SandboxIdParams,
    query: PathQuery,
    response: { kind: "bytes", description: "The file's bytes, streamed, with the Content-Type its extension gives (application/octet-stream when none fits)." },
    errors: fileErrors,
    run: (core, input) => core.readFile(input),
  }),

  writeFile: op({
    operationId: "writeFile",
    scope: "files:write",
    method: "put",
    path: "/v1/sandboxes/{id}/files/content",
    summary: "Upload a file's bytes",
    description: "Streams the body to a temporary file and renames it into place, so readers never see half a file. Missing parent directories are created.",
    tags: ["files"],
    params: SandboxIdParams,
    query: PathQuery,
    body: { kind: "bytes", description: "The file's bytes." },
    response: ok(FileInfo),
    errors: [...fileErrors, "payload_too_large"],
    run: (core, input, ctx) => core.writeFile(input, ctx.contentLength),
  }),

  readFileJson: op({
    operationId: "readFileJson",
    scope: "files:read",
    method: "post",
    path: "/v1/sandboxes/{id}/files/read",
    summary: "Read a file as JSON (text or base64)",
    tags: ["files"],
    params: SandboxIdParams,
    body: json(ReadFileJsonBody),
    response: ok(FileContent),
    errors: [...fileErrors, "payload_too_large"],
    run: (core, input) => core.readFileJson(input),
  }),

  writeFileJson: op({
    operationId: "writeFileJson",
    scope: "files:write",
    method: "post",
    path: "/v1/sandboxes/{id}/files/write",
    summary: "Write a file from JSON (text or base64)",
    tags: ["files"],
    params: SandboxIdParams,
    body: json(WriteFileJsonBody),
    response: ok(FileInfo),
    errors: [...fileErrors, "payload_too_large"],
    run: (core, input) => core.writeFileJson(input),
  }),

  listFiles: op({
    operationId: "listFiles",
    scope: "files:read",
    method: "get",
    path: "/v1/sandboxes/{id}/files",
    summary: "List a directory",
    tags: ["files"],
    params: SandboxIdParams,
    query: ListFilesQuery,
    response: ok(FileList),
    errors: fileErrors,
    run: (core, input) => core.listFiles(input),
  }),

  statFile: op({
    operationId: "statFile",
    scope: "files:read",
    method: "get",
    path: "/v1/sandboxes/{id}/files/stat",
    summary: "Describe one file or directory",
    tags: ["files"],
    params: SandboxIdParams,
    query: PathQuery,
    response: ok(FileInfo),
    errors: fileErrors,
    run: (core, input) => core.statFile(input),
  }),

  mkdir: op({
    operationId: "mkdir",
    scope: "files:write",
    method: "post",
    path: "/v1/sandboxes/{id}/files/mkdir",
    summary: "Create a directory",
    tags: ["files"],
    params: SandboxIdParams,
    body: json(MkdirBody),
    response: ok(FileInfo, 201),
    errors: [...fileErrors, "conflict"],
    run: (core, input) => core.mkdir(input),
  }),

  moveFile: op({
    operationId: "moveFile",
    scope: "files:write",
    method: "post",
    path: "/v1/sandboxes/{id}/files/move",
    summary: "Move or rename a file or directory",
    tags: ["files"],
    params: SandboxIdParams,
    body: json(MoveFileBody),
    response: ok(FileInfo),
    errors: [...fileErrors, "conflict"],
    run: (core, input) => core.moveFile(input),
  }),

  deleteFile: op({
    operationId: "deleteFile",
    scope: "files:write",
    method: "delete",
    path: "/v1/sandboxes/{id}/files",
    summary: "Delete a file or directory",
    tags: ["files"],
    params: SandboxIdParams,
    query: DeleteFileQuery,
    response: { kind: "empty" },
    errors: [...fileErrors, "conflict"],
    run: (core, input) => core.deleteFile(input),
  }),
};

export type Operations = typeof operations;
export type OperationId = keyof Operations;
