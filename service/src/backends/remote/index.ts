import type { Backend, ExecSpec, FileStream, SandboxPatch, SandboxQuery, SandboxRecord } from "../../core/backend.ts";
import { encodeCursor } from "../../core/core.ts";
import { SandgateError } from "../../core/errors.ts";
import type { WorkspacePath } from "../../core/paths.ts";
import type { ErrorCode } from "../../schemas/common.ts";
import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import type { FileInfo } from "../../schemas/files.ts";
import type { SandboxInfo } from "../../schemas/sandboxes.ts";
import { capOutput } from "../output.ts";
import { parseServerSentEvents } from "../sse.ts";

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

  constructor(private readonly options: RemoteBackendOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async createSandbox(record: SandboxRecord): Promise<SandboxInfo> {
    return this.json("POST", "/v1/sandboxes", {
      body: { id: record.id, ttlSeconds: secondsUntil(record.expiresAt), env: record.env, labels: record.labels },
    });
  }

  getSandbox(id: string): Promise<SandboxInfo> {
    return this.json("GET", sandbox(id));
  }

  async listSandboxes(query: SandboxQuery): Promise<SandboxInfo[]> {
    const out: SandboxInfo[] = [];
    let cursor = query.after === undefined ? undefined : encodeCursor(query.after);
    while (out.length < query.limit) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query.labels)) params.append("label", `${k}:${v}`);
      params.set("limit", String(Math.min(1000, query.limit - out.length)));
      if (cursor) params.set("cursor", cursor);
      const page = await this.json<{ sandboxes: SandboxInfo[]; nextCursor: string | null }>("GET", `/v1/sandboxes?${params}`);
      out.push(...page.sandboxes);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    return out;
  }

  updateSandbox(id: string, patch: SandboxPatch): Promise<SandboxInfo> {
    // Forward the caller's terms, so the remote host computes the expiry from its own record and clock.
    const expiry =
      patch.extendBySeconds !== undefined
        ? { extendBySeconds: patch.extendBySeconds }
        : patch.ttlSeconds !== undefined
          ? { ttlSeconds: patch.ttlSeconds }
          : patch.expiresAt
            ? { ttlSeconds: secondsUntil(patch.expiresAt) }
            : {};
    return this.json("PATCH", sandbox(id), { body: { ...expiry, ...(patch.labels ? { labels: patch.labels } : {}) } });
  }

  async deleteSandbox(id: string): Promise<void> {
    await this.request("DELETE", sandbox(id));
  }

  async exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<ExecResult> {
    const result = await this.json<ExecResult>("POST", `${sandbox(id)}/exec`, { body: execBody(spec), signal });
    // The remote host applies its own output limit; this side's may be lower.
    const stdout = capOutput(result.stdout, spec.maxOutputBytes);
    const stderr = capOutput(result.stderr, spec.maxOutputBytes);
    return { ...result, stdout: stdout.text, stderr: stderr.text, truncated: result.truncated || stdout.truncated || stderr.truncated };
  }

  async execStream(id: string, spec: ExecSpec, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    const res = await this.request("POST", `${sandbox(id)}/exec/stream`, { body: execBody(spec), signal });
    return parseServerSentEvents<ExecEvent>(res.body!);
  }

  async readFile(id: string, path: WorkspacePath): Promise<FileStream> {
    const res = await this.request("GET", `${sandbox(id)}/files/content?${pathQuery(path)}`);
    return { body: res.body ?? new ReadableStream({ start: (c) => c.close() }), size: Number(res.headers.get("content-length") ?? 0) };
  }

  async writeFile(id: string, path: WorkspacePath, body: ReadableStream<Uint8Array>): Promise<FileInfo> {
    const res = await this.request("PUT", `${sandbox(id)}/files/content?${pathQuery(path)}`, { raw: body });
    return (await res.json()) as FileInfo;
  }

  statFile(id: string, path: WorkspacePath): Promise<FileInfo> {
    return this.json("GET", `${sandbox(id)}/files/stat?${pathQuery(path)}`);
  }

  listFiles(id: string, path: WorkspacePath, recursive: boolean): Promise<{ entries: FileInfo[]; truncated: boolean }> {
    return this.json("GET", `${sandbox(id)}/files?${pathQuery(path)}&recursive=${recursive}`);
  }

  mkdir(id: string, path: WorkspacePath, recursive: boolean): Promise<FileInfo> {
    return this.json("POST", `${sandbox(id)}/files/mkdir`, { body: { path: path.abs, recursive } });
  }

  moveFile(id: string, from: WorkspacePath, to: WorkspacePath, overwrite: boolean): Promise<FileInfo> {
    return this.json("POST", `${sandbox(id)}/files/move`, { body: { from: from.abs, to: to.abs, overwrite } });
  }

  async deleteFile(id: string, path: WorkspacePath, recursive: boolean): Promise<void> {
    await this.request("DELETE", `${sandbox(id)}/files?${pathQuery(path)}&recursive=${recursive}`);
  }

  async close(): Promise<void> {}

  private async json<T>(method: string, path: string, init: { body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    return (await (await this.request(method, path, init)).json()) as T;
  }

  /** One call to the remote host; its error envelope becomes the same SandgateError here. */
  private async request(
    method: string,
    path: string,
    init: { body?: unknown; raw?: ReadableStream<Uint8Array>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
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
    const envelope = (await res.json().catch(() => undefined)) as { error?: { code?: ErrorCode; message?: string; details?: Record<string, unknown> } } | undefined;
    const error = envelope?.error;
    if (error?.code) throw new SandgateError(error.code, error.message ?? error.code, error.details);
    throw new SandgateError(res.status >= 500 ? "sandbox_unavailable" : "invalid_request", `the remote Sandgate host answered ${res.status}`);
  }
}

const sandbox = (id: string) => `/v1/sandboxes/${encodeURIComponent(id)}`;
const pathQuery = (path: WorkspacePath) => `path=${encodeURIComponent(path.abs)}`;
const secondsUntil = (iso: string) => Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
const execBody = (spec: ExecSpec) => ({ argv: spec.argv, cwd: spec.cwd, env: spec.env, timeoutMs: spec.timeoutMs, ...(spec.stdin === undefined ? {} : { stdin: spec.stdin }) });
