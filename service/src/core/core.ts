import type { CreateSandboxBody, SandboxInfo, UpdateSandboxBody } from "../schemas/sandboxes.ts";
import type { ExecBody, ExecEvent, ExecResult } from "../schemas/exec.ts";
import type { Encoding, FileContent, FileInfo } from "../schemas/files.ts";
import type { Backend, ExecSpec, ExpiryChange, FileStream } from "./backend.ts";
import type { CreateTokenBody, ScopedToken } from "../schemas/tokens.ts";
import type { GitCheckoutBody, GitCheckoutResult } from "../schemas/git.ts";
import type { CreatePortLinkBody, PortLink } from "../schemas/ports.ts";
import type {
  ProcessInfo,
  ProcessLogEvent,
  ProcessLogs,
  Signal,
  StartProcessBody,
  WaitForLogBody,
  WaitForPortBody,
  WaitResult,
} from "../schemas/processes.ts";
import { type Principal, mintPortLink, mintScopedToken } from "./auth.ts";
import { gitCheckout } from "./git.ts";
import { base64ToBytes, bytesToBase64 } from "../schemas/base64.ts";
import { generateId } from "./ids.ts";
import { decodeCursor, encodeCursor, parseLabels } from "./listing.ts";
import { SandgateError, errors } from "./errors.ts";
import type { ErrorCode } from "../schemas/common.ts";
import { resolveCwd, resolveWorkspacePath } from "./paths.ts";

export const VERSION = "0.1.0";

export interface Limits {
  defaultTtlSeconds: number;
  defaultTimeoutMs: number;
  /** Per output stream of a buffered exec. */
  maxOutputBytes: number;
  /** Largest body of a raw file write. */
  maxFileBytes: number;
  /** Largest file read or written through the JSON file routes (the content sits in memory there). */
  maxJsonFileBytes: number;
  maxListEntries: number;
  /** Default byte limit of a buffered log read. */
  defaultLogBytes: number;
  /** How long wait-for-port and wait-for-log wait when the caller does not say. */
  defaultWaitMs: number;
  /** Largest snapshot (logical bytes of its files), taken or imported. */
  maxSnapshotBytes: number;
}

export const defaultLimits: Limits = {
  defaultTtlSeconds: 3600,
  defaultTimeoutMs: 60_000,
  maxOutputBytes: 10 * 1024 * 1024,
  maxFileBytes: 1024 * 1024 * 1024,
  maxJsonFileBytes: 32 * 1024 * 1024,
  maxListEntries: 10_000,
  defaultLogBytes: 1024 * 1024,
  defaultWaitMs: 30_000,
  maxSnapshotBytes: 10 * 1024 ** 3,
};

type Id = { id: string };
type ProcessRef = { id: string; processId: string };

/** The query parameter that carries a port link's signature (see auth.ts). */
export const PORT_LINK_PARAM = "sandgate_link";

/** Longest stretch of a line a wait-for-log pattern is run against. */
const MAX_MATCHED_LINE = 4096;

const utf8Length = (text: string) => new TextEncoder().encode(text).byteLength;

/**
 * The operations of Sandgate, one method each, over any Backend. Surfaces validate the shape of
 * input with the schemas and call these; everything that makes a request valid beyond its shape
 * (paths, limits, TTLs, defaults) happens here, so it is the same on every surface.
 */
export class SandgateCore {
  constructor(
    readonly backend: Backend,
    readonly limits: Limits = defaultLimits,
    private readonly now: () => number = Date.now,
    /** The API token, which signs scoped tokens; without one there are none. */
    private readonly apiToken?: string,
  ) {}

  /** Now, by this core's clock (tests may set it). */
  clock(): number {
    return this.now();
  }

  async health() {
    const snapshots = this.backend.snapshots?.usage?.();
    return { ok: true, version: VERSION, backend: this.backend.name, ...(snapshots ? { snapshots } : {}) };
  }

  async createSandbox(input: CreateSandboxBody): Promise<SandboxInfo> {
    if (input.fromSnapshot !== undefined) {
      if (input.git) throw errors.invalid("give git or fromSnapshot, not both");
      if (!this.backend.snapshots) throw new SandgateError("not_implemented", `snapshots are not implemented on the '${this.backend.name}' backend yet`);
      await this.backend.snapshots.get(input.fromSnapshot); // an unknown snapshot: 404 before any sandbox is made
    }
    const created = this.now();
    const info = await this.backend.createSandbox({
      id: input.id ?? generateId(),
      // Tells this sandbox from any later one under the same id: scoped tokens and links are bound to it.
      instance: generateId("i-", 20),
      labels: input.labels ?? {},
      env: input.env ?? {},
      network: input.network ?? "egress",
      createdAt: new Date(created).toISOString(),
      expiresAt: new Date(created + (input.ttlSeconds ?? this.limits.defaultTtlSeconds) * 1000).toISOString(),
    });
    if (input.git) {
      // A sandbox whose repository did not arrive is not the sandbox asked for: none is left.
      try {
        await this.gitCheckout({ id: info.id, ...input.git });
      } catch (err) {
        await this.backend.deleteSandbox(info.id).catch(() => {});
        throw err;
      }
    }
    if (input.fromSnapshot !== undefined) {
      // Likewise: a sandbox whose workspace did not arrive is not left behind.
      try {
        await this.backend.snapshots!.restore(info.id, input.fromSnapshot, { killProcesses: false });
      } catch (err) {
        await this.backend.deleteSandbox(info.id).catch(() => {});
        throw err;
      }
    }
    return info;
  }

  async getSandbox({ id }: Id): Promise<SandboxInfo> {
    return this.backend.getSandbox(id);
  }

  /** The sandbox's current instance, undefined when there is none by that id (what AuthConfig.sandboxInstance asks). */
  async sandboxInstance(id: string): Promise<string | undefined> {
    if (this.backend.sandboxInstance) return this.backend.sandboxInstance(id);
    try {
      return (await this.backend.getSandbox(id)).instance;
    } catch (err) {
      if (err instanceof SandgateError && err.code === "not_found") return undefined;
      throw err;
    }
  }

  async listSandboxes(input: { label?: string | string[]; limit?: number; cursor?: string }) {
    const labels = parseLabels(input.label, "label filter");
    const limit = input.limit ?? 100;
    const page = await this.backend.listSandboxes({ labels, limit: limit + 1, after: decodeCursor(input.cursor) });
    const sandboxes = page.slice(0, limit);
    const last = sandboxes.at(-1);
    return { sandboxes, nextCursor: page.length > limit && last ? encodeCursor(last.id) : null };
  }

  async updateSandbox({ id, ...patch }: Id & UpdateSandboxBody): Promise<SandboxInfo> {
    const expiry: ExpiryChange | undefined =
      patch.ttlSeconds !== undefined ? { ttlSeconds: patch.ttlSeconds } : patch.extendBySeconds !== undefined ? { extendBySeconds: patch.extendBySeconds } : undefined;
    return this.backend.updateSandbox(id, { labels: patch.labels, env: patch.env, expiry }, this.now());
  }

  /** Mints a token limited to one sandbox and some scopes, for handing to less trusted code. */
  async createToken(input: CreateTokenBody): Promise<ScopedToken> {
    if (!this.apiToken) throw errors.invalid("scoped tokens need an API token: set SANDGATE_TOKEN");
    const { instance } = await this.backend.getSandbox(input.sandboxId);
    const expiresAt = new Date(this.now() + (input.ttlSeconds ?? 3600) * 1000).toISOString();
    const token = await mintScopedToken(this.apiToken, { sandboxId: input.sandboxId, instance, scopes: input.scopes, expiresAt });
    return { token, sandboxId: input.sandboxId, scopes: input.scopes, expiresAt };
  }

  async deleteSandbox({ id }: Id): Promise<void> {
    await this.backend.deleteSandbox(id);
  }

  async exec({ id, ...input }: Id & ExecBody, signal?: AbortSignal): Promise<ExecResult> {
    return this.backend.exec(id, this.execSpec(input), signal);
  }

  async execStream({ id, ...input }: Id & ExecBody, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    return this.backend.execStream(id, this.execSpec(input), signal);
  }

  async readFile({ id, path }: Id & { path: string }): Promise<FileStream> {
    return this.backend.readFile(id, resolveWorkspacePath(path));
  }

  async writeFile({ id, path, body }: Id & { path: string; body: ReadableStream<Uint8Array> }, declaredLength?: number): Promise<FileInfo> {
    const target = resolveWorkspacePath(path);
    if (declaredLength !== undefined && declaredLength > this.limits.maxFileBytes) {
      await body.cancel().catch(() => {});
      throw errors.tooLarge(`file is larger than the ${this.limits.maxFileBytes}-byte limit`, this.limits.maxFileBytes);
    }
    return this.backend.writeFile(id, target, body, this.limits.maxFileBytes);
  }

  async readFileJson({ id, path, encoding }: Id & { path: string; encoding: Encoding }): Promise<FileContent> {
    const target = resolveWorkspacePath(path);
    const file = await this.backend.readFile(id, target);
    if (file.size > this.limits.maxJsonFileBytes) {
      await file.body.cancel().catch(() => {});
      throw errors.tooLarge(
        `file is ${file.size} bytes; JSON reads stop at ${this.limits.maxJsonFileBytes} (use GET .../files/content to stream it)`,
        this.limits.maxJsonFileBytes,
      );
    }
    const bytes = await collect(file.body, this.limits.maxJsonFileBytes);
    let content: string;
    if (encoding === "base64") content = bytesToBase64(bytes);
    else {
      try {
        content = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
      } catch {
        throw errors.invalid(`'${target.abs}' is not valid UTF-8; read it with encoding "base64"`);
      }
    }
    return { path: target.abs, content, encoding, size: bytes.byteLength };
  }

  async writeFileJson({ id, path, content, encoding }: Id & { path: string; content: string; encoding: Encoding }): Promise<FileInfo> {
    const target = resolveWorkspacePath(path);
    const bytes = encoding === "base64" ? base64ToBytes(content) : new TextEncoder().encode(content);
    if (!bytes) throw errors.invalid("content is not valid base64");
    if (bytes.byteLength > this.limits.maxJsonFileBytes) {
      throw errors.tooLarge(
        `content is larger than the ${this.limits.maxJsonFileBytes}-byte limit of JSON writes (use PUT .../files/content?path=... with the raw bytes to stream it)`,
        this.limits.maxJsonFileBytes,
      );
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    return this.backend.writeFile(id, target, body, this.limits.maxJsonFileBytes);
  }

  async listFiles({ id, path, recursive }: Id & { path: string; recursive?: boolean }) {
    return this.backend.listFiles(id, resolveWorkspacePath(path), recursive ?? false, this.limits.maxListEntries);
  }

  async statFile({ id, path }: Id & { path: string }): Promise<FileInfo> {
    return this.backend.statFile(id, resolveWorkspacePath(path));
  }

  async mkdir({ id, path, recursive }: Id & { path: string; recursive: boolean }): Promise<FileInfo> {
    const target = resolveWorkspacePath(path);
    if (target.rel === "") {
      if (recursive) return this.backend.statFile(id, target);
      throw errors.conflict("/workspace already exists");
    }
    return this.backend.mkdir(id, target, recursive);
  }

  async moveFile({ id, from, to, overwrite }: Id & { from: string; to: string; overwrite: boolean }): Promise<FileInfo> {
    const source = resolveWorkspacePath(from);
    const target = resolveWorkspacePath(to);
    if (source.rel === "" || target.rel === "") throw errors.forbidden("/workspace itself cannot be moved or replaced");
    if (target.rel.startsWith(`${source.rel}/`)) throw errors.invalid(`cannot move '${source.abs}' into itself`);
    return this.backend.moveFile(id, source, target, overwrite);
  }

  async deleteFile({ id, path, recursive }: Id & { path: string; recursive?: boolean }): Promise<void> {
    const target = resolveWorkspacePath(path);
    if (target.rel === "") throw errors.forbidden("/workspace itself cannot be deleted");
    await this.backend.deleteFile(id, target, recursive ?? false);
  }

  async startProcess({ id, ...input }: Id & StartProcessBody): Promise<ProcessInfo> {
    return this.backend.startProcess(id, {
      processId: generateId("p-", 10),
      name: input.name ?? null,
      argv: input.argv ?? ["/bin/sh", "-c", input.command ?? ""],
      cwd: resolveCwd(input.cwd),
      env: input.env ?? {},
    });
  }

  async listProcesses({ id }: Id): Promise<{ processes: ProcessInfo[] }> {
    return { processes: await this.backend.listProcesses(id) };
  }

  async getProcess({ id, processId }: ProcessRef): Promise<ProcessInfo> {
    return this.backend.getProcess(id, processId);
  }

  async getProcessLogs({ id, processId, offset, limitBytes }: ProcessRef & { offset?: number; limitBytes?: number }): Promise<ProcessLogs> {
    const slice = await this.backend.readProcessLogs(id, processId, offset, limitBytes ?? this.limits.defaultLogBytes);
    const joined = (stream: "stdout" | "stderr") =>
      slice.chunks
        .filter((c) => c.stream === stream)
        .map((c) => c.data)
        .join("");
    return { processId, ...slice, stdout: joined("stdout"), stderr: joined("stderr") };
  }

  async streamProcessLogs({ id, processId, offset }: ProcessRef & { offset?: number }, signal: AbortSignal): Promise<AsyncIterable<ProcessLogEvent>> {
    return this.backend.followProcessLogs(id, processId, offset ?? 0, signal);
  }

  async killProcess({ id, processId, signal }: ProcessRef & { signal?: Signal }): Promise<ProcessInfo> {
    return this.backend.killProcess(id, processId, signal ?? "TERM");
  }

  async waitForPort({ id, processId, ...input }: ProcessRef & WaitForPortBody, signal: AbortSignal): Promise<WaitResult> {
    const started = this.now();
    const process = await this.backend.waitForPort(id, processId, { ...input, timeoutMs: input.timeoutMs ?? this.limits.defaultWaitMs }, signal);
    return { process, elapsedMs: this.now() - started };
  }

  /** Follows the log until a line matches; works the same over every backend's log. */
  async waitForLog({ id, processId, pattern, stream, timeoutMs }: ProcessRef & WaitForLogBody, signal: AbortSignal): Promise<WaitResult> {
    let regex: RegExp;
    try {
      regex = new RegExp(pattern);
    } catch (err) {
      throw errors.invalid(`pattern is not a valid regular expression: ${(err as Error).message}`);
    }
    const limit = timeoutMs ?? this.limits.defaultWaitMs;
    if (this.backend.waitForLog) return this.backend.waitForLog(id, processId, { pattern, ...(stream ? { stream } : {}), timeoutMs: limit }, signal);
    const started = this.now();
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), limit);
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const events = await this.backend.followProcessLogs(id, processId, 0, stop.signal);
      // Lines are matched per stream, cut at MAX_MATCHED_LINE characters so no pattern runs long.
      const partial = { stdout: { text: "", offset: 0 }, stderr: { text: "", offset: 0 } };
      for await (const event of events) {
        if (event.type === "stdout" || event.type === "stderr") {
          if (stream && stream !== "both" && stream !== event.type) continue;
          const pending = partial[event.type];
          if (pending.text === "") pending.offset = event.offset;
          let text = pending.text + event.data;
          let lineStart = pending.offset;
          let newline: number;
          while ((newline = text.indexOf("\n")) !== -1) {
            const line = text.slice(0, newline);
            if (regex.test(line.slice(0, MAX_MATCHED_LINE))) {
              return { process: await this.backend.getProcess(id, processId), elapsedMs: this.now() - started, line, offset: lineStart };
            }
            lineStart += utf8Length(line) + 1;
            text = text.slice(newline + 1);
          }
          pending.text = text.slice(-MAX_MATCHED_LINE);
          pending.offset = lineStart;
        } else if (event.type === "exit") {
          for (const pending of Object.values(partial)) {
            if (pending.text && regex.test(pending.text)) {
              return { process: await this.backend.getProcess(id, processId), elapsedMs: this.now() - started, line: pending.text, offset: pending.offset };
            }
          }
          throw new SandgateError("conflict", `process '${processId}' ended (exit code ${event.exitCode ?? "unknown"}) before a line matched`, {
            exitCode: event.exitCode,
          });
        } else if (event.type === "error") {
          throw new SandgateError(event.code as ErrorCode, event.message);
        }
      }
      if (signal.aborted) throw errors.invalid("the client closed the connection");
      throw new SandgateError("timeout", `no line matched within ${limit} ms`, { timeoutMs: limit });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      stop.abort();
    }
  }

  /**
   * A link that opens one port of this instance of a sandbox in a browser, without the API token,
   * until it expires: never after the scoped token that mints it.
   */
  async createPortLink({ id, port, ttlSeconds, path }: Id & CreatePortLinkBody, origin?: string, mintedBy?: Principal): Promise<PortLink> {
    const { instance } = await this.backend.getSandbox(id);
    let expiry = this.now() + (ttlSeconds ?? 3600) * 1000;
    if (mintedBy?.kind === "scoped") expiry = Math.min(expiry, Date.parse(mintedBy.expiresAt));
    const expiresAt = new Date(expiry).toISOString();
    const prefix = `/v1/sandboxes/${id}/ports/${port}`;
    const target = path ?? "/";
    const separator = target.includes("?") ? "&" : "?";
    const link = this.apiToken ? `${separator}${PORT_LINK_PARAM}=${await mintPortLink(this.apiToken, { sandboxId: id, instance, port, expiresAt })}` : "";
    const linkPath = `${prefix}${target}${link}`;
    return { path: linkPath, url: origin ? `${origin}${linkPath}` : null, port, expiresAt };
  }

  async gitCheckout({ id, ...input }: Id & GitCheckoutBody, signal?: AbortSignal): Promise<GitCheckoutResult> {
    return gitCheckout(this.backend, id, input, signal);
  }

  private execSpec(input: ExecBody): ExecSpec {
    return {
      argv: input.argv ?? ["/bin/sh", "-c", input.command ?? ""],
      cwd: resolveCwd(input.cwd),
      env: input.env ?? {},
      timeoutMs: input.timeoutMs ?? this.limits.defaultTimeoutMs,
      stdin: input.stdin,
      maxOutputBytes: this.limits.maxOutputBytes,
    };
  }
}

async function collect(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > maxBytes) throw errors.tooLarge(`file grew past the ${maxBytes}-byte limit while reading`, maxBytes);
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
