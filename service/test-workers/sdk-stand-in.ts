/**
 * A stand-in for the `@cloudflare/sandbox` Sandbox Durable Object, for machines without Cloudflare
 * containers. It runs as its own Worker (bundled by global-setup.ts, bound to the Worker under
 * test as SDK_STAND_IN), and the tests reach it through the SDK's own `getSandbox()`: the id
 * rules, the options, the session switch and `wsConnect` are the SDK's code, and every call is real
 * Durable Object RPC, which strips error prototypes, transfers streams and refuses payloads over
 * 32 MiB exactly as in production.
 *
 * Each SDK sandbox is a bubblewrap sandbox on a Sandgate Node host (`cf-<name>`), made on first
 * use, as SDK sandboxes exist by name. The rules it enforces, each from the SDK 0.12.10 source
 * (`node_modules/@cloudflare/sandbox/dist/sandbox-Co2NYKhX.js`, "sdk:LINE" below) or, where the
 * dist bundle holds only the client, from the container's source (github cloudflare/sandbox-sdk,
 * packages/sandbox-container, read at commit 6abf639c):
 *
 * - Transport: `http` unless `SANDBOX_TRANSPORT` or `getSandbox(…, {transport})` says otherwise
 *   (sdk:7542, 7699-7701, 7861); on `http`/`websocket`, `readFile(…, {encoding: "none"})` and a
 *   streamed `writeFile` throw the SDK's own errors (sdk:1868, 1960).
 * - Sessions: on unless `enableDefaultSession: false` (sdk:7435); the SDK then sends
 *   `__DISABLE_SESSION__` (sdk:2640). The default session is one shell: calls are serialised,
 *   `cd`/`export` leak between callers, the final newline of output is dropped, `exit` ends the
 *   shell (later calls throw SESSION_TERMINATED; container session.ts:288), a timeout throws
 *   without killing the command, which keeps holding the lock (session.ts:391 races the exit-code
 *   file against the timeout), and `execStream` ignores its timeout.
 * - Errors: plain `Error`s with `name` and `errorResponse` only, as SandboxError keeps its status
 *   and context behind prototype getters (errors: sdk:14-40); what survives RPC is up to workerd.
 * - Shapes over rpc: processes carry no `endTime` (sdk:9703, 9719 pass on what the container
 *   sends; the container's rpc answers leave it out: cloudflare/sandbox-sdk
 *   packages/sandbox-container/src/control-plane/api.ts:498-531); `moveFile` is `mv` (same repo,
 *   services/file-service.ts:693): onto an existing directory it moves the source into it.
 * - Sleep: `sleepAfter` (default "10m", sdk:7523) after the last call the container stops unless
 *   `keepAlive` (sdk:9005); a stopped container has lost its files and processes (sdk:8664 onStop
 *   drops the session; the docs say files live only while the container runs). `sleep()` is the
 *   tests' hook for the same.
 * - Idle streams: log and exec streams that carry nothing for `streamIdleTimeoutMs` error with
 *   the SDK's message (sdk:962 default 300 s, 1278); the tests set it short with `setStreamIdle`.
 * - Processes: the caller picks the id; statuses `running`, `completed` (exit 0), `failed`,
 *   `killed` (137/143 or a kill), `error`; `killProcess` ignores the signal (sdk:9727) and ends the
 *   tree with TERM then KILL; `getProcessLogs` answers whole strings; `streamProcessLogs` answers
 *   SSE of `process_info`, all of stdout, all of stderr, then live events and `exit`;
 *   `waitForPort` as sdk:9498 (HTTP on `/` answering 200-399 unless told otherwise).
 * - Ports: `containerFetch(request, port)`; `wsConnect` is the SDK's (sdk:7509, port rules
 *   sdk:4440) and arrives here as `fetch` with `cf-container-target-port`; nothing listening
 *   answers the container's `500 Error proxying request to container: ...`.
 *
 * Not modelled: cold starts, the platform's transient errors (their mapping is tested on its own),
 * code contexts, mounts, backups, tunnels, and the Process helpers Sandgate does not call.
 */
import { DurableObject } from "cloudflare:workers";

export interface StandInEnv {
  HOST_URL: string;
  HOST_TOKEN: string;
  SANDBOX_TRANSPORT?: string;
}

const DISABLE_SESSION = "__DISABLE_SESSION__"; // sdk:2640

type Transport = "http" | "websocket" | "rpc";
type SdkStatus = "running" | "completed" | "failed" | "killed" | "error";

interface HostProcess {
  id: string;
  name: string | null;
  argv: string[];
  status: "running" | "exited" | "killed" | "lost";
  exitCode: number | null;
  startedAt: string;
  endedAt: string | null;
}

interface ExecOptions {
  timeout?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
  sessionId?: string;
}

/** An SDK error as it leaves the Durable Object: `name` and `errorResponse`, nothing on the prototype. */
function sdkError(name: string, code: string, message: string, httpStatus: number, context: Record<string, unknown> = {}): Error {
  const err = new Error(message);
  err.name = name;
  return Object.assign(err, { errorResponse: { code, message, context, httpStatus, timestamp: new Date().toISOString() } });
}

/** "10m", "30s", "2h" or a number of seconds, as the Container class reads sleepAfter. */
function durationMs(value: string | number): number {
  if (typeof value === "number") return value * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) return 600_000;
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"] ?? 1000);
}

export class SandboxStandIn extends DurableObject<StandInEnv> {
  private name: string | null = null;
  private transport: Transport;
  private sleepAfter: string | number = "10m";
  private keepAlive = false;
  private hostReady: Promise<void> | undefined;
  private sleepTimer: ReturnType<typeof setTimeout> | undefined;
  private streamIdleMs = 300_000;
  private destroyFailures = 0;
  /** The default session: one shell, one caller at a time; null once `exit` ended it. */
  private session: { lock: Promise<unknown>; alive: boolean } = { lock: Promise.resolve(), alive: true };
  private running = false;
  /** Counters the tests read. */
  private stats = { sleeps: 0, destroys: 0 };

  constructor(ctx: DurableObjectState, env: StandInEnv) {
    super(ctx, env);
    const fromEnv = env.SANDBOX_TRANSPORT;
    this.transport = fromEnv === "rpc" || fromEnv === "websocket" ? fromEnv : "http"; // sdk:7699-7701
    ctx.blockConcurrencyWhile(async () => {
      this.name = (await ctx.storage.get<string>("sandboxName")) ?? null;
      this.transport = (await ctx.storage.get<Transport>("transport")) ?? this.transport;
      this.sleepAfter = (await ctx.storage.get<string | number>("sleepAfter")) ?? this.sleepAfter;
      this.keepAlive = (await ctx.storage.get<boolean>("keepAlive")) ?? false;
    });
  }

  // ---- configuration, as the SDK's getSandbox sends it (sdk:7809) ----

  async configure(configuration: {
    sandboxName?: { name: string; normalizeId?: boolean };
    sleepAfter?: string | number;
    keepAlive?: boolean;
    transport?: Transport;
  }): Promise<void> {
    if (configuration.sandboxName) {
      this.name = configuration.sandboxName.name;
      await this.ctx.storage.put("sandboxName", this.name);
    }
    if (configuration.sleepAfter !== undefined) {
      this.sleepAfter = configuration.sleepAfter;
      await this.ctx.storage.put("sleepAfter", this.sleepAfter);
    }
    if (configuration.keepAlive !== undefined) {
      this.keepAlive = configuration.keepAlive;
      await this.ctx.storage.put("keepAlive", this.keepAlive);
    }
    if (configuration.transport !== undefined) {
      this.transport = configuration.transport;
      await this.ctx.storage.put("transport", this.transport);
    }
    this.touch();
  }

  // ---- test hooks ----

  /** Stops the container as sleepAfter would: files, processes and the default session are gone. */
  async sleep(): Promise<void> {
    await this.stop();
  }

  async setStreamIdle(ms: number): Promise<void> {
    this.streamIdleMs = ms;
  }

  /** The next `count` destroys throw, as a platform error would. */
  async failDestroys(count: number): Promise<void> {
    this.destroyFailures = count;
  }

  async inspect(): Promise<{ transport: Transport; sleepAfter: string | number; keepAlive: boolean; running: boolean; sleeps: number; destroys: number }> {
    return { transport: this.transport, sleepAfter: this.sleepAfter, keepAlive: this.keepAlive, running: this.running, ...this.stats };
  }

  // ---- commands ----

  async exec(command: string, options?: ExecOptions) {
    return this.execWithSession(command, options?.sessionId ?? "default", options);
  }

  async execWithSessionToken(command: string, sessionId: string, options?: ExecOptions) {
    return this.execWithSession(command, sessionId, options);
  }

  async execStream(command: string, options?: ExecOptions): Promise<ReadableStream<Uint8Array>> {
    return this.execStreamWithSession(command, options?.sessionId ?? "default", options);
  }

  async execStreamWithSessionToken(command: string, sessionId: string, options?: ExecOptions): Promise<ReadableStream<Uint8Array>> {
    return this.execStreamWithSession(command, sessionId, options);
  }

  private async execWithSession(command: string, sessionId: string, options?: ExecOptions) {
    this.touch();
    const started = Date.now();
    const env = clean(options?.env);
    if (sessionId === DISABLE_SESSION) {
      // Sessionless: its own process, as the container spawns one per command.
      const r = await this.hostJson<{ exitCode: number; stdout: string; stderr: string }>("POST", "/exec", {
        command,
        env,
        cwd: options?.cwd,
        timeoutMs: options?.timeout,
      });
      return { success: r.exitCode === 0, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, command, duration: Date.now() - started, timestamp: new Date().toISOString() };
    }
    const run = this.inSession(command, env, options?.cwd);
    if (options?.timeout === undefined) return this.sessionResult(await run, command, started);
    // A timeout rejects the call; the command runs on in the shell and keeps its lock.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(sdkError("CommandError", "COMMAND_EXECUTION_ERROR", `Command timed out after ${options.timeout}ms`, 500)), options.timeout);
    });
    try {
      return this.sessionResult(await Promise.race([run, timedOut]), command, started);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  private sessionResult(r: { exitCode: number; stdout: string; stderr: string }, command: string, started: number) {
    // The session reads output up to its marker and drops the final newline.
    const trim = (s: string) => (s.endsWith("\n") ? s.slice(0, -1) : s);
    return { success: r.exitCode === 0, exitCode: r.exitCode, stdout: trim(r.stdout), stderr: trim(r.stderr), command, duration: Date.now() - started, timestamp: new Date().toISOString() };
  }

  /** Runs a command in the default session's shell: state carried in a file, calls one at a time. */
  private inSession(command: string, env: Record<string, string> | undefined, cwd: string | undefined): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const state = "/tmp/.sdk-session-state";
    const script = [
      `[ -f ${state} ] && . ${state}`,
      ...(cwd ? [`cd ${quote(cwd)}`] : []),
      ...Object.entries(env ?? {}).map(([k, v]) => `export ${k}=${quote(v)}`),
      command,
      `__s=$?; { echo "cd $(printf '%s' "$PWD" | sed "s/'/'\\\\''/g;s/^/'/;s/$/'/")"; export -p; } > ${state}; exit $__s`,
    ].join("\n");
    const endsShell = /(^|[;&|\n]\s*|\s)exit(\s|;|$)/.test(command);
    const run = this.session.lock.then(async () => {
      if (!this.session.alive) throw sdkError("SessionTerminatedError", "SESSION_TERMINATED", "Session 'default' was terminated: the shell exited", 410);
      const r = await this.hostJson<{ exitCode: number; stdout: string; stderr: string }>("POST", "/exec", { command: script, timeoutMs: 3_600_000 });
      if (endsShell) this.session.alive = false;
      return r;
    });
    this.session.lock = run.catch(() => {});
    return run;
  }

  private async execStreamWithSession(command: string, sessionId: string, options?: ExecOptions): Promise<ReadableStream<Uint8Array>> {
    this.touch();
    // The container streams without a timeout (it is not passed on for streams).
    const res = await this.host("POST", "/exec/stream", { command, env: clean(options?.env), cwd: options?.cwd });
    const encoder = new TextEncoder();
    const sse = (event: object) => encoder.encode(`data: ${JSON.stringify({ timestamp: new Date().toISOString(), ...event })}\n\n`);
    void sessionId;
    return this.idleCut(
      res.body!.pipeThrough(
        sseMap((event, emit) => {
          if (event.type === "exit") emit(sse({ type: "complete", exitCode: event.exitCode }));
          else if (event.type === "error") emit(sse({ type: "error", error: event.message }));
          else emit(sse({ type: event.type, data: event.data }));
        }, (controller) => controller.enqueue(sse({ type: "start", command }))),
      ),
    );
  }

  // ---- files ----

  async readFile(path: string, options: { encoding?: string; sessionId?: string } = {}) {
    this.touch();
    if (options.encoding === "none") {
      if (this.transport !== "rpc") throw new Error("readFile with encoding: 'none' requires the rpc transport. Set SANDBOX_TRANSPORT=rpc."); // sdk:1868
      if (!inWorkspace(path)) return { success: true, path, ...(await this.readOutside(path)), mimeType: "application/octet-stream", timestamp: new Date().toISOString() };
      const res = await this.host("GET", `/files/content?path=${encodeURIComponent(path)}`);
      return { success: true, path, content: res.body!, size: Number(res.headers.get("content-length")), mimeType: res.headers.get("content-type") ?? "", timestamp: new Date().toISOString() };
    }
    const r = await this.hostJson<{ content: string; encoding: string }>("POST", "/files/read", { path, encoding: options.encoding === "base64" ? "base64" : "utf-8" });
    return { success: true, path, content: r.content, encoding: r.encoding, timestamp: new Date().toISOString() };
  }

  async writeFile(path: string, content: string | ReadableStream<Uint8Array>, options: { encoding?: string; sessionId?: string } = {}) {
    this.touch();
    if (typeof content !== "string" && this.transport !== "rpc") throw new Error("writeFileStream requires the rpc transport. Set SANDBOX_TRANSPORT=rpc."); // sdk:1960
    if (!inWorkspace(path)) {
      // The container writes anywhere (Sandgate puts large stdin in /tmp); the host's file API is
      // /workspace only, so elsewhere the bytes go through the shell in pieces.
      await this.writeOutside(path, typeof content === "string" ? new Response(content).body! : content);
    } else if (typeof content !== "string") {
      await this.host("PUT", `/files/content?path=${encodeURIComponent(path)}`, undefined, content);
    } else {
      await this.host("POST", "/files/write", { path, content, encoding: options.encoding === "base64" ? "base64" : "utf-8" });
    }
    return { success: true, path, timestamp: new Date().toISOString() };
  }

  async listFiles(path: string, options?: { recursive?: boolean }) {
    this.touch();
    const { entries } = await this.hostJson<{ entries: { path: string; name: string; type: string; size: number; mode: number; modifiedAt: string }[] }>(
      "GET",
      `/files?path=${encodeURIComponent(path)}&recursive=${options?.recursive ?? false}`,
    );
    const files = entries.map((e) => ({
      name: e.name,
      absolutePath: e.path,
      relativePath: e.path.slice(path.length + 1),
      type: e.type,
      size: e.size,
      modifiedAt: e.modifiedAt,
      mode: e.mode.toString(8),
      permissions: { readable: true, writable: true, executable: (e.mode & 0o100) !== 0 },
    }));
    return { success: true, path, files, count: files.length, timestamp: new Date().toISOString() };
  }

  async mkdir(path: string, options: { recursive?: boolean } = {}) {
    this.touch();
    await this.host("POST", "/files/mkdir", { path, recursive: options.recursive ?? false });
    return { success: true, path, recursive: options.recursive ?? false, timestamp: new Date().toISOString() };
  }

  /** `mv`: onto an existing directory the source moves into it; onto a file it replaces it. */
  async moveFile(sourcePath: string, destinationPath: string) {
    this.touch();
    let to = destinationPath;
    const stat = await this.host("GET", `/files/stat?path=${encodeURIComponent(destinationPath)}`, undefined, undefined, [404]);
    const type = stat.ok ? ((await stat.json()) as { type: string }).type : (await stat.body?.cancel(), null);
    if (type === "directory") to = `${destinationPath.replace(/\/+$/, "")}/${sourcePath.slice(sourcePath.lastIndexOf("/") + 1)}`;
    await this.host("POST", "/files/move", { from: sourcePath, to, overwrite: true });
    return { success: true, path: sourcePath, newPath: destinationPath, timestamp: new Date().toISOString() };
  }

  async deleteFile(path: string) {
    this.touch();
    if (!inWorkspace(path)) {
      await this.host("POST", "/exec", { argv: ["rm", "--", path] });
      return { success: true, path, timestamp: new Date().toISOString() };
    }
    await this.host("DELETE", `/files?path=${encodeURIComponent(path)}`);
    return { success: true, path, timestamp: new Date().toISOString() };
  }

  async exists(path: string) {
    this.touch();
    const res = await this.host("GET", `/files/stat?path=${encodeURIComponent(path)}`, undefined, undefined, [404]);
    await res.body?.cancel();
    return { success: true, path, exists: res.status === 200, timestamp: new Date().toISOString() };
  }

  /**
   * The container reads anywhere (Sandgate's snapshots make their tar in /tmp); the host's file API
   * is /workspace only, so elsewhere the bytes come through the shell, a piece per pull.
   */
  private async readOutside(path: string): Promise<{ content: ReadableStream<Uint8Array>; size: number }> {
    const stat = await this.hostJson<{ exitCode: number; stdout: string; stderr: string }>("POST", "/exec", { argv: ["stat", "-c", "%s", path], timeoutMs: 60_000 });
    if (stat.exitCode !== 0) throw sdkError("FileNotFoundError", "FILE_NOT_FOUND", `File not found: ${path}`, 404);
    const size = Number(stat.stdout.trim());
    const piece = 768 * 1024;
    let index = 0;
    const content = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (index * piece >= size) return controller.close();
        const argv = ["sh", "-c", `dd if="$0" bs=${piece} skip=${index} count=1 2>/dev/null | base64 -w0`, path];
        const r = await this.hostJson<{ exitCode: number; stdout: string; stderr: string }>("POST", "/exec", { argv, timeoutMs: 60_000 });
        if (r.exitCode !== 0) return controller.error(sdkError("FileSystemError", "FILESYSTEM_ERROR", r.stderr, 500));
        index++;
        controller.enqueue(Uint8Array.from(atob(r.stdout), (c) => c.charCodeAt(0)));
      },
    });
    return { content, size };
  }

  private async writeOutside(path: string, body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    let pending: Uint8Array[] = [];
    let size = 0;
    let first = true;
    const flush = async () => {
      const joined = new Uint8Array(size);
      let at = 0;
      for (const part of pending) (joined.set(part, at), (at += part.byteLength));
      let binary = "";
      for (let i = 0; i < joined.length; i += 0x8000) binary += String.fromCharCode(...joined.subarray(i, i + 0x8000));
      const argv = ["sh", "-c", `base64 -d ${first ? ">" : ">>"} "$0"`, path];
      const r = await this.hostJson<{ exitCode: number; stderr: string }>("POST", "/exec", { argv, stdin: btoa(binary), timeoutMs: 60_000 });
      if (r.exitCode !== 0) throw sdkError("FileSystemError", "FILESYSTEM_ERROR", r.stderr, 500);
      first = false;
      pending = [];
      size = 0;
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (value) (pending.push(value), (size += value.byteLength));
      if (size >= 4 * 1024 * 1024 || (done && (size > 0 || first))) await flush();
      if (done) return;
    }
  }

  // ---- processes ----

  async startProcess(command: string, options?: { processId?: string; env?: Record<string, string | undefined>; cwd?: string; sessionId?: string }) {
    this.touch();
    const processId = options?.processId ?? crypto.randomUUID();
    const info = await this.hostJson<HostProcess>("POST", "/processes", { command, env: clean(options?.env), cwd: options?.cwd, name: processId });
    return this.process({ ...info, endedAt: null });
  }

  async listProcesses() {
    this.touch();
    return (await this.hostProcesses()).map((p) => this.process(p));
  }

  async getProcess(id: string) {
    this.touch();
    const found = await this.find(id);
    return found ? this.process(found) : null;
  }

  async killProcess(id: string, _signal?: string): Promise<void> {
    this.touch();
    const found = await this.find(id);
    if (!found) throw sdkError("ProcessNotFoundError", "PROCESS_NOT_FOUND", `Process not found: ${id}`, 404, { processId: id });
    if (found.status !== "running") throw sdkError("CommandNotFoundError", "COMMAND_NOT_FOUND", `Command '${id}' not found or already completed`, 404);
    const termed = await this.hostJson<HostProcess>("DELETE", `/processes/${found.id}?signal=TERM`);
    if (termed.status === "running") await this.host("DELETE", `/processes/${found.id}?signal=KILL`);
  }

  async getProcessLogs(id: string) {
    this.touch();
    const found = await this.find(id);
    if (!found) throw sdkError("ProcessNotFoundError", "PROCESS_NOT_FOUND", `Process not found: ${id}`, 404, { processId: id });
    const logs = await this.hostLogs(found.id);
    return { stdout: logs.stdout, stderr: logs.stderr, processId: id };
  }

  async streamProcessLogs(processId: string): Promise<ReadableStream<Uint8Array>> {
    this.touch();
    const found = await this.find(processId);
    if (!found) throw sdkError("ProcessNotFoundError", "PROCESS_NOT_FOUND", `Process not found: ${processId}`, 404, { processId });
    const snapshot = await this.hostLogs(found.id);
    const live = await this.host("GET", `/processes/${found.id}/logs/stream?offset=${snapshot.nextOffset}`);
    const encoder = new TextEncoder();
    const timestamp = () => new Date().toISOString();
    const sse = (event: Record<string, unknown>) => encoder.encode(`data: ${JSON.stringify(event)}\n\n`);
    return this.idleCut(
      live.body!.pipeThrough(
        sseMap(
          (event, emit, controller) => {
            if (event.type === "stdout" || event.type === "stderr") {
              emit(sse({ type: event.type, data: event.data ?? "", processId, timestamp: timestamp() }));
            } else if (event.type === "exit") {
              const status = sdkStatus({ status: event.status as HostProcess["status"], exitCode: event.exitCode ?? null });
              emit(sse({ type: "exit", processId, exitCode: event.exitCode ?? undefined, data: `Process ${status} with exit code ${event.exitCode}`, timestamp: timestamp() }));
              controller.terminate();
            } else if (event.type === "error") {
              emit(sse({ type: "error", processId, data: event.message ?? "", timestamp: timestamp() }));
            }
          },
          (controller) => {
            controller.enqueue(sse({ type: "process_info", processId, command: found.argv.at(-1), status: sdkStatus(found), timestamp: timestamp() }));
            if (snapshot.stdout) controller.enqueue(sse({ type: "stdout", data: snapshot.stdout, processId, timestamp: timestamp() }));
            if (snapshot.stderr) controller.enqueue(sse({ type: "stderr", data: snapshot.stderr, processId, timestamp: timestamp() }));
          },
        ),
      ),
    );
  }

  // ---- ports ----

  /** `wsConnect` arrives here: the SDK switches the port into a header (containers' switchPort). */
  override async fetch(request: Request): Promise<Response> {
    const port = Number(request.headers.get("cf-container-target-port") ?? 3000);
    if (port === 3000) return new Response("the stand-in does not model the control plane", { status: 501 });
    return this.toPort(request, port);
  }

  async containerFetch(request: Request, port?: number): Promise<Response> {
    if ((port ?? 3000) === 3000) throw new Error("the stand-in does not model the SDK's control plane on port 3000");
    return this.toPort(request, port!);
  }

  // ---- lifecycle ----

  async destroy(): Promise<void> {
    if (this.destroyFailures > 0) {
      this.destroyFailures--;
      throw new Error("Network connection lost.");
    }
    this.stats.destroys++;
    await this.stop();
  }

  async getState(): Promise<{ status: string; lastChange: number }> {
    return { status: this.running ? "healthy" : "stopped", lastChange: Date.now() };
  }

  // ---- internals ----

  /** Every call is activity: it pushes the sleepAfter deadline (Container.renewActivityTimeout). */
  private touch(): void {
    this.running = true;
    if (this.sleepTimer !== undefined) clearTimeout(this.sleepTimer);
    this.sleepTimer = undefined;
    if (this.keepAlive) return;
    this.sleepTimer = setTimeout(() => void this.stop(), durationMs(this.sleepAfter));
  }

  /** The container stops: its files and processes go, and the default session with them. */
  private async stop(): Promise<void> {
    if (this.sleepTimer !== undefined) clearTimeout(this.sleepTimer);
    this.sleepTimer = undefined;
    const wasRunning = this.running;
    this.running = false;
    this.session = { lock: Promise.resolve(), alive: true };
    this.hostReady = undefined;
    if (wasRunning) this.stats.sleeps++;
    await fetch(`${this.env.HOST_URL}/v1/sandboxes/${this.hostId()}`, { method: "DELETE", headers: { authorization: `Bearer ${this.env.HOST_TOKEN}` } }).then((r) => r.body?.cancel());
  }

  /** Streams the platform cuts when they carry nothing for a while (sdk:1270-1278). */
  private idleCut(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const ms = this.streamIdleMs;
    const reader = stream.getReader();
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const idle = new Promise<"idle">((resolve) => (timer = setTimeout(() => resolve("idle"), ms)));
        const next = await Promise.race([reader.read(), idle]);
        if (timer !== undefined) clearTimeout(timer);
        if (next === "idle") {
          await reader.cancel().catch(() => {});
          controller.error(new Error(`Stream idle timeout after ${ms}ms`));
        } else if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
  }

  private hostId(): string {
    return `cf-${this.name ?? this.ctx.id.toString().slice(0, 40)}`;
  }

  private async toPort(request: Request, port: number): Promise<Response> {
    this.touch();
    await this.ensure();
    const url = new URL(request.url);
    const prefix = `/v1/sandboxes/${this.hostId()}/ports/${port}`;
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${this.env.HOST_TOKEN}`);
    headers.delete("host");
    headers.delete("cf-container-target-port");
    const res = await fetch(`${this.env.HOST_URL}${prefix}${url.pathname}${url.search}`, { method: request.method, headers, body: request.body, redirect: "manual" });
    if (res.status === 502 && res.headers.get("content-type")?.startsWith("application/json")) {
      const envelope = (await res.clone().json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      if (envelope.error?.code === "upstream_unavailable") {
        return new Response(`Error proxying request to container: ${envelope.error.message ?? "connection refused"}`, { status: 500, headers: { "content-type": "text/plain" } });
      }
    }
    const location = res.headers.get("location");
    if (location?.startsWith(prefix) && !res.webSocket) {
      const out = new Response(res.body, res);
      out.headers.set("location", location.slice(prefix.length) || "/");
      return out;
    }
    return res;
  }

  private async hostProcesses(): Promise<HostProcess[]> {
    const { processes } = await this.hostJson<{ processes: HostProcess[] }>("GET", "/processes");
    return processes.filter((p) => p.name !== null);
  }

  private async find(id: string): Promise<HostProcess | undefined> {
    return (await this.hostProcesses()).find((p) => p.name === id);
  }

  private async hostLogs(hostId: string): Promise<{ stdout: string; stderr: string; nextOffset: number }> {
    let stdout = "";
    let stderr = "";
    let offset = 0;
    for (;;) {
      const page = await this.hostJson<{ stdout: string; stderr: string; nextOffset: number }>("GET", `/processes/${hostId}/logs?offset=${offset}&limitBytes=${16 * 1024 * 1024}`);
      stdout += page.stdout;
      stderr += page.stderr;
      if (page.nextOffset === offset) return { stdout, stderr, nextOffset: offset };
      offset = page.nextOffset;
    }
  }

  /** A process as the DO answers it over rpc (sdk:9392 createProcessFromDTO): no endTime, helpers as stubs. */
  private process(info: HostProcess) {
    const id = info.name ?? info.id;
    const command = info.argv.at(-1) ?? "";
    return {
      id,
      pid: undefined,
      command,
      status: sdkStatus(info),
      startTime: new Date(info.startedAt),
      endTime: undefined,
      exitCode: info.exitCode ?? undefined,
      sessionId: undefined,
      kill: (signal?: string) => this.killProcess(id, signal),
      getStatus: async () => (await this.getProcess(id))?.status ?? "error",
      waitForPort: (port: number, options?: WaitOptions) => this.waitForPort(info.id, command, port, options),
    };
  }

  private async waitForPort(hostId: string, command: string, port: number, options: WaitOptions = {}): Promise<void> {
    this.touch();
    const { mode = "http", path = "/", status = { min: 200, max: 399 }, timeout } = options;
    let expected: number | undefined;
    if (typeof status === "number") expected = status;
    else if (status.min !== 200 || status.max !== 399) throw new Error("the stand-in models status ranges of 200-399 only");
    const condition = mode === "http" ? `port ${port} (HTTP ${path})` : `port ${port} (TCP)`;
    const body = { port, timeoutMs: Math.min(timeout ?? 600_000, 600_000), ...(mode === "http" ? { path } : {}), ...(expected === undefined ? {} : { status: expected }) };
    const res = await this.host("POST", `/processes/${hostId}/wait-for-port`, body, undefined, [409, 504]);
    if (res.ok) return void (await res.body?.cancel());
    const envelope = (await res.json()) as { error: { code: string; details?: { exitCode?: number | null } } };
    if (envelope.error.code === "timeout") {
      throw sdkError("ProcessReadyTimeoutError", "PROCESS_READY_TIMEOUT", `Process did not become ready within ${timeout}ms. Waiting for: ${condition}`, 408, { processId: hostId, command, condition, timeout });
    }
    const exitCode = envelope.error.details?.exitCode ?? 1;
    throw sdkError("ProcessExitedBeforeReadyError", "PROCESS_EXITED_BEFORE_READY", `Process exited with code ${exitCode} before becoming ready. Waiting for: ${condition}`, 500, {
      processId: hostId,
      command,
      condition,
      exitCode,
    });
  }

  private ensure(): Promise<void> {
    this.hostReady ??= fetch(`${this.env.HOST_URL}/v1/sandboxes`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.env.HOST_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ id: this.hostId() }),
    }).then(async (res) => {
      await res.body?.cancel();
      if (res.status !== 201 && res.status !== 409) throw new Error(`stand-in could not create its sandbox: ${res.status}`);
    });
    return this.hostReady;
  }

  private async hostJson<T>(method: string, path: string, json?: object): Promise<T> {
    return (await (await this.host(method, path, json)).json()) as T;
  }

  private async host(method: string, path: string, json?: object, raw?: ReadableStream<Uint8Array>, allowed: number[] = []): Promise<Response> {
    await this.ensure();
    const res = await fetch(`${this.env.HOST_URL}/v1/sandboxes/${this.hostId()}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.env.HOST_TOKEN}`, ...(json ? { "content-type": "application/json" } : {}) },
      body: json ? JSON.stringify(json) : raw,
    });
    if (res.ok || allowed.includes(res.status)) return res;
    const envelope = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    const message = envelope.error?.message ?? `HTTP ${res.status}`;
    // The container's codes for what the host reports (shared/errors: FILE_NOT_FOUND 404, FILE_EXISTS 409, ...).
    const byStatus: Record<number, [string, string]> = {
      400: ["ValidationFailedError", "VALIDATION_FAILED"],
      403: ["PermissionDeniedError", "PERMISSION_DENIED"],
      404: ["FileNotFoundError", "FILE_NOT_FOUND"],
      409: ["FileExistsError", "FILE_EXISTS"],
      413: ["FileTooLargeError", "FILE_TOO_LARGE"],
    };
    const [name, code] = byStatus[res.status] ?? ["SandboxError", "INTERNAL_ERROR"];
    throw sdkError(name, code, message, res.status);
  }
}

interface WaitOptions {
  mode?: "http" | "tcp";
  path?: string;
  status?: number | { min: number; max: number };
  timeout?: number;
}

interface HostEvent {
  type: string;
  data?: string;
  exitCode?: number | null;
  status?: string;
  message?: string;
}

/** Re-encodes a host SSE stream event by event. */
function sseMap(
  onEvent: (event: HostEvent, emit: (bytes: Uint8Array) => void, controller: TransformStreamDefaultController<Uint8Array>) => void,
  start?: (controller: TransformStreamDefaultController<Uint8Array>) => void,
): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let buffer = "";
  return new TransformStream<Uint8Array, Uint8Array>({
    start,
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        if (data) onEvent(JSON.parse(data) as HostEvent, (bytes) => controller.enqueue(bytes), controller);
      }
    },
  });
}

/** The SDK's status of a host process, as the container's ProcessManager.interpretExitCode gives it. */
function sdkStatus(info: Pick<HostProcess, "status" | "exitCode">): SdkStatus {
  if (info.status === "running") return "running";
  if (info.status === "killed") return "killed";
  if (info.status === "lost") return "error";
  if (info.exitCode === 0) return "completed";
  return info.exitCode === 137 || info.exitCode === 143 ? "killed" : "failed";
}

function clean(env: Record<string, string | undefined> | undefined): Record<string, string> | undefined {
  if (!env) return undefined;
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

const inWorkspace = (path: string) => path === "/workspace" || path.startsWith("/workspace/");

function quote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

export default {
  fetch: () => new Response("the SDK stand-in is reached through its Durable Object", { status: 404 }),
} satisfies ExportedHandler<StandInEnv>;
