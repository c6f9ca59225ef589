/**
 * A stand-in for the `@cloudflare/sandbox` SDK, for machines without Cloudflare containers.
 *
 * It implements exactly the SDK methods CloudflareBackend uses (`SandboxSdk`, in the SDK's own
 * types, so an SDK signature change breaks the build) by running them for real on a Sandgate Node
 * host: each SDK sandbox is a bubblewrap sandbox there, created on first use, as SDK sandboxes
 * exist implicitly by name. Semantics kept from the SDK: `exec` takes a shell command line and
 * returns `{success, exitCode, stdout, stderr, duration, ...}`; `execStream` answers SSE bytes of
 * `start` / `stdout` / `stderr` / `complete` events; `readFile(path, {encoding: "none"})` streams;
 * `listFiles` answers `{files: [{name, absolutePath, type, size, mode, ...}]}` with octal modes;
 * `exists` answers `{exists}`; `getState` reads state without waking (always "healthy" here);
 * `destroy` removes the container and its files.
 *
 * Processes, as the SDK 0.12 has them (read from its source: `Sandbox.startProcess`,
 * `createProcessFromDTO`, the container's process handler and `Session.killCommand`): the caller
 * picks the process id; `listProcesses` answers no `endTime` (the container's list leaves it out),
 * `getProcess` does, and answers null for an unknown id; statuses are `running`, `completed`
 * (exit 0), `failed`, `killed` (exit 137/143 or a kill) and `error`; `killProcess(id, signal)`
 * ignores the signal and ends the process tree with TERM, then KILL (after a grace), and throws for
 * a process that already ended; `getProcessLogs` answers whole `stdout` and `stderr` strings;
 * `streamProcessLogs` answers SSE of `process_info`, then all of stdout as one event, all of stderr
 * as one event, then live `stdout`/`stderr` events and a last `exit`; `Process.waitForPort(port,
 * {mode, path, status, timeout})` defaults to HTTP on `/` answering 200-399 and throws
 * ProcessReadyTimeoutError / ProcessExitedBeforeReadyError. Each host process is named after its
 * SDK id, so the stand-in keeps no state of its own.
 *
 * Ports: `containerFetch(request, port)` and `wsConnect(request, port)` reach the port through the
 * host's port proxy; nothing listening answers the container's own `500 Error proxying request to
 * container: ...`; `wsConnect` refuses ports outside 1024-65535 and 3000 with SandboxSecurityError.
 *
 * Not modelled: cold starts, sleeping, the platform's transient errors (their mapping is tested on
 * its own with the SDK's error types), sessions, and the Process helpers Sandgate does not call.
 */
import type { LogEvent, Process, ProcessStatus, WaitForPortOptions } from "@cloudflare/sandbox";
import type { SandboxSdk } from "../src/backends/cloudflare/index.ts";
import type { ProcessInfo, ProcessLogs } from "../src/schemas/processes.ts";

type Sdk = SandboxSdk;
type SdkFile = Awaited<ReturnType<Sdk["listFiles"]>>["files"][number];
/** The SDK's ReadFileStreamResult (not exported by name). */
interface StreamedRead {
  success: true;
  path: string;
  content: ReadableStream<Uint8Array>;
  size: number;
  mimeType: string;
  timestamp: string;
}

export class SdkStandIn implements Sdk {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly hostUrl: string,
    private readonly token: string,
    private readonly id: string,
  ) {}

  async exec(command: string, options?: Parameters<Sdk["exec"]>[1]): ReturnType<Sdk["exec"]> {
    const res = await this.call("POST", "/exec", { command, env: clean(options?.env), cwd: options?.cwd, timeoutMs: options?.timeout });
    const r = (await res.json()) as { exitCode: number; stdout: string; stderr: string; durationMs: number };
    return { success: r.exitCode === 0, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, command, duration: r.durationMs, timestamp: new Date().toISOString() };
  }

  async execStream(command: string, options?: Parameters<Sdk["execStream"]>[1]): ReturnType<Sdk["execStream"]> {
    const res = await this.call("POST", "/exec/stream", { command, env: clean(options?.env), cwd: options?.cwd, timeoutMs: options?.timeout });
    // Re-encode Sandgate's events as the SDK's SSE events.
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    let buffer = "";
    const sse = (event: object) => encoder.encode(`data: ${JSON.stringify({ timestamp: new Date().toISOString(), ...event })}\n\n`);
    return res.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        start: (controller) => controller.enqueue(sse({ type: "start", command })),
        transform(chunk, controller) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
            buffer = buffer.slice(end + 2);
            if (!data) continue;
            const event = JSON.parse(data) as { type: string; data?: string; exitCode?: number; message?: string };
            if (event.type === "exit") controller.enqueue(sse({ type: "complete", exitCode: event.exitCode }));
            else if (event.type === "error") controller.enqueue(sse({ type: "error", error: event.message }));
            else controller.enqueue(sse({ type: event.type, data: event.data }));
          }
        },
      }),
    );
  }

  readFile(path: string, options: { encoding: "none" }): Promise<StreamedRead>;
  readFile(path: string, options?: { encoding?: "utf-8" | "utf8" | "base64" }): ReturnType<Sdk["readFile"]>;
  async readFile(path: string, options?: { encoding?: string }): Promise<StreamedRead | Awaited<ReturnType<Sdk["readFile"]>>> {
    if (options?.encoding !== "none") throw new Error("the stand-in implements the streaming read only");
    const res = await this.call("GET", `/files/content?path=${encodeURIComponent(path)}`);
    return { success: true, path, content: res.body!, size: Number(res.headers.get("content-length")), mimeType: res.headers.get("content-type") ?? "", timestamp: new Date().toISOString() };
  }

  async writeFile(path: string, content: string | ReadableStream<Uint8Array>): ReturnType<Sdk["writeFile"]> {
    await this.call("PUT", `/files/content?path=${encodeURIComponent(path)}`, undefined, content);
    return { success: true, path, timestamp: new Date().toISOString() };
  }

  async listFiles(path: string, options?: Parameters<Sdk["listFiles"]>[1]): ReturnType<Sdk["listFiles"]> {
    const res = await this.call("GET", `/files?path=${encodeURIComponent(path)}&recursive=${options?.recursive ?? false}`);
    const { entries } = (await res.json()) as { entries: { path: string; name: string; type: SdkFile["type"]; size: number; mode: number; modifiedAt: string }[] };
    const files: SdkFile[] = entries.map((e) => ({
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

  async mkdir(path: string, options?: { recursive?: boolean }): ReturnType<Sdk["mkdir"]> {
    await this.call("POST", "/files/mkdir", { path, recursive: options?.recursive ?? false });
    return { success: true, path, recursive: options?.recursive ?? false, timestamp: new Date().toISOString() };
  }

  async moveFile(sourcePath: string, destinationPath: string): ReturnType<Sdk["moveFile"]> {
    await this.call("POST", "/files/move", { from: sourcePath, to: destinationPath, overwrite: true });
    return { success: true, path: sourcePath, newPath: destinationPath, timestamp: new Date().toISOString() };
  }

  async deleteFile(path: string): ReturnType<Sdk["deleteFile"]> {
    await this.call("DELETE", `/files?path=${encodeURIComponent(path)}`);
    return { success: true, path, timestamp: new Date().toISOString() };
  }

  async exists(path: string): ReturnType<Sdk["exists"]> {
    const res = await this.call("GET", `/files/stat?path=${encodeURIComponent(path)}`, undefined, undefined, [404]);
    return { success: true, path, exists: res.status === 200, timestamp: new Date().toISOString() };
  }

  async startProcess(command: string, options?: Parameters<Sdk["startProcess"]>[1]): ReturnType<Sdk["startProcess"]> {
    const processId = options?.processId ?? crypto.randomUUID();
    const res = await this.call("POST", "/processes", { command, env: clean(options?.env), cwd: options?.cwd, name: processId });
    return this.process((await res.json()) as ProcessInfo);
  }

  async listProcesses(): ReturnType<Sdk["listProcesses"]> {
    // The container's list has no endTime.
    return (await this.hostProcesses()).map((p) => this.process({ ...p, endedAt: null }));
  }

  async getProcess(id: string): ReturnType<Sdk["getProcess"]> {
    const found = await this.find(id);
    return found ? this.process(found) : null;
  }

  async killProcess(id: string, _signal?: string): Promise<void> {
    const found = await this.find(id);
    if (!found) throw sdkError("ProcessNotFoundError", `Process ${id} not found`, 404);
    if (found.status !== "running") throw sdkError("CommandNotFoundError", `Command '${id}' not found or already completed`, 404);
    // As Session.killCommand: TERM to the tree, then KILL to whatever survived the grace.
    const termed = (await (await this.call("DELETE", `/processes/${found.id}?signal=TERM`)).json()) as ProcessInfo;
    if (termed.status === "running") await this.call("DELETE", `/processes/${found.id}?signal=KILL`);
  }

  async getProcessLogs(id: string): ReturnType<Sdk["getProcessLogs"]> {
    const found = await this.find(id);
    if (!found) throw sdkError("ProcessNotFoundError", `Process ${id} not found`, 404);
    const logs = await this.hostLogs(found.id);
    return { stdout: logs.stdout, stderr: logs.stderr, processId: id };
  }

  async streamProcessLogs(processId: string, options?: { signal?: AbortSignal }): ReturnType<Sdk["streamProcessLogs"]> {
    if (options?.signal?.aborted) throw new Error("Operation was aborted");
    const found = await this.find(processId);
    if (!found) throw sdkError("ProcessNotFoundError", `Process ${processId} not found`, 404);
    const snapshot = await this.hostLogs(found.id);
    const live = await this.call("GET", `/processes/${found.id}/logs/stream?offset=${snapshot.nextOffset}`);
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    const timestamp = () => new Date().toISOString();
    const sse = (event: Record<string, unknown>) => encoder.encode(`data: ${JSON.stringify(event)}\n\n`);
    let buffer = "";
    return live.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        start(controller) {
          controller.enqueue(sse({ type: "process_info", processId, command: found.argv.at(-1), status: sdkStatus(found), timestamp: timestamp() }));
          if (snapshot.stdout) controller.enqueue(sse({ type: "stdout", data: snapshot.stdout, processId, timestamp: timestamp() } satisfies LogEvent));
          if (snapshot.stderr) controller.enqueue(sse({ type: "stderr", data: snapshot.stderr, processId, timestamp: timestamp() } satisfies LogEvent));
        },
        transform(chunk, controller) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
            buffer = buffer.slice(end + 2);
            if (!data) continue;
            const event = JSON.parse(data) as { type: string; data?: string; exitCode?: number | null; status?: string; message?: string };
            if (event.type === "stdout" || event.type === "stderr") {
              controller.enqueue(sse({ type: event.type, data: event.data ?? "", processId, timestamp: timestamp() } satisfies LogEvent));
            } else if (event.type === "exit") {
              const status = sdkStatus({ status: event.status as ProcessInfo["status"], exitCode: event.exitCode ?? null });
              const exitCode = event.exitCode ?? undefined;
              controller.enqueue(sse({ type: "exit", processId, exitCode, data: `Process ${status} with exit code ${exitCode}`, timestamp: timestamp() }));
              controller.terminate();
            } else if (event.type === "error") {
              controller.enqueue(sse({ type: "error", processId, data: event.message ?? "", timestamp: timestamp() } satisfies LogEvent));
            }
          }
        },
      }),
    );
  }

  async wsConnect(request: Request, port: number): Promise<Response> {
    if (!Number.isInteger(port) || port < 1024 || port > 65535 || port === 3000) {
      throw Object.assign(new Error(`Invalid port number: ${port}. Must be 1024-65535, excluding 3000 (sandbox control plane).`), { name: "SandboxSecurityError" });
    }
    return this.toPort(request, port);
  }

  containerFetch(request: Request, port?: number): Promise<Response>;
  containerFetch(url: string | URL, init?: RequestInit, port?: number): Promise<Response>;
  containerFetch(url: string | URL, port?: number): Promise<Response>;
  async containerFetch(requestOrUrl: Request | string | URL, portOrInit?: number | RequestInit, portParam?: number): Promise<Response> {
    // As Sandbox.parseContainerFetchArgs.
    let request: Request;
    let port: number | undefined;
    if (requestOrUrl instanceof Request) {
      request = requestOrUrl;
      port = typeof portOrInit === "number" ? portOrInit : undefined;
    } else {
      request = new Request(requestOrUrl.toString(), typeof portOrInit === "number" ? {} : (portOrInit ?? {}));
      port = typeof portOrInit === "number" ? portOrInit : portParam;
    }
    port ??= 3000;
    if (port === 3000) throw new Error("the stand-in does not model the SDK's control plane on port 3000");
    return this.toPort(request, port);
  }

  async destroy(): Promise<void> {
    await fetch(`${this.hostUrl}/v1/sandboxes/${this.id}`, { method: "DELETE", headers: { authorization: `Bearer ${this.token}` } });
    this.ready = undefined;
  }

  async getState(): ReturnType<Sdk["getState"]> {
    return { status: "healthy", lastChange: Date.now() };
  }

  /** A request to a port of the container, through the host's port proxy, answered as the container would. */
  private async toPort(request: Request, port: number): Promise<Response> {
    await this.ensure();
    const url = new URL(request.url);
    const prefix = `/v1/sandboxes/${this.id}/ports/${port}`;
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${this.token}`);
    headers.delete("host");
    const res = await fetch(`${this.hostUrl}${prefix}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
    });
    if (res.status === 502 && res.headers.get("content-type")?.startsWith("application/json")) {
      const envelope = (await res.clone().json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      if (envelope.error?.code === "upstream_unavailable") {
        // The container's own answer when nothing listens (Container.containerFetch).
        return new Response(`Error proxying request to container: ${envelope.error.message ?? "connection refused"}`, { status: 500 });
      }
    }
    // The container answers as the app did: no proxy prefix in redirects.
    const location = res.headers.get("location");
    if (location?.startsWith(prefix) && !res.webSocket) {
      const out = new Response(res.body, res);
      out.headers.set("location", location.slice(prefix.length) || "/");
      return out;
    }
    return res;
  }

  /** The host processes the stand-in started, each named after its SDK id. */
  private async hostProcesses(): Promise<ProcessInfo[]> {
    const res = await this.call("GET", "/processes");
    return ((await res.json()) as { processes: ProcessInfo[] }).processes.filter((p) => p.name !== null);
  }

  private async find(id: string): Promise<ProcessInfo | undefined> {
    return (await this.hostProcesses()).find((p) => p.name === id);
  }

  /** The whole output so far, each stream joined, and where it ends in the host's log. */
  private async hostLogs(hostId: string): Promise<{ stdout: string; stderr: string; nextOffset: number }> {
    let stdout = "";
    let stderr = "";
    let offset = 0;
    for (;;) {
      const res = await this.call("GET", `/processes/${hostId}/logs?offset=${offset}&limitBytes=${16 * 1024 * 1024}`);
      const page = (await res.json()) as ProcessLogs;
      stdout += page.stdout;
      stderr += page.stderr;
      if (page.nextOffset === offset) return { stdout, stderr, nextOffset: offset };
      offset = page.nextOffset;
    }
  }

  /** A host process as the SDK's Process (createProcessFromDTO), its helpers bound to this sandbox. */
  private process(info: ProcessInfo): Process {
    const id = info.name ?? info.id;
    const command = info.argv.at(-1) ?? "";
    return {
      id,
      pid: undefined,
      command,
      status: sdkStatus(info),
      startTime: new Date(info.startedAt),
      endTime: info.endedAt ? new Date(info.endedAt) : undefined,
      exitCode: info.exitCode ?? undefined,
      sessionId: undefined,
      kill: (signal?: string) => this.killProcess(id, signal),
      getStatus: async () => (await this.getProcess(id))?.status ?? "error",
      getLogs: async () => {
        const logs = await this.getProcessLogs(id);
        return { stdout: logs.stdout, stderr: logs.stderr };
      },
      waitForPort: (port: number, options?: WaitForPortOptions) => this.waitForPort(info.id, command, port, options),
      waitForLog: () => Promise.reject(new Error("the stand-in does not model Process.waitForLog")),
      waitForExit: () => Promise.reject(new Error("the stand-in does not model Process.waitForExit")),
    };
  }

  /** As Sandbox.waitForPortReady: HTTP on `/` answering 200-399 unless told otherwise, no timeout unless given. */
  private async waitForPort(hostId: string, command: string, port: number, options: WaitForPortOptions = {}): Promise<void> {
    const { mode = "http", path = "/", status = { min: 200, max: 399 }, timeout } = options;
    let expected: number | undefined;
    if (typeof status === "number") expected = status;
    else if (status.min !== 200 || status.max !== 399) throw new Error("the stand-in models status ranges of 200-399 only");
    const condition = mode === "http" ? `port ${port} (HTTP ${path})` : `port ${port} (TCP)`;
    const body = { port, timeoutMs: Math.min(timeout ?? 600_000, 600_000), ...(mode === "http" ? { path } : {}), ...(expected === undefined ? {} : { status: expected }) };
    const res = await this.call("POST", `/processes/${hostId}/wait-for-port`, body, undefined, [409, 504]);
    if (res.ok) return;
    const envelope = (await res.json()) as { error: { code: string; details?: { exitCode?: number | null } } };
    if (envelope.error.code === "timeout") {
      throw sdkError("ProcessReadyTimeoutError", `Process did not become ready within ${timeout}ms. Waiting for: ${condition}`, 408, { processId: hostId, command, condition, timeout });
    }
    const exitCode = envelope.error.details?.exitCode ?? 1;
    throw sdkError("ProcessExitedBeforeReadyError", `Process exited with code ${exitCode} before becoming ready. Waiting for: ${condition}`, 500, { processId: hostId, command, condition, exitCode });
  }

  /** SDK sandboxes exist by name: the backing sandbox is made on first use. */
  private ensure(): Promise<void> {
    this.ready ??= fetch(`${this.hostUrl}/v1/sandboxes`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: JSON.stringify({ id: this.id }),
    }).then((res) => {
      if (res.status !== 201 && res.status !== 409) throw new Error(`stand-in could not create its sandbox: ${res.status}`);
    });
    return this.ready;
  }

  private async call(method: string, path: string, json?: object, raw?: string | ReadableStream<Uint8Array>, allowed: number[] = []): Promise<Response> {
    await this.ensure();
    const res = await fetch(`${this.hostUrl}/v1/sandboxes/${this.id}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(json ? { "content-type": "application/json" } : {}) },
      body: json ? JSON.stringify(json) : raw,
    });
    if (res.ok || allowed.includes(res.status)) return res;
    // The SDK throws errors that carry the container's HTTP status.
    const envelope = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw Object.assign(new Error(envelope.error?.message ?? `HTTP ${res.status}`), { name: "SandboxError", httpStatus: res.status });
  }
}

/** The SDK's status of a host process, as the container's ProcessManager.interpretExitCode gives it. */
function sdkStatus(info: Pick<ProcessInfo, "status" | "exitCode">): ProcessStatus {
  if (info.status === "running") return "running";
  if (info.status === "killed") return "killed";
  if (info.status === "lost") return "error";
  if (info.exitCode === 0) return "completed";
  return info.exitCode === 137 || info.exitCode === 143 ? "killed" : "failed";
}

/** The SDK's errors carry the container's HTTP status and a context. */
function sdkError(name: string, message: string, httpStatus: number, context: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, httpStatus, context });
}

function clean(env: Record<string, string | undefined> | undefined): Record<string, string> | undefined {
  if (!env) return undefined;
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
