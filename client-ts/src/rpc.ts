// Entry point `@sandgate/client/rpc`.
/**
 * Cap'n Web sessions with Sandgate's `/rpc`: the same API object the service's Workers RPC entrypoint
 * exposes, typed here from the generated OpenAPI types (`schema.d.ts`), so the client needs nothing
 * but the committed contract. One method per REST operation, taking path parameters, query and JSON
 * body as one object; `sandbox(id)` returns a handle with that sandbox's operations, and calls on it
 * pipeline: `api.sandbox("x").exec({ command: "echo hi" })` is one round trip.
 */
import { type RpcStub, newHttpBatchRpcSession, newWebSocketRpcSession } from "capnweb";
import type { operations } from "./schema.js";

type Ops = operations;
/** Operations of the REST contract proper (the compat profile has no RPC methods). */
type RpcOperationId = Exclude<keyof Ops, `compat${string}`>;

type Part<O, K extends string> = O extends { parameters: infer Ps }
  ? K extends keyof Ps
    ? [NonNullable<Ps[K]>] extends [never]
      ? {}
      : NonNullable<Ps[K]>
    : {}
  : {};
type JsonBody<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? Partial<B>
    : {};
type RawBody<O> = O extends { requestBody: { content: { "application/octet-stream": unknown } } } ? { body: RpcBytes } : {};
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Raw file bodies may be given whole or streamed. */
export type RpcBytes = ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | string;

/** The one object an RPC method takes. */
export type RpcInput<K extends RpcOperationId> = Simplify<Part<Ops[K], "path"> & Part<Ops[K], "query"> & JsonBody<Ops[K]> & RawBody<Ops[K]>>;

/** What an RPC method answers: JSON as in REST; bytes as `{body, size}`; event streams as NDJSON bytes. */
export type RpcOutput<K extends RpcOperationId> = Ops[K] extends { responses: { 200: { content: { "application/json": infer R } } } }
  ? R
  : Ops[K] extends { responses: { 201: { content: { "application/json": infer R } } } }
    ? R
    : Ops[K] extends { responses: { 200: { content: { "application/octet-stream": unknown } } } }
      ? { body: ReadableStream<Uint8Array>; size: number }
      : Ops[K] extends { responses: { 200: { content: { "text/event-stream": unknown } } } }
        ? ReadableStream<Uint8Array>
        : void;

type Method<I, O> = {} extends I ? (input?: I) => Promise<O> : (input: I) => Promise<O>;

export type SandgateRpcMethods = { [K in RpcOperationId]: Method<RpcInput<K>, RpcOutput<K>> };

type ScopedId = { [K in RpcOperationId]: RpcInput<K> extends { id: string } ? K : never }[RpcOperationId];
export type SandboxRpcMethods = { [K in ScopedId]: Method<Simplify<Omit<RpcInput<K>, "id">>, RpcOutput<K>> };

/** The service's RPC interface, as seen by a Cap'n Web client. */
export interface SandgateRpc extends SandgateRpcMethods {
  sandbox(id: string): SandboxRpcMethods;
}

export interface ConnectRpcOptions {
  token?: string;
  /**
   * `websocket` (default) keeps one session open; `batch` sends everything awaited together in one
   * HTTP request (await a batch's promises with Promise.all). WebSocket auth sends the token in the
   * upgrade's headers, which Node 22+ and Workers support; browsers cannot, so use `batch` there.
   */
  transport?: "websocket" | "batch";
}

export type SandgateRpcSession = RpcStub<SandgateRpc>;

/** Opens a typed Cap'n Web session with a Sandgate host (`url` is its base URL or its /rpc URL). */
export function connectRpc(url: string, options: ConnectRpcOptions = {}): SandgateRpcSession {
  const endpoint = new URL(url);
  if (!endpoint.pathname.endsWith("/rpc")) endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, "")}/rpc`;
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  if (options.transport === "batch") {
    return newHttpBatchRpcSession<SandgateRpc>(new Request(endpoint, { headers })) as SandgateRpcSession;
  }
  endpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  // Node's WebSocket (undici) takes headers in its second argument; without a token any runtime works.
  const socket = options.token ? new WebSocket(endpoint, { headers } as unknown as string[]) : new WebSocket(endpoint);
  return newWebSocketRpcSession<SandgateRpc>(socket) as SandgateRpcSession;
}

/** Reads the NDJSON bytes an RPC `execStream` answers as event objects. */
export async function* readNdjson<T = unknown>(stream: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) yield JSON.parse(line) as T;
      }
    }
    if (buffer.trim()) yield JSON.parse(buffer) as T;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
