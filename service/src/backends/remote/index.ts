import type {
  Backend,
  ExecSpec,
  FileStream,
  ProcessSpec,
  SandboxPatch,
  SandboxQuery,
  SandboxRecord,
  ProcessLogSlice,
  WaitForLogSpec,
  WaitForPortSpec,
} from "../../core/backend.ts";
import { encodeCursor } from "../../core/listing.ts";
import { SandgateError, httpStatusOf } from "../../core/errors.ts";
import { routeOf } from "../../core/routes.ts";
import type { WorkspacePath } from "../../core/paths.ts";
import type { ErrorCode } from "../../schemas/common.ts";
import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import type { FileInfo } from "../../schemas/files.ts";
import type { ProcessInfo, ProcessLogEvent, ProcessLogs, Signal, WaitResult } from "../../schemas/processes.ts";
import type { SandboxInfo } from "../../schemas/sandboxes.ts";
import { capOutput } from "../output.ts";
import { parseServerSentEvents } from "../sse.ts";
import { RemoteSnapshots } from "./snapshots.ts";

export interface RemoteBackendOptions {
  /** Base URL of another Sandgate host, e.g. http://127.0.0.1:8787. */
  url: string;
  token?: string;
  fetch?: typeof fetch;
}

/**
 * Forwards every operation to another Sandgate host over its REST API, streaming bodies both ways.
 * It is how a Worker fronts self-hosted machines, and how `npm run dev` works without Docker.
 */
export class RemoteBackend implements Backend {
  readonly name = "remote";
  private readonly base: string;
  private readonly fetch: typeof fetch;
  /** The remote host keeps the snapshots; this side forwards (./snapshots.ts). */
  readonly snapshots: RemoteSnapshots;

  constructor(private readonly options: RemoteBackendOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.snapshots = new RemoteSnapshots((route, init) => this.request(route, init));
  }

  async createSandbox(record: SandboxRecord): Promise<SandboxInfo> {
    const body = { id: record.id, ttlSeconds: secondsUntil(record.expiresAt), env: record.env, labels: record.labels, ...(record.network ? { network: record.network } : {}) };
    return this.json(routeOf("createSandbox"), { body });
  }

  getSandbox(id: string): Promise<SandboxInfo> {
    return this.json(routeOf("getSandbox", { id }));
  }

  async listSandboxes(query: SandboxQuery): Promise<SandboxInfo[]> {
    const out: SandboxInfo[] = [];
    let cursor = query.after === undefined ? undefined : encodeCursor(query.after);
    const label = Object.entries(query.labels).map(([k, v]) => `${k}:${v}`);
    while (out.length < query.limit) {
      const limit = Math.min(1000, query.limit - out.length);
      const page = await this.json<{ sandboxes: SandboxInfo[]; nextCursor: string | null }>(routeOf("listSandboxes", {}, { label, limit, cursor }));
      out.push(...page.sandboxes);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    return out;
  }

  /** The caller's terms go as they are: the remote host applies them to its own record with its own clock. */
  updateSandbox(id: string, patch: SandboxPatch): Promise<SandboxInfo> {
    return this.json(routeOf("updateSandbox", { id }), { body: { ...patch.expiry, ...(patch.labels ? { labels: patch.labels } : {}), ...(patch.env ? { env: patch.env } : {}) } });
  }

  async deleteSandbox(id: string): Promise<void> {
    await this.request(routeOf("deleteSandbox", { id }));
  }

  async exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<ExecResult> {
    const result = await this.json<ExecResult>(routeOf("exec", { id }), { body: execBody(spec), signal });
    // The remote host applies its own output limit; this side's may be lower.
    const stdout = capOutput(result.stdout, spec.maxOutputBytes);
    const stderr = capOutput(result.stderr, spec.maxOutputBytes);
    return { ...result, stdout: stdout.text, stderr: stderr.text, truncated: result.truncated || stdout.truncated || stderr.truncated };
  }

  async execStream(id: string, spec: ExecSpec, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    const res = await this.request(routeOf("execStream", { id }), { body: execBody(spec), signal });
    return parseServerSentEvents<ExecEvent>(res.body!);
  }

  async readFile(id: string, path: WorkspacePath): Promise<FileStream> {
    const res = await this.request(routeOf("readFile", { id }, { path: path.abs }));
    return { body: res.body ?? new ReadableStream({ start: (c) => c.close() }), size: Number(res.headers.get("content-length") ?? 0) };
  }

  async writeFile(id: string, path: WorkspacePath, body: ReadableStream<Uint8Array>): Promise<FileInfo> {
    const res = await this.request(routeOf("writeFile", { id }, { path: path.abs }), { raw: body });
    return (await res.json()) as FileInfo;
  }

  statFile(id: string, path: WorkspacePath): Promise<FileInfo> {
    return this.json(routeOf("statFile", { id }, { path: path.abs }));
  }

  listFiles(id: string, path: WorkspacePath, recursive: boolean): Promise<{ entries: FileInfo[]; truncated: boolean }> {
    return this.json(routeOf("listFiles", { id }, { path: path.abs, recursive }));
  }

  mkdir(id: string, path: WorkspacePath, recursive: boolean): Promise<FileInfo> {
    return this.json(routeOf("mkdir", { id }), { body: { path: path.abs, recursive } });
  }

  moveFile(id: string, from: WorkspacePath, to: WorkspacePath, overwrite: boolean): Promise<FileInfo> {
    return this.json(routeOf("moveFile", { id }), { body: { from: from.abs, to: to.abs, overwrite } });
  }

  async deleteFile(id: string, path: WorkspacePath, recursive: boolean): Promise<void> {
    await this.request(routeOf("deleteFile", { id }, { path: path.abs, recursive }));
  }

  /** The remote host chooses the process id (its REST API takes none), so `spec.processId` stays here. */
  startProcess(id: string, spec: ProcessSpec): Promise<ProcessInfo> {
    return this.json(routeOf("startProcess", { id }), { body: { argv: spec.argv, cwd: spec.cwd, env: spec.env, ...(spec.name === null ? {} : { name: spec.name }) } });
  }

  async listProcesses(id: string): Promise<ProcessInfo[]> {
    return (await this.json<{ processes: ProcessInfo[] }>(routeOf("listProcesses", { id }))).processes;
  }

  getProcess(id: string, processId: string): Promise<ProcessInfo> {
    return this.json(routeOf("getProcess", { id, processId }));
  }

  /** One call: the remote's answer has the status and the slice together. */
  async readProcessLogs(id: string, processId: string, offset: number | undefined, limitBytes: number): Promise<ProcessLogSlice> {
    const logs = await this.json<ProcessLogs>(routeOf("getProcessLogs", { id, processId }, { limitBytes, offset }));
    return { status: logs.status, chunks: logs.chunks, firstOffset: logs.firstOffset, nextOffset: logs.nextOffset };
  }

  async followProcessLogs(id: string, processId: string, offset: number, signal: AbortSignal): Promise<AsyncIterable<ProcessLogEvent>> {
    const res = await this.request(routeOf("streamProcessLogs", { id, processId }, { offset }), { signal });
    return untilAborted(parseServerSentEvents<ProcessLogEvent>(res.body!), signal);
  }

  killProcess(id: string, processId: string, signal: Signal): Promise<ProcessInfo> {
    return this.json(routeOf("killProcess", { id, processId }, { signal }));
  }

  async waitForPort(id: string, processId: string, spec: WaitForPortSpec, signal: AbortSignal): Promise<ProcessInfo> {
    const body = { port: spec.port, timeoutMs: spec.timeoutMs, ...(spec.path === undefined ? {} : { path: spec.path }), ...(spec.status === undefined ? {} : { status: spec.status }) };
    return (await this.json<WaitResult>(routeOf("waitForPort", { id, processId }), { body, signal })).process;
  }

  /** The remote host matches lines where the log is: only the answer crosses the network, not the log. */
  waitForLog(id: string, processId: string, spec: WaitForLogSpec, signal: AbortSignal): Promise<WaitResult> {
    return this.json(routeOf("waitForLog", { id, processId }), { body: spec, signal });
  }

  /**
   * Forwards the prepared request to the remote host's port proxy with this side's token (core
   * stripped the caller's credentials), the body streamed and redirects untouched. In workerd a
   * request with `Upgrade: websocket` answers 101 with `webSocket`; that response goes back as it is,
   * so WebSockets pass through the Worker. The remote's own proxy errors (its error envelope) become
   * the same SandgateError here; anything else is the app's answer.
   */
  async fetchPort(id: string, port: number, request: Request): Promise<Response> {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    const upgrade = headers.get("upgrade")?.toLowerCase() === "websocket";
    for (const name of upgrade ? ["host"] : ["host", ...HOP_BY_HOP]) headers.delete(name);
    headers.delete("authorization");
    headers.delete("x-sandgate-token");
    if (this.options.token) headers.set("authorization", `Bearer ${this.options.token}`);
    const hasBody = request.body !== null && request.method !== "GET" && request.method !== "HEAD";
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${sandboxPrefix(id)}/ports/${port}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        body: hasBody ? request.body : undefined,
        redirect: "manual",
        signal: request.signal,
        ...(hasBody ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (err) {
      if (request.signal?.aborted) throw err;
      throw new SandgateError("sandbox_unavailable", `the remote Sandgate host cannot be reached: ${(err as Error).message}`, { retryAfterMs: 1000 });
    }
    if (await isProxyError(res)) await this.throwEnvelope(res);
    // The remote's proxy rewrote absolute redirects to the app into its own origin and prefix; they go
    // back to naming the app (`http://localhost:{port}/...`), which this side's proxy rewrites into its own.
    const remotePrefix = `${this.base}${sandboxPrefix(id)}/ports/${port}`;
    const location = res.headers.get("location");
    const contentLocation = res.headers.get("content-location");
    const underRemote = (value: string | null) => value !== null && value.startsWith(remotePrefix) && /^(?:$|[/?#])/.test(value.slice(remotePrefix.length));
    if (res.status !== 101 && (underRemote(location) || underRemote(contentLocation))) {
      const headers = new Headers(res.headers);
      for (const name of ["location", "content-location"]) {
        const value = headers.get(name);
        if (underRemote(value)) headers.set(name, `http://localhost:${port}${value!.slice(remotePrefix.length) || "/"}`);
      }
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    }
    return res;
  }

  async close(): Promise<void> {}

  private async json<T>(route: Route, init: { body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    return (await (await this.request(route, init)).json()) as T;
  }

  /** One call to the remote host; its error envelope becomes the same SandgateError here. */
  private async request(
    { method, path }: Route,
    init: { body?: unknown; raw?: ReadableStream<Uint8Array>; signal?: AbortSignal; accept?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (init.accept) headers.accept = init.accept;
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    if (init.raw) headers["content-type"] = "application/octet-stream";
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, {
        method,
        headers,
        body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
        signal: init.signal,
        // Node's fetch needs this to stream a request body; Workers ignore it.
        ...(init.raw ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new SandgateError("sandbox_unavailable", `the remote Sandgate host cannot be reached: ${(err as Error).message}`, { retryAfterMs: 1000 });
    }
    if (res.ok) return res;
    return this.throwEnvelope(res);
  }

  private async throwEnvelope(res: Response): Promise<never> {
    const envelope = (await res.json().catch(() => undefined)) as { error?: { code?: ErrorCode; message?: string; details?: Record<string, unknown> } } | undefined;
    const error = envelope?.error;
    if (error?.code) throw new SandgateError(error.code, error.message ?? error.code, error.details);
    throw new SandgateError(res.status >= 500 ? "sandbox_unavailable" : "invalid_request", `the remote Sandgate host answered ${res.status}`);
  }
}

type Route = ReturnType<typeof routeOf>;
/** The port proxy is a prefix, not an operation of the table. */
const sandboxPrefix = (id: string) => `/v1/sandboxes/${encodeURIComponent(id)}`;

/**
 * Whether an answer of the remote's port proxy is the proxy's own error (no sandbox, nothing
 * listening, the token refused) rather than the app's: an error status with Sandgate's envelope.
 * Only small JSON error answers are read (through a clone), so app bodies stream untouched.
 */
async function isProxyError(res: Response): Promise<boolean> {
  if (!PROXY_ERROR_STATUSES.has(res.status) || !res.headers.get("content-type")?.startsWith("application/json")) return false;
  if (Number(res.headers.get("content-length") ?? 0) > MAX_ENVELOPE_BYTES) return false;
  const text = await readCapped(res.clone(), MAX_ENVELOPE_BYTES);
  let body: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return false;
  }
  const keys = body && typeof body === "object" ? Object.keys(body) : [];
  return keys.length === 1 && typeof body?.error?.code === "string" && typeof body.error.message === "string" && (body.error.code as string) in httpStatusOf;
}
const MAX_ENVELOPE_BYTES = 64 * 1024;

/** The body as text, or undefined when it is longer than `max` bytes (then it is not read further). */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) return undefined;
      parts.push(value);
    }
  } catch {
    return undefined;
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const part of parts) (all.set(part, at), (at += part.byteLength));
  return new TextDecoder().decode(all);
}

/** Headers of one connection, not of the request (fetch implementations refuse some of them). */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"];
const PROXY_ERROR_STATUSES = new Set([400, 401, 403, 404, 502, 503, 504]);

/** Stops once `signal` aborts; a stream the remote host broke off ends with an `error` event. */
async function* untilAborted(events: AsyncGenerator<ProcessLogEvent>, signal: AbortSignal): AsyncGenerator<ProcessLogEvent> {
  let last: ProcessLogEvent["type"] | undefined;
  try {
    for await (const event of events) {
      if (signal.aborted) return;
      last = event.type;
      yield event;
    }
  } catch (err) {
    if (signal.aborted) return;
    yield { type: "error", code: "sandbox_unavailable", message: `the remote Sandgate host broke off the log stream: ${(err as Error).message}` };
    return;
  } finally {
    await events.return(undefined).catch(() => {});
  }
  if (!signal.aborted && last !== "exit" && last !== "error") {
    yield { type: "error", code: "sandbox_unavailable", message: "the remote Sandgate host ended the log stream early" };
  }
}
const secondsUntil = (iso: string) => Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
const execBody = (spec: ExecSpec) => ({ argv: spec.argv, cwd: spec.cwd, env: spec.env, timeoutMs: spec.timeoutMs, ...(spec.stdin === undefined ? {} : { stdin: spec.stdin }) });
