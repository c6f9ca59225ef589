/**
 * The RPC surface, derived from the operation table: one method per operation, with the same name
 * as its operationId, taking one object (path parameters, query and body merged) validated with the
 * same zod schemas as REST. The same methods serve Workers RPC (SandgateService, a WorkerEntrypoint)
 * and Cap'n Web (`/rpc`), and `sandbox(id)` returns a handle whose methods are that sandbox's
 * operations without the id.
 */
import { challengeHeaders } from "./auth-challenge.ts";
import { RpcTarget } from "capnweb";
import type { z } from "@hono/zod-openapi";
import type { SandgateCore } from "../core/core.ts";
import { SandgateError, httpStatusOf, invalidInput, toSandgateError } from "../core/errors.ts";
import { splitTextStream } from "../core/text-stream.ts";
import { type Principal, authorize, ensureCurrent } from "../core/auth.ts";

/** Workers RPC callers hold a service binding, which is as good as the API token. */
const ADMIN: Principal = { kind: "admin" };

/**
 * Who calls over RPC and how they reached the service: the same context a REST request gives an
 * operation (a Cap'n Web session knows its origin; a service binding has none).
 */
export interface RpcCaller {
  principal: Principal;
  /** This service's origin as the caller reached it (`https://host`): port links get a full `url`. */
  origin?: string;
}
const SERVICE_BINDING: RpcCaller = { principal: ADMIN };
import { type Operation, type OperationContext, type Operations, type ResponseSpec, operations } from "../core/operations.ts";
import type { FileStream } from "../core/backend.ts";

// ---- Types: what a caller of the RPC surface sees, computed from the table -----------------------

type In<S> = S extends z.ZodType ? z.input<S> : unknown;
/** Raw bodies may be given whole or as a stream. */
export type BytesInput = ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | string;
type BodyIn<B> = B extends { kind: "json"; schema: infer S } ? In<S> : B extends { kind: "bytes" } ? { body: BytesInput } : unknown;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

type OpOf<K extends keyof Operations> = Operations[K];
type ParamsOf<O> = O extends Operation<infer P, unknown, unknown, ResponseSpec> ? P : never;
type QueryOf<O> = O extends Operation<unknown, infer Q, unknown, ResponseSpec> ? Q : never;
type BodyOf<O> = O extends Operation<unknown, unknown, infer B, ResponseSpec> ? B : never;

/** The object an RPC method takes: what REST spreads over path, query and body. */
export type RpcInput<K extends keyof Operations> = Simplify<In<ParamsOf<OpOf<K>>> & In<QueryOf<OpOf<K>>> & BodyIn<BodyOf<OpOf<K>>>>;

/** What an RPC method returns. Event streams travel as NDJSON bytes (only byte streams cross Workers RPC). */
export type RpcOutput<K extends keyof Operations> = OpOf<K>["response"] extends infer R
  ? R extends { kind: "json"; schema: infer S }
    ? S extends z.ZodType
      ? z.output<S>
      : never
    : R extends { kind: "empty" }
      ? void
      : R extends { kind: "bytes" }
        ? FileStream
        : R extends { kind: "events" }
          ? ReadableStream<Uint8Array>
          : never
  : never;

export type SandgateMethods = { [K in keyof Operations]: {} extends RpcInput<K> ? (input?: RpcInput<K>) => Promise<RpcOutput<K>> : (input: RpcInput<K>) => Promise<RpcOutput<K>> };

/** Operations that act on one sandbox: their input has the sandbox `id`. */
type SandboxScoped = { [K in keyof Operations]: ParamsOf<OpOf<K>> extends z.ZodType<{ id: string }> ? K : never }[keyof Operations];
export type SandboxMethods = {
  [K in SandboxScoped]: {} extends Omit<RpcInput<K>, "id">
    ? (input?: Simplify<Omit<RpcInput<K>, "id">>) => Promise<RpcOutput<K>>
    : (input: Simplify<Omit<RpcInput<K>, "id">>) => Promise<RpcOutput<K>>;
};

/** The public RPC interface of Sandgate, on Workers RPC and Cap'n Web alike. */
export interface SandgateRpc extends SandgateMethods {
  /** A handle on one sandbox; calls on it can be pipelined: `api.sandbox("x").exec({command})`. */
  sandbox(id: string): SandboxHandle;
}

// ---- Runtime: one function per operation, installed on classes --------------------------------

type AnyOperation = Operation<unknown, unknown, unknown, ResponseSpec>;
type Run = (core: SandgateCore, input: Record<string, unknown>, ctx: OperationContext) => Promise<unknown> | unknown;
type ObjectSchema = z.ZodObject;

/** Splits a merged input into path/query/body parts and validates each with its own schema. */
function parseInput(operation: AnyOperation, raw: unknown): Record<string, unknown> {
  if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    throw new SandgateError("invalid_request", `${operation.operationId} takes one object argument`);
  }
  const rest: Record<string, unknown> = { ...(raw as Record<string, unknown> | undefined) };
  const out: Record<string, unknown> = {};
  for (const [part, schema] of [
    ["path", operation.params],
    ["query", operation.query],
  ] as const) {
    if (!schema) continue;
    const picked: Record<string, unknown> = {};
    for (const key of Object.keys((schema as ObjectSchema).shape)) {
      if (key in rest) picked[key] = rest[key];
      delete rest[key];
    }
    const parsed = (schema as ObjectSchema).safeParse(picked);
    if (!parsed.success) throw invalidInput(part === "path" ? "parameters" : "options", parsed.error.issues);
    Object.assign(out, parsed.data);
  }
  const body = operation.body as { kind: "json"; schema: z.ZodType } | { kind: "bytes" } | undefined;
  if (body?.kind === "json") {
    const parsed = body.schema.safeParse(rest);
    if (!parsed.success) throw invalidInput("body", parsed.error.issues);
    Object.assign(out, parsed.data);
  } else if (body?.kind === "bytes") {
    out.body = toByteStream(rest.body as BytesInput | undefined);
  } else if (Object.keys(rest).length > 0) {
    throw new SandgateError("invalid_request", `${operation.operationId} does not take ${Object.keys(rest).join(", ")}`);
  }
  return out;
}

function toByteStream(body: BytesInput | undefined): ReadableStream<Uint8Array> {
  if (body instanceof ReadableStream) return body;
  let bytes: Uint8Array;
  if (typeof body === "string") bytes = new TextEncoder().encode(body);
  else if (body instanceof Uint8Array) bytes = body;
  else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
  else throw new SandgateError("invalid_request", "body must be a ReadableStream, Uint8Array, ArrayBuffer or string");
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** Async events as newline-delimited JSON bytes; cancelling the stream stops the operation. */
function eventStream(events: AsyncIterable<unknown>, abort: AbortController): ReadableStream<Uint8Array> {
  const iterator = events[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
      } catch (err) {
        const error = toSandgateError(err);
        controller.enqueue(encoder.encode(`${JSON.stringify({ type: "error", code: error.code, message: error.message })}\n`));
        controller.close();
      }
    },
    async cancel() {
      abort.abort();
      await iterator.return?.();
    },
  });
}

/** Runs one operation for an RPC caller: validate, call core, shape the result, map errors. */
async function invoke(core: SandgateCore, operation: AnyOperation, raw: unknown, { principal, origin }: RpcCaller = SERVICE_BINDING): Promise<unknown> {
  try {
    // A session outlives the request that authenticated it: its token is checked again on every call.
    await ensureCurrent(principal, (id) => core.sandboxInstance(id));
    const input = parseInput(operation, raw);
    authorize(principal, operation.scope, typeof input.id === "string" ? input.id : undefined);
    const abort = new AbortController();
    const result = await (operation.run as Run)(core, input, { signal: abort.signal, principal, ...(origin ? { origin } : {}) });
    if (operation.response.kind === "events") return eventStream(result as AsyncIterable<unknown>, abort);
    if (operation.response.kind === "empty") return undefined;
    return result;
  } catch (err) {
    // Only the code, message and details cross the wire; internal errors say nothing more there.
    const error = toSandgateError(err);
    if (error !== err) console.error(`sandgate: ${operation.operationId} failed:`, err);
    throw error;
  }
}

const tableEntries = Object.entries(operations) as [keyof Operations, AnyOperation][];
const isSandboxScoped = (op: AnyOperation) => op.params !== undefined && "id" in (op.params as ObjectSchema).shape;

/**
 * Puts one method per operation on `prototype`. `coreOf` finds the core from the instance, so the
 * same methods serve a WorkerEntrypoint (core from `env`) and a Cap'n Web target (core given).
 */
export function installRpcMethods(prototype: object, coreOf: (self: never) => SandgateCore, callerOf: (self: never) => RpcCaller = () => SERVICE_BINDING): void {
  for (const [name, operation] of tableEntries) {
    Object.defineProperty(prototype, name, {
      value: function (this: never, input?: unknown) {
        return invoke(coreOf(this), operation, input, callerOf(this));
      },
      writable: true,
      configurable: true,
    });
  }
}

/** One sandbox's operations, with its id bound. Returned by `sandbox(id)`. */
export class SandboxHandle extends RpcTarget {
  constructor(
    private readonly core: SandgateCore,
    readonly id: string,
    private readonly caller: RpcCaller = SERVICE_BINDING,
  ) {
    super();
  }
}
export interface SandboxHandle extends SandboxMethods {}

for (const [name, operation] of tableEntries) {
  if (!isSandboxScoped(operation)) continue;
  Object.defineProperty(SandboxHandle.prototype, name, {
    value: function (this: SandboxHandle, input?: Record<string, unknown>) {
      const self = this as unknown as { core: SandgateCore; caller: RpcCaller };
      return invoke(self.core, operation, { ...input, id: this.id }, self.caller);
    },
    writable: true,
    configurable: true,
  });
}

/** The Cap'n Web main object: every operation, and `sandbox(id)`. */
export class SandgateApi extends RpcTarget {
  constructor(
    private readonly core: SandgateCore,
    /** Who the session acts as (its calls are checked like REST requests), and its origin. */
    private readonly caller: RpcCaller = SERVICE_BINDING,
  ) {
    super();
  }

  sandbox(id: string): SandboxHandle {
    return new SandboxHandle(this.core, id, this.caller);
  }
}
export interface SandgateApi extends SandgateMethods {}
type ApiInternals = { core: SandgateCore; caller: RpcCaller };
installRpcMethods(
  SandgateApi.prototype,
  (self: SandgateApi) => (self as unknown as ApiInternals).core,
  (self: SandgateApi) => (self as unknown as ApiInternals).caller,
);

/** The names of every RPC method, for parity checks. */
export const rpcMethodNames = tableEntries.map(([name]) => name);
export const sandboxMethodNames = tableEntries.filter(([, op]) => isSandboxScoped(op)).map(([name]) => name);

/** Reads an NDJSON event stream (what `execStream` returns over RPC) as objects. */
export async function* readNdjson<T = unknown>(stream: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  for await (const line of splitTextStream(stream, "\n")) if (line.trim()) yield JSON.parse(line) as T;
}

// ---- /rpc over HTTP: what reaches Cap'n Web ---------------------------------------------------

/** The largest HTTP batch /rpc reads (the Node host's WebSocket messages have the same limit). */
export const MAX_RPC_BATCH_BYTES = 64 * 1024 * 1024;

/** The messages a client may send in a batch (Cap'n Web's protocol). */
const RPC_MESSAGES = new Set(["push", "stream", "pipe", "pull", "resolve", "reject", "release", "abort"]);

/**
 * Answers a request at /rpc with `transport` (the host's Cap'n Web HTTP batch and, on Workers,
 * WebSocket handler) so that nothing a client sends ends in a 500: anything but a POST or an upgrade,
 * a batch over MAX_RPC_BATCH_BYTES, lines that are not Cap'n Web messages, and batches Cap'n Web
 * gives up on (it throws when a client aborts the session or refers to what does not exist) are
 * answered in the error envelope. Errors of the calls themselves travel inside the batch, as always.
 */
export async function answerRpc(request: Request, api: SandgateApi, transport: (request: Request, api: SandgateApi) => Promise<Response>): Promise<Response> {
  // Cap'n Web's own test for an upgrade; the Node host takes real upgrades before they get here.
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") return transport(request, api);
  try {
    if (request.method !== "POST") throw new SandgateError("invalid_request", "/rpc takes a POST (HTTP batch) or a WebSocket upgrade");
    const text = await readBatch(request);
    const lines = text === "" ? [] : text.split("\n");
    lines.forEach(checkMessage);
    const response = await transport(new Request(request.url, { method: "POST", body: text }), api).catch(() => {
      throw new SandgateError("invalid_request", "Cap'n Web refused the batch (a malformed message, an abort, or a reference to nothing)");
    });
    return response;
  } catch (err) {
    const error = toSandgateError(err);
    const status = httpStatusOf[error.code];
    return Response.json(error.toEnvelope(), { status, headers: challengeHeaders(status) });
  }
}

/** The body as UTF-8 text, refused past MAX_RPC_BATCH_BYTES by its declared length or as it streams. */
async function readBatch(request: Request): Promise<string> {
  const tooLarge = () => new SandgateError("payload_too_large", `Cap'n Web batches are limited to ${MAX_RPC_BATCH_BYTES} bytes`, { limitBytes: MAX_RPC_BATCH_BYTES });
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_RPC_BATCH_BYTES) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let text = "";
  let size = 0;
  const decode = (chunk?: Uint8Array) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new SandgateError("invalid_request", "the batch is not valid UTF-8");
    }
  };
  try {
    for await (const chunk of request.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_RPC_BATCH_BYTES) throw tooLarge();
      text += decode(chunk);
    }
    return text + decode();
  } catch (err) {
    await request.body?.cancel().catch(() => {});
    if (err instanceof SandgateError) throw err;
    // The body failed as it arrived (the client went away): nobody reads this answer.
    throw new SandgateError("invalid_request", "the request body ended early");
  }
}

/** Throws `invalid_request` unless line `index` is a JSON array naming a Cap'n Web message. */
function checkMessage(line: string, index: number): void {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    throw new SandgateError("invalid_request", `line ${index + 1} of the batch is not JSON`);
  }
  if (!Array.isArray(message) || typeof message[0] !== "string" || !RPC_MESSAGES.has(message[0])) {
    throw new SandgateError("invalid_request", `line ${index + 1} of the batch is not a Cap'n Web message`);
  }
}
