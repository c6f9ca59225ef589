import createClient, { type Client } from "openapi-fetch";
import { SandgateError } from "./errors.js";
import { type CallOptions, type Context, type FetchLike, isReadableStream, sandboxPath, signalOf, unwrap, withFailureErrors } from "./internal.js";
import { type ProcessCommand, type ProcessHandle, ProcessImpl, type ProcessInfo, type StartProcessOptions, type StartProcessRequest } from "./processes.js";
import type { components, paths } from "./schema.js";
import { type CreateSnapshotRequest, type ForkRequest, type RestoreResult, type Snapshot, type SnapshotsApi, SnapshotsImpl } from "./snapshots.js";
import { parseServerSentEvents } from "./sse.js";

export type { CallOptions, FetchLike } from "./internal.js";

type Schemas = components["schemas"];
export type Health = Schemas["Health"];
export type SandboxInfo = Schemas["SandboxInfo"];
export type SandboxList = Schemas["SandboxList"];
export type SandboxStatus = Schemas["SandboxStatus"];
export type CreateSandboxRequest = Schemas["CreateSandboxRequest"];
export type UpdateSandboxRequest = Schemas["UpdateSandboxRequest"];
export type ListSandboxesQuery = NonNullable<paths["/v1/sandboxes"]["get"]["parameters"]["query"]>;
export type ExecRequest = Schemas["ExecRequest"];
export type ExecResult = Schemas["ExecResult"];
export type ExecEvent = Schemas["ExecEvent"];
export type ExecStdoutEvent = Schemas["ExecStdoutEvent"];
export type ExecStderrEvent = Schemas["ExecStderrEvent"];
export type ExecExitEvent = Schemas["ExecExitEvent"];
export type ExecErrorEvent = Schemas["ExecErrorEvent"];
export type FileInfo = Schemas["FileInfo"];
export type FileList = Schemas["FileList"];
export type FileContent = Schemas["FileContent"];
export type FileType = Schemas["FileType"];
export type Encoding = Schemas["Encoding"];
export type NetworkMode = Schemas["NetworkMode"];
export type GitCheckoutRequest = Schemas["GitCheckoutRequest"];
export type GitCheckoutResult = Schemas["GitCheckoutResult"];
export type PortLink = Schemas["PortLink"];
export type CreatePortLinkRequest = Schemas["CreatePortLinkRequest"];
export type Scope = Schemas["Scope"];
export type CreateTokenRequest = Schemas["CreateTokenRequest"];
export type ScopedToken = Schemas["ScopedToken"];

export interface SandgateClientOptions {
  /** Where Sandgate listens, e.g. `http://127.0.0.1:8787` or `https://sandgate.example.workers.dev`. */
  baseUrl: string | URL;
  /** The API token, sent as `Authorization: Bearer …`. Leave out when the host runs without auth. */
  token?: string | undefined;
  fetch?: FetchLike | undefined;
  /** Extra headers for every request. */
  headers?: Record<string, string> | undefined;
  /**
   * How long a call may wait for the response to begin (its headers), in milliseconds; past it the call
   * fails with SandgateError `timeout` (status 0). Unset: no limit (buffered exec waits for the command).
   */
  timeoutMs?: number | undefined;
}

/** A shell command line (`/bin/sh -c`), an argv array (no shell), or the whole request body. */
export type ExecCommand = string | readonly string[] | ExecRequest;
export type ExecOptions = Omit<ExecRequest, "command" | "argv"> & CallOptions;

/** A file's new content: a stream (sent as it is read, never buffered), bytes, a Blob, or text (UTF-8). */
export type FileBody = ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | Blob | string;

export interface ReadOptions extends CallOptions {
  /** `bytes` (default): a Uint8Array; `text`: decoded as UTF-8; `stream`: the body as it arrives. */
  as?: "bytes" | "text" | "stream";
}

export interface SandgateClient {
  /** The typed openapi-fetch client underneath, for anything the methods below do not cover. */
  readonly raw: Client<paths>;
  /** `GET /health`: liveness, version and backend. */
  health(options?: CallOptions): Promise<Health>;
  readonly sandboxes: SandboxesApi;
  /** Saved workspaces: list, get, delete, export as tar, import from tar (take one with `sandbox(id).snapshot()`). */
  readonly snapshots: SnapshotsApi;
  /** A handle on one sandbox; makes no request by itself. */
  sandbox(id: string): Sandbox;
  /**
   * Mints a token that works only on `sandboxId`, for `scopes`, until it expires (`POST /v1/tokens`;
   * needs the API token). Hand it to less trusted code: `createSandgateClient({ baseUrl, token })`.
   */
  createToken(body: CreateTokenRequest, options?: CallOptions): Promise<ScopedToken>;
}

export interface SandboxesApi {
  /** Creates a sandbox and answers with a handle on it, carrying the new sandbox's `info`. */
  create(body?: CreateSandboxRequest, options?: CallOptions): Promise<Sandbox & { readonly info: SandboxInfo }>;
  /** One page; pass `nextCursor` back as `cursor` for the next. */
  list(query?: ListSandboxesQuery, options?: CallOptions): Promise<SandboxList>;
  /** Every sandbox matching `query`, fetching page after page as the loop goes. */
  listAll(query?: Omit<ListSandboxesQuery, "cursor">, options?: CallOptions): AsyncGenerator<SandboxInfo, void, undefined>;
  get(id: string, options?: CallOptions): Promise<SandboxInfo>;
  update(id: string, body: UpdateSandboxRequest, options?: CallOptions): Promise<SandboxInfo>;
  delete(id: string, options?: CallOptions): Promise<void>;
}

export interface Sandbox {
  readonly id: string;
  /** What the last `create`, `get` or `update` through this handle answered; undefined before any. */
  readonly info: SandboxInfo | undefined;
  /** Fetches the sandbox's current state (and keeps it in `info`). */
  get(options?: CallOptions): Promise<SandboxInfo>;
  update(body: UpdateSandboxRequest, options?: CallOptions): Promise<SandboxInfo>;
  delete(options?: CallOptions): Promise<void>;
  /** Runs a command and waits for it. A non-zero exit is a result, not an error. */
  exec(command: ExecCommand, options?: ExecOptions): Promise<ExecResult>;
  /**
   * Runs a command and yields its `stdout`/`stderr` events as they happen, then one `exit` (or `error`).
   * Leaving the loop early closes the stream, which kills the command.
   */
  execStream(command: ExecCommand, options?: ExecOptions): AsyncGenerator<ExecEvent, void, undefined>;
  readonly files: SandboxFiles;
  /** Replaces the sandbox-wide environment (`updateSandbox` with `env`): later commands and processes see it. */
  setEnv(env: Record<string, string>, options?: CallOptions): Promise<SandboxInfo>;
  /** Mints a token for this sandbox only (see `SandgateClient.createToken`). */
  createToken(scopes: Scope[], options?: { ttlSeconds?: number } & CallOptions): Promise<ScopedToken>;
  /**
   * Starts a background process and answers at once with a handle on it. It keeps running until it
   * ends, is killed or the sandbox is deleted; its output is kept for `logs()` and `follow()`.
   */
  startProcess(command: ProcessCommand, options?: StartProcessOptions): Promise<ProcessHandle & { readonly info: ProcessInfo }>;
  /** The sandbox's background processes, running and ended. */
  listProcesses(options?: CallOptions): Promise<ProcessInfo[]>;
  /** A handle on one process by its id; makes no request by itself. */
  process(processId: string): ProcessHandle;
  /** Clones a repository into the workspace (default directory: `/workspace/<repository name>`). */
  gitCheckout(url: string, options?: Omit<GitCheckoutRequest, "url"> & CallOptions): Promise<GitCheckoutResult>;
  /** Saves the workspace as a snapshot that outlives the sandbox (`excludes`: globs relative to /workspace). */
  snapshot(body?: CreateSnapshotRequest, options?: CallOptions): Promise<Snapshot>;
  /**
   * Replaces the workspace with a snapshot, atomically; the sandbox's environment starts afresh. While
   * background processes run it fails with `conflict` unless `killProcesses` is true.
   */
  restore(snapshotId: string, options?: { killProcesses?: boolean } & CallOptions): Promise<RestoreResult>;
  /**
   * Copies this sandbox into `count` (1 to 100) new ones from one consistent cut of its workspace:
   * all are made or none. `snapshot` is the cut when `keepSnapshot` is set, else null (it is deleted).
   */
  fork(
    count: number,
    options?: Omit<ForkRequest, "count"> & CallOptions,
  ): Promise<{ sandboxes: Array<Sandbox & { readonly info: SandboxInfo }>; snapshot: Snapshot | null }>;
  /**
   * The URL of `path` on `port` through the host's port proxy (`/v1/sandboxes/{id}/ports/{port}/...`).
   * It needs the token in a header (`fetchPort` adds it); for a browser, mint a `portLink`.
   * `websocket: true` gives the `ws:`/`wss:` URL of the same place.
   */
  portUrl(port: number, path?: string, options?: { websocket?: boolean }): string;
  /** Fetches `path` on `port` through the port proxy with this client's token; the answer is the app's, as it is. */
  fetchPort(port: number, path?: string, init?: RequestInit): Promise<Response>;
  /** Mints a signed link to `port` that works without a token until it expires: open `url` in a browser. */
  portLink(port: number, options?: Omit<CreatePortLinkRequest, "port"> & CallOptions): Promise<PortLink & { url: string }>;
}

export interface SandboxFiles {
  read(path: string, options?: ReadOptions & { as?: "bytes" }): Promise<Uint8Array>;
  read(path: string, options: ReadOptions & { as: "text" }): Promise<string>;
  read(path: string, options: ReadOptions & { as: "stream" }): Promise<ReadableStream<Uint8Array>>;
  /** Uploads raw bytes, streamed; the file appears whole or not at all. Missing parents are created. */
  write(path: string, body: FileBody, options?: CallOptions): Promise<FileInfo>;
  /** Reads a file into JSON, as text or base64 (limited in size by the host; prefer `read`). */
  readJson(path: string, options?: { encoding?: Encoding } & CallOptions): Promise<FileContent>;
  /** Writes a file from JSON text or base64 (limited in size by the host; prefer `write`). */
  writeJson(path: string, content: string, options?: { encoding?: Encoding } & CallOptions): Promise<FileInfo>;
  list(path?: string, options?: { recursive?: boolean } & CallOptions): Promise<FileList>;
  stat(path: string, options?: CallOptions): Promise<FileInfo>;
  mkdir(path: string, options?: { recursive?: boolean } & CallOptions): Promise<FileInfo>;
  move(from: string, to: string, options?: { overwrite?: boolean } & CallOptions): Promise<FileInfo>;
  delete(path: string, options?: { recursive?: boolean } & CallOptions): Promise<void>;
}

/** Creates a client for one Sandgate host. Runs in Node 22+, browsers and Workers (web APIs only). */
export function createSandgateClient(options: SandgateClientOptions): SandgateClient {
  const userFetch = options.fetch;
  const baseUrl = String(options.baseUrl).replace(/\/+$/, "");
  const headers = {
    ...options.headers,
    ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
  };
  // Called unbound: a service binding's or a polyfill's fetch may need its own `this`.
  const plainFetch: FetchLike = userFetch ? (request) => userFetch(request) : (request) => globalThis.fetch(request);
  // Every API call fails as SandgateError, also with no response at all.
  const fetch = withFailureErrors(plainFetch, options.timeoutMs);
  const raw = createClient<paths>({ baseUrl, headers, fetch });
  return new ClientImpl({ raw, baseUrl, headers, fetch });
}

function execBody(command: ExecCommand, options: ExecOptions | undefined): ExecRequest {
  const { signal: _signal, ...rest } = options ?? {};
  const base: ExecRequest = typeof command === "string" ? { command } : isStringArray(command) ? { argv: [...command] } : { ...command };
  return { ...base, ...rest };
}

function isStringArray(value: ExecCommand | ProcessCommand): value is readonly string[] {
  return Array.isArray(value);
}


const execEventTypes = new Set<string>(["stdout", "stderr", "exit", "error"]);

class ClientImpl implements SandgateClient {
  readonly sandboxes: SandboxesApi;
  readonly snapshots: SnapshotsApi;
  readonly raw: Client<paths>;

  constructor(private readonly ctx: Context) {
    this.raw = ctx.raw;
    this.sandboxes = new SandboxesImpl(ctx);
    this.snapshots = new SnapshotsImpl(ctx.raw);
  }

  health(options?: CallOptions): Promise<Health> {
    return unwrap(this.raw.GET("/health", { ...signalOf(options) }));
  }

  sandbox(id: string): Sandbox {
    return new SandboxImpl(this.ctx, this.sandboxes, id, undefined);
  }

  createToken(body: CreateTokenRequest, options?: CallOptions): Promise<ScopedToken> {
    return unwrap(this.raw.POST("/v1/tokens", { body, ...signalOf(options) }));
  }
}

class SandboxesImpl implements SandboxesApi {
  private readonly raw: Client<paths>;

  constructor(private readonly ctx: Context) {
    this.raw = ctx.raw;
  }

  async create(body: CreateSandboxRequest = {}, options?: CallOptions): Promise<Sandbox & { readonly info: SandboxInfo }> {
    const info = await unwrap(this.raw.POST("/v1/sandboxes", { body, ...signalOf(options) }));
    return new SandboxImpl(this.ctx, this, info.id, info) as Sandbox & { readonly info: SandboxInfo };
  }

  list(query: ListSandboxesQuery = {}, options?: CallOptions): Promise<SandboxList> {
    return unwrap(this.raw.GET("/v1/sandboxes", { params: { query }, ...signalOf(options) }));
  }

  async *listAll(query: Omit<ListSandboxesQuery, "cursor"> = {}, options?: CallOptions): AsyncGenerator<SandboxInfo, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...query, ...(cursor !== undefined ? { cursor } : {}) }, options);
      yield* page.sandboxes;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  get(id: string, options?: CallOptions): Promise<SandboxInfo> {
    return unwrap(this.raw.GET("/v1/sandboxes/{id}", { params: { path: { id } }, ...signalOf(options) }));
  }

  update(id: string, body: UpdateSandboxRequest, options?: CallOptions): Promise<SandboxInfo> {
    return unwrap(this.raw.PATCH("/v1/sandboxes/{id}", { params: { path: { id } }, body, ...signalOf(options) }));
  }

  async delete(id: string, options?: CallOptions): Promise<void> {
    await unwrap(this.raw.DELETE("/v1/sandboxes/{id}", { params: { path: { id } }, ...signalOf(options) }));
  }
}

class SandboxImpl implements Sandbox {
  readonly files: SandboxFiles;
  private readonly raw: Client<paths>;

  constructor(
    private readonly ctx: Context,
    private readonly sandboxes: SandboxesApi,
    readonly id: string,
    public info: SandboxInfo | undefined,
  ) {
    this.raw = ctx.raw;
    this.files = new FilesImpl(ctx.raw, id);
  }

  async get(options?: CallOptions): Promise<SandboxInfo> {
    this.info = await this.sandboxes.get(this.id, options);
    return this.info;
  }

  async update(body: UpdateSandboxRequest, options?: CallOptions): Promise<SandboxInfo> {
    this.info = await this.sandboxes.update(this.id, body, options);
    return this.info;
  }

  delete(options?: CallOptions): Promise<void> {
    return this.sandboxes.delete(this.id, options);
  }

  exec(command: ExecCommand, options?: ExecOptions): Promise<ExecResult> {
    return unwrap(
      this.raw.POST("/v1/sandboxes/{id}/exec", { params: { path: { id: this.id } }, body: execBody(command, options), ...signalOf(options) }),
    );
  }

  async *execStream(command: ExecCommand, options?: ExecOptions): AsyncGenerator<ExecEvent, void, undefined> {
    const { data, error, response } = await this.raw.POST("/v1/sandboxes/{id}/exec/stream", {
      params: { path: { id: this.id } },
      body: execBody(command, options),
      headers: { accept: "text/event-stream" },
      parseAs: "stream",
      ...signalOf(options),
    });
    if (!response.ok) throw SandgateError.fromBody(response.status, error);
    if (!data) return;
    for await (const message of parseServerSentEvents(data)) {
      let event: unknown;
      try {
        event = JSON.parse(message.data);
      } catch {
        continue;
      }
      // Event types a newer server may add are skipped rather than mistyped.
      const type = (event as { type?: unknown } | null)?.type;
      if (typeof type === "string" && execEventTypes.has(type)) yield event as ExecEvent;
    }
  }

  setEnv(env: Record<string, string>, options?: CallOptions): Promise<SandboxInfo> {
    return this.update({ env }, options);
  }

  createToken(scopes: Scope[], options: { ttlSeconds?: number } & CallOptions = {}): Promise<ScopedToken> {
    const body: CreateTokenRequest = { sandboxId: this.id, scopes, ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}) };
    return unwrap(this.raw.POST("/v1/tokens", { body, ...signalOf(options) }));
  }

  async startProcess(command: ProcessCommand, options?: StartProcessOptions): Promise<ProcessHandle & { readonly info: ProcessInfo }> {
    const { signal: _signal, ...rest } = options ?? {};
    const base: StartProcessRequest = typeof command === "string" ? { command } : isStringArray(command) ? { argv: [...command] } : { ...command };
    const info = await unwrap(
      this.raw.POST("/v1/sandboxes/{id}/processes", { params: { path: { id: this.id } }, body: { ...base, ...rest }, ...signalOf(options) }),
    );
    return new ProcessImpl(this.ctx, this.id, info.id, info) as ProcessHandle & { readonly info: ProcessInfo };
  }

  async listProcesses(options?: CallOptions): Promise<ProcessInfo[]> {
    const list = await unwrap(this.raw.GET("/v1/sandboxes/{id}/processes", { params: { path: { id: this.id } }, ...signalOf(options) }));
    return list.processes;
  }

  process(processId: string): ProcessHandle {
    return new ProcessImpl(this.ctx, this.id, processId, undefined);
  }

  gitCheckout(url: string, options: Omit<GitCheckoutRequest, "url"> & CallOptions = {}): Promise<GitCheckoutResult> {
    const { signal: _signal, ...rest } = options;
    return unwrap(this.raw.POST("/v1/sandboxes/{id}/git/checkout", { params: { path: { id: this.id } }, body: { ...rest, url }, ...signalOf(options) }));
  }
  snapshot(body: CreateSnapshotRequest = {}, options?: CallOptions): Promise<Snapshot> {
    return unwrap(this.raw.POST("/v1/sandboxes/{id}/snapshots", { params: { path: { id: this.id } }, body, ...signalOf(options) }));
  }

  async restore(snapshotId: string, options: { killProcesses?: boolean } & CallOptions = {}): Promise<RestoreResult> {
    const body = { snapshotId, ...(options.killProcesses !== undefined ? { killProcesses: options.killProcesses } : {}) };
    const result = await unwrap(this.raw.POST("/v1/sandboxes/{id}/restore", { params: { path: { id: this.id } }, body, ...signalOf(options) }));
    this.info = result.sandbox;
    return result;
  }

  async fork(
    count: number,
    options: Omit<ForkRequest, "count"> & CallOptions = {},
  ): Promise<{ sandboxes: Array<Sandbox & { readonly info: SandboxInfo }>; snapshot: Snapshot | null }> {
    const { signal: _signal, ...rest } = options;
    const result = await unwrap(this.raw.POST("/v1/sandboxes/{id}/fork", { params: { path: { id: this.id } }, body: { ...rest, count }, ...signalOf(options) }));
    const sandboxes = result.sandboxes.map((info) => new SandboxImpl(this.ctx, this.sandboxes, info.id, info) as Sandbox & { readonly info: SandboxInfo });
    return { sandboxes, snapshot: result.snapshot ?? null };
  }


  portUrl(port: number, path = "/", options?: { websocket?: boolean }): string {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a port: ${port}`);
    const url = new URL(`${this.ctx.baseUrl}${sandboxPath(this.id, `/ports/${port}`)}${path.startsWith("/") ? path : `/${path}`}`);
    if (options?.websocket) url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  fetchPort(port: number, path = "/", init?: RequestInit): Promise<Response> {
    const request = new Request(this.portUrl(port, path), init);
    // The client's headers (its token among them) unless the caller set the same ones.
    for (const [name, value] of Object.entries(this.ctx.headers)) {
      if (!request.headers.has(name)) request.headers.set(name, value);
    }
    return this.ctx.fetch(request);
  }

  async portLink(port: number, options: Omit<CreatePortLinkRequest, "port"> & CallOptions = {}): Promise<PortLink & { url: string }> {
    const { signal: _signal, ...rest } = options;
    const link = await unwrap(
      this.raw.POST("/v1/sandboxes/{id}/port-links", { params: { path: { id: this.id } }, body: { ...rest, port }, ...signalOf(options) }),
    );
    // The host answers a relative link when it does not know the origin it is reached at; this client does.
    return { ...link, url: link.url ?? `${this.ctx.baseUrl}${link.path}` };
  }
}

class FilesImpl implements SandboxFiles {
  constructor(
    private readonly raw: Client<paths>,
    private readonly id: string,
  ) {}

  read(path: string, options?: ReadOptions & { as?: "bytes" }): Promise<Uint8Array>;
  read(path: string, options: ReadOptions & { as: "text" }): Promise<string>;
  read(path: string, options: ReadOptions & { as: "stream" }): Promise<ReadableStream<Uint8Array>>;
  async read(path: string, options?: ReadOptions): Promise<Uint8Array | string | ReadableStream<Uint8Array>> {
    const { data, error, response } = await this.raw.GET("/v1/sandboxes/{id}/files/content", {
      params: { path: { id: this.id }, query: { path } },
      parseAs: "stream",
      ...signalOf(options),
    });
    if (!response.ok) throw SandgateError.fromBody(response.status, error);
    // openapi-fetch hands out no body for an empty file.
    const body = data ?? new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
    switch (options?.as ?? "bytes") {
      case "stream":
        return body;
      case "text":
        return new Response(body).text();
      default:
        return new Uint8Array(await new Response(body).arrayBuffer());
    }
  }

  write(path: string, body: FileBody, options?: CallOptions): Promise<FileInfo> {
    const payload = typeof body === "string" ? new TextEncoder().encode(body) : body;
    return unwrap(
      this.raw.PUT("/v1/sandboxes/{id}/files/content", {
        params: { path: { id: this.id }, query: { path } },
        // The document types raw bytes as a binary string; the body goes to fetch untouched.
        body: payload as unknown as string,
        bodySerializer: (value: unknown) => value,
        headers: { "content-type": "application/octet-stream" },
        // fetch needs this to send a stream as it is read (Node, Workers; browsers over HTTP/2).
        ...(isReadableStream(body) ? { duplex: "half" } : {}),
        ...signalOf(options),
      }),
    );
  }

  readJson(path: string, options?: { encoding?: Encoding } & CallOptions): Promise<FileContent> {
    return unwrap(
      this.raw.POST("/v1/sandboxes/{id}/files/read", {
        params: { path: { id: this.id } },
        body: { path, ...(options?.encoding ? { encoding: options.encoding } : {}) },
        ...signalOf(options),
      }),
    );
  }

  writeJson(path: string, content: string, options?: { encoding?: Encoding } & CallOptions): Promise<FileInfo> {
    return unwrap(
      this.raw.POST("/v1/sandboxes/{id}/files/write", {
        params: { path: { id: this.id } },
        body: { path, content, ...(options?.encoding ? { encoding: options.encoding } : {}) },
        ...signalOf(options),
      }),
    );
  }

  list(path = "/workspace", options?: { recursive?: boolean } & CallOptions): Promise<FileList> {
    return unwrap(
      this.raw.GET("/v1/sandboxes/{id}/files", {
        params: { path: { id: this.id }, query: { path, ...(options?.recursive !== undefined ? { recursive: options.recursive } : {}) } },
        ...signalOf(options),
      }),
    );
  }

  stat(path: string, options?: CallOptions): Promise<FileInfo> {
    return unwrap(this.raw.GET("/v1/sandboxes/{id}/files/stat", { params: { path: { id: this.id }, query: { path } }, ...signalOf(options) }));
  }

  mkdir(path: string, options?: { recursive?: boolean } & CallOptions): Promise<FileInfo> {
    return unwrap(
      this.raw.POST("/v1/sandboxes/{id}/files/mkdir", {
        params: { path: { id: this.id } },
        body: { path, ...(options?.recursive !== undefined ? { recursive: options.recursive } : {}) },
        ...signalOf(options),
      }),
    );
  }

  move(from: string, to: string, options?: { overwrite?: boolean } & CallOptions): Promise<FileInfo> {
    return unwrap(
      this.raw.POST("/v1/sandboxes/{id}/files/move", {
        params: { path: { id: this.id } },
        body: { from, to, ...(options?.overwrite !== undefined ? { overwrite: options.overwrite } : {}) },
        ...signalOf(options),
      }),
    );
  }

  async delete(path: string, options?: { recursive?: boolean } & CallOptions): Promise<void> {
    await unwrap(
      this.raw.DELETE("/v1/sandboxes/{id}/files", {
        params: { path: { id: this.id }, query: { path, ...(options?.recursive !== undefined ? { recursive: options.recursive } : {}) } },
        ...signalOf(options),
      }),
    );
  }
}
