import type { ExecEvent as SdkExecEvent, ISandbox, Sandbox } from "@cloudflare/sandbox";
import type { Backend, ExecSpec, FileStream, SandboxQuery, SandboxRecord } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import { bytesToBase64 } from "../../core/base64.ts";
import { WORKSPACE, type WorkspacePath } from "../../core/paths.ts";
import type { ErrorCode } from "../../schemas/common.ts";
import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import type { FileInfo } from "../../schemas/files.ts";
import type { SandboxInfo } from "../../schemas/sandboxes.ts";
import { capOutput } from "../output.ts";
import { parseServerSentEvents } from "../sse.ts";
import type { RegistryApi } from "./registry.ts";

/**
 * The part of the `@cloudflare/sandbox` SDK Sandgate uses, in the SDK's own types: a change of
 * signature in the SDK breaks this build, and the test stand-in implements exactly this.
 */
export type SandboxSdk = Pick<ISandbox, "exec" | "execStream" | "readFile" | "writeFile" | "listFiles" | "mkdir" | "moveFile" | "deleteFile" | "exists"> &
  Pick<Sandbox, "destroy" | "getState">;

type SdkFileInfo = Awaited<ReturnType<ISandbox["listFiles"]>>["files"][number];

export interface CloudflareBackendOptions {
  /** `getSandbox(env.Sandbox, id)` in the Worker; a stand-in in tests. */
  sandbox(id: string): SandboxSdk;
  /** The registry Durable Object (the SDK has no create, list or metadata of its own). */
  registry: RegistryApi;
  /** Extra time given to an SDK call past the command's own timeout before Sandgate gives up on it. */
  graceMs?: number;
}

/**
 * Sandboxes as Cloudflare containers through `@cloudflare/sandbox`. A thin mapping: the registry
 * Durable Object keeps ids, labels, env and expiry (its alarm destroys expired sandboxes), and every
 * operation becomes the matching SDK call, with SDK errors mapped to Sandgate's codes.
 */
export class CloudflareBackend implements Backend {
  readonly name = "cloudflare";
  private readonly graceMs: number;

  constructor(private readonly options: CloudflareBackendOptions) {
    this.graceMs = options.graceMs ?? 5000;
  }

  async createSandbox(record: SandboxRecord): Promise<SandboxInfo> {
    if (!(await this.options.registry.create(record))) throw errors.conflict(`sandbox '${record.id}' already exists`);
    return this.info(record);
  }

  async getSandbox(id: string): Promise<SandboxInfo> {
    return this.info(await this.record(id));
  }

  async listSandboxes(query: SandboxQuery): Promise<SandboxInfo[]> {
    const records = await this.options.registry.list(query);
    return Promise.all(records.map((r) => this.info(r)));
  }

  async updateSandbox(id: string, patch: { expiresAt?: string; labels?: Record<string, string> }): Promise<SandboxInfo> {
    const record = await this.options.registry.update(id, patch);
    if (!record) throw errors.sandboxNotFound(id);
    return this.info(record);
  }

  async deleteSandbox(id: string): Promise<void> {
    await this.record(id);
    await this.sdk(() => this.options.sandbox(id).destroy());
    await this.options.registry.remove(id);
  }

  async exec(id: string, spec: ExecSpec): Promise<ExecResult> {
    const record = await this.record(id);
    const box = this.options.sandbox(id);
    const command = await this.commandLine(box, spec);
    const started = Date.now();
    // An AbortSignal does not cross Durable Object RPC, so the timeout is raced here as well.
    const outcome = await this.sdk(() =>
      withTimeout(box.exec(command, { timeout: spec.timeoutMs, env: { ...record.env, ...spec.env }, cwd: spec.cwd }), spec.timeoutMs + this.graceMs),
    );
    if (outcome === TIMED_OUT) {
      return { exitCode: 137, stdout: "", stderr: "", durationMs: Date.now() - started, timedOut: true, truncated: false };
    }
    const stdout = capOutput(outcome.stdout, spec.maxOutputBytes);
    const stderr = capOutput(outcome.stderr, spec.maxOutputBytes);
    const timedOut = Date.now() - started >= spec.timeoutMs && outcome.exitCode !== 0;
    return {
      exitCode: outcome.exitCode,
      stdout: stdout.text,
      stderr: stderr.text,
      durationMs: outcome.duration,
      timedOut,
      truncated: stdout.truncated || stderr.truncated,
    };
  }

  async execStream(id: string, spec: ExecSpec, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    const record = await this.record(id);
    const box = this.options.sandbox(id);
    const command = await this.commandLine(box, spec);
    const stream = await this.sdk(() => box.execStream(command, { timeout: spec.timeoutMs, env: { ...record.env, ...spec.env }, cwd: spec.cwd }));
    const started = Date.now();
    return mapExecEvents(parseServerSentEvents<SdkExecEvent>(stream), signal, started, spec.timeoutMs);
  }

  async readFile(id: string, path: WorkspacePath): Promise<FileStream> {
    await this.record(id);
    const file = await this.sdk(() => this.options.sandbox(id).readFile(path.abs, { encoding: "none" }));
    return { body: file.content, size: file.size };
  }

  async writeFile(id: string, path: WorkspacePath, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<FileInfo> {
    await this.record(id);
    const box = this.options.sandbox(id);
    let size = 0;
    const limited = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          if (size > maxBytes) controller.error(errors.tooLarge(`file is larger than the ${maxBytes}-byte limit`, maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    const parent = path.abs.slice(0, path.abs.lastIndexOf("/")) || WORKSPACE;
    await this.sdk(() => box.mkdir(parent, { recursive: true }));
    await this.sdk(() => box.writeFile(path.abs, limited));
    return this.stat(box, path);
  }

  async statFile(id: string, path: WorkspacePath): Promise<FileInfo> {
    await this.record(id);
    return this.stat(this.options.sandbox(id), path);
  }

  async listFiles(id: string, path: WorkspacePath, recursive: boolean, limit: number): Promise<{ entries: FileInfo[]; truncated: boolean }> {
    await this.record(id);
    const result = await this.sdk(() => this.options.sandbox(id).listFiles(path.abs, { recursive, includeHidden: true }));
    const entries = result.files.map(toFileInfo).sort((a, b) => (a.path < b.path ? -1 : 1));
    return { entries: entries.slice(0, limit), truncated: entries.length > limit };
  }

  async mkdir(id: string, path: WorkspacePath, recursive: boolean): Promise<FileInfo> {
    await this.record(id);
    const box = this.options.sandbox(id);
    if (!recursive && (await this.sdk(() => box.exists(path.abs))).exists) throw errors.conflict(`'${path.abs}' already exists`);
    await this.sdk(() => box.mkdir(path.abs, { recursive }));
    return this.stat(box, path);
  }

  async moveFile(id: string, from: WorkspacePath, to: WorkspacePath, overwrite: boolean): Promise<FileInfo> {
    await this.record(id);
    const box = this.options.sandbox(id);
    if (!(await this.sdk(() => box.exists(from.abs))).exists) throw errors.notFound(`no such file or directory: '${from.abs}'`);
    if (!overwrite && (await this.sdk(() => box.exists(to.abs))).exists) throw errors.conflict(`'${to.abs}' exists; pass overwrite: true to replace it`);
    await this.sdk(() => box.moveFile(from.abs, to.abs));
    return this.stat(box, to);
  }

  async deleteFile(id: string, path: WorkspacePath, recursive: boolean): Promise<void> {
    await this.record(id);
    const box = this.options.sandbox(id);
    const info = await this.stat(box, path);
    if (info.type !== "directory") {
      await this.sdk(() => box.deleteFile(path.abs));
      return;
    }
    // The SDK deletes files only; directories go through the shell, as `rm` would.
    const result = await this.sdk(() => box.exec(`${recursive ? "rm -rf" : "rmdir"} -- ${shellQuote(path.abs)}`));
    if (result.exitCode !== 0) throw errors.conflict(`'${path.abs}' is not empty; pass recursive=true to delete it`);
  }

  async close(): Promise<void> {}

  private async record(id: string): Promise<SandboxRecord> {
    const record = await this.options.registry.get(id);
    if (!record) throw errors.sandboxNotFound(id);
    return record;
  }

  /** Status without waking the container: getState reads the Durable Object, not the container. */
  private async info(record: SandboxRecord): Promise<SandboxInfo> {
    let status: SandboxInfo["status"] = "ready";
    try {
      const state = await this.options.sandbox(record.id).getState();
      status = state.status === "running" || state.status === "healthy" ? "ready" : "sleeping";
    } catch {
      status = "unavailable";
    }
    return { id: record.id, status, network: record.network ?? "egress", createdAt: record.createdAt, expiresAt: record.expiresAt, labels: record.labels };
  }

  /** The SDK runs shell command lines; argv is quoted into one, and stdin comes from a file. */
  private async commandLine(box: SandboxSdk, spec: ExecSpec): Promise<string> {
    const isShell = spec.argv.length === 3 && spec.argv[0] === "/bin/sh" && spec.argv[1] === "-c";
    let command = isShell ? (spec.argv[2] ?? "") : spec.argv.map(shellQuote).join(" ");
    if (spec.stdin !== undefined && spec.stdin.length <= INLINE_STDIN) {
      command = `printf '%s' '${bytesToBase64(new TextEncoder().encode(spec.stdin))}' | base64 -d | (${command})`;
    } else if (spec.stdin !== undefined) {
      const file = `/tmp/.sandgate-stdin-${crypto.randomUUID()}`;
      await this.sdk(() => box.writeFile(file, spec.stdin ?? ""));
      command = `(${command}) < ${file}; status=$?; rm -f ${file}; exit $status`;
    }
    return command;
  }

  private async stat(box: SandboxSdk, path: WorkspacePath): Promise<FileInfo> {
    if (path.rel === "") return { path: WORKSPACE, name: "workspace", type: "directory", size: 0, mode: 0o755, modifiedAt: new Date(0).toISOString() };
    const parent = path.abs.slice(0, path.abs.lastIndexOf("/")) || "/";
    const name = path.abs.slice(path.abs.lastIndexOf("/") + 1);
    const listing = await this.sdk(() => box.listFiles(parent, { includeHidden: true }));
    const entry = listing.files.find((f) => f.name === name);
    if (!entry) throw errors.notFound(`no such file or directory: '${path.abs}'`);
    return toFileInfo(entry);
  }

  /** Runs an SDK call, turning its typed errors into Sandgate's. */
  private async sdk<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw fromSdkError(err);
    }
  }
}

const TIMED_OUT = Symbol("timed out");
/** Stdin up to this size travels inside the command line; more goes through a temporary file. */
const INLINE_STDIN = 64 * 1024;


function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)))]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

async function* mapExecEvents(events: AsyncIterable<SdkExecEvent>, signal: AbortSignal, started: number, timeoutMs: number): AsyncGenerator<ExecEvent> {
  for await (const event of events) {
    if (signal.aborted) return;
    switch (event.type) {
      case "stdout":
      case "stderr":
        if (event.data) yield { type: event.type, data: event.data };
        break;
      case "complete": {
        const durationMs = Date.now() - started;
        yield { type: "exit", exitCode: event.exitCode ?? event.result?.exitCode ?? 0, durationMs, timedOut: durationMs >= timeoutMs };
        return;
      }
      case "error":
        yield { type: "error", code: "internal", message: event.error ?? "the command failed" };
        return;
    }
  }
}

export function fromSdkError(err: unknown): SandgateError {
  if (err instanceof SandgateError) return err;
  const sdk = err as { name?: string; message?: string; httpStatus?: number; context?: { retryAfterMs?: number } };
  const message = sdk?.message ?? "the sandbox failed";
  if (sdk?.name === "ContainerUnavailableError" || sdk?.name === "OperationInterruptedError" || sdk?.name === "RPCTransportError") {
    return new SandgateError("sandbox_unavailable", message, { retryAfterMs: sdk.context?.retryAfterMs ?? 1000 });
  }
  const byStatus: Record<number, ErrorCode> = { 400: "invalid_request", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "payload_too_large", 503: "sandbox_unavailable" };
  const code = sdk?.httpStatus !== undefined ? byStatus[sdk.httpStatus] : undefined;
  if (code) return new SandgateError(code, message);
  if (/not found|no such file/i.test(message)) return new SandgateError("not_found", message);
  return new SandgateError("internal", "the sandbox runtime failed");
}

function toFileInfo(file: SdkFileInfo): FileInfo {
  return { path: file.absolutePath, name: file.name, type: file.type, size: file.size, mode: parseMode(file.mode), modifiedAt: new Date(file.modifiedAt).toISOString() };
}

/** The SDK reports modes as text: octal ("644", "0755") or symbolic ("rw-r--r--"). */
function parseMode(mode: string): number {
  if (/^[0-7]{3,4}$/.test(mode)) return Number.parseInt(mode, 8);
  const bits = mode.slice(-9);
  if (bits.length !== 9) return 0;
  let value = 0;
  for (let i = 0; i < 9; i++) if (bits[i] !== "-") value |= 1 << (8 - i);
  return value;
}

export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\-./=:,+@%]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
