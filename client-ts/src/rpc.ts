// Entry point `@sandgate/client/rpc`.
/**
 * Cap'n Web sessions with Sandgate's `/rpc`: the same API object the service's Workers RPC entrypoint
 * exposes, typed here from the generated OpenAPI types (`schema.d.ts`), so the client needs nothing
 * but the committed contract. One method per REST operation, taking path parameters, query and JSON
 * body as one object; `sandbox(id)` returns a handle with that sandbox's operations, and calls on it
 * pipeline: `api.sandbox("x").exec({ command: "echo hi" })` is one round trip.
 */
import { newHttpBatchRpcSession, newWebSocketRpcSession } from "capnweb";
import { SandgateError, codeOfStatus, type ErrorCode } from "./errors.js";
import type { SandgateRpc } from "./rpc-types.js";

export type { RpcBytes, RpcInput, RpcOutput, SandboxRpcMethods, SandgateRpc, SandgateRpcMethods } from "./rpc-types.js";

export interface ConnectRpcOptions {
  token?: string;
  /**
   * `websocket` (default) keeps one session open; `batch` sends everything awaited together in one
   * HTTP request (await a batch's promises with Promise.all). WebSocket auth sends the token in the
   * upgrade's headers, which Node 22+ and Workers support; browsers cannot, so use `batch` there.
   */
  transport?: "websocket" | "batch";
}

/**
 * A session: the RPC interface, disposable (`using`, or call `[Symbol.dispose]()` to close it). Typed
 * here rather than with capnweb's `RpcStub`, so a user's `tsc --strict` never reads capnweb's
 * declaration files (they fail without `skipLibCheck` on TypeScript 5.9). Every failure rejects with
 * SandgateError: the service's errors with their code and status, a refused session with 401
 * `unauthorized`, a host that cannot be reached with `unreachable` (status 0).
 */
export type SandgateRpcSession = SandgateRpc & Disposable;

/** Opens a typed Cap'n Web session with a Sandgate host (`url` is its base URL or its /rpc URL). */
export function connectRpc(url: string, options: ConnectRpcOptions = {}): SandgateRpcSession {
  const endpoint = new URL(url);
  if (!endpoint.pathname.endsWith("/rpc")) endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, "")}/rpc`;
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  if (options.transport === "batch") {
    return withSandgateErrors(newHttpBatchRpcSession<SandgateRpc>(new Request(endpoint, { headers })), () => undefined);
  }
  const probeUrl = new URL(endpoint);
  endpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  // Node's WebSocket (undici) takes headers in its second argument; without a token any runtime works.
  const socket = options.token ? new WebSocket(endpoint, { headers } as unknown as string[]) : new WebSocket(endpoint);
  // A refused upgrade only says "connection failed": ask over plain HTTP why (401 and its envelope, or no host).
  let opened = false;
  let refusal: Promise<SandgateError> | undefined;
  socket.addEventListener("open", () => (opened = true));
  socket.addEventListener("error", () => {
    if (!opened) refusal ??= whyRefused(probeUrl, headers);
  });
  return withSandgateErrors(newWebSocketRpcSession<SandgateRpc>(socket), () => refusal);
}

async function whyRefused(url: URL, headers: Record<string, string>): Promise<SandgateError> {
  let response: Response;
  try {
    response = await fetch(url, { headers });
  } catch (err) {
    return SandgateError.fromFailure(err);
  }
  if (response.status === 401 || response.status === 403) return SandgateError.fromResponse(response);
  await response.body?.cancel();
  return new SandgateError("unreachable", `the WebSocket upgrade to ${url.pathname} was refused (HTTP ${response.status} to a plain request)`, 0);
}

const statusOfCode = new Map<string, number>(Object.entries(codeOfStatus).map(([status, code]) => [code, Number(status)]));

/** What a session call rejected with, as SandgateError. */
async function toSandgateError(error: unknown, refusal: () => Promise<SandgateError> | undefined): Promise<SandgateError> {
  if (error instanceof SandgateError) return error;
  const refused = refusal();
  if (refused) return refused;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && statusOfCode.has(code)) {
    const details = (error as { details?: unknown }).details;
    const record = typeof details === "object" && details !== null ? (details as Record<string, unknown>) : undefined;
    return new SandgateError(code as ErrorCode, message, statusOfCode.get(code)!, record, { cause: error });
  }
  // An HTTP batch the host answered with an error status ("RPC request failed: 401 Unauthorized").
  const status = /RPC request failed: (\d{3})/.exec(message);
  if (status) {
    const n = Number(status[1]);
    return new SandgateError(codeOfStatus[n] ?? "internal", message, n, undefined, { cause: error });
  }
  return SandgateError.fromFailure(error);
}

/**
 * Wraps a capnweb stub so that every promise it hands out (calls, pipelined calls, property reads)
 * rejects with SandgateError. Everything else goes to the stub untouched.
 */
function withSandgateErrors<T>(stub: unknown, refusal: () => Promise<SandgateError> | undefined): T {
  const wrap = (target: unknown): unknown => {
    if (typeof target !== "function" && (typeof target !== "object" || target === null)) return target;
    return new Proxy(target as object, {
      get(object, prop) {
        const value: unknown = Reflect.get(object, prop);
        if (prop === "then" && typeof value === "function") {
          return (onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) =>
            (value as Promise<unknown>["then"]).call(
              object,
              // A call may resolve to another stub (`await api.sandbox(id)`): its calls get the same errors.
              (resolved: unknown) => (onFulfilled ? onFulfilled(typeof resolved === "function" ? wrap(resolved) : resolved) : resolved),
              async (err: unknown) => {
                const mapped = await toSandgateError(err, refusal);
                if (onRejected) return onRejected(mapped);
                throw mapped;
              },
            );
        }
        if (prop === "catch" || prop === "finally") {
          const self = wrap(object) as Promise<unknown>;
          return prop === "catch" ? (f: (e: unknown) => unknown) => self.then(undefined, f) : (f: () => void) => self.then((v) => (f(), v), (e) => {
            f();
            throw e;
          });
        }
        if (typeof prop === "symbol") return typeof value === "function" ? value.bind(object) : value;
        return wrap(value);
      },
      apply(fn, thisArg, args) {
        return wrap(Reflect.apply(fn as (...a: unknown[]) => unknown, thisArg, args));
      },
    });
  };
  return wrap(stub) as T;
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
