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
 * `destroy` removes the container and its files. Not modelled: cold starts, sleeping, the
 * platform's transient errors (their mapping is tested on its own with the SDK's error types).
 */
import type { SandboxSdk } from "../src/backends/cloudflare/index.ts";

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

  async destroy(): Promise<void> {
    await fetch(`${this.hostUrl}/v1/sandboxes/${this.id}`, { method: "DELETE", headers: { authorization: `Bearer ${this.token}` } });
    this.ready = undefined;
  }

  async getState(): ReturnType<Sdk["getState"]> {
    return { status: "healthy", lastChange: Date.now() };
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

function clean(env: Record<string, string | undefined> | undefined): Record<string, string> | undefined {
  if (!env) return undefined;
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
