import type { ISandbox, LogEvent as SdkLogEvent, Process as SdkProcess, Sandbox, SandboxOptions } from "@cloudflare/sandbox";
import type {
  Backend,
  ExecSpec,
  FileStream,
  LogSlice,
  ProcessLogSlice,
  ProcessSpec,
  SandboxPatch,
  SandboxQuery,
  SandboxRecord,
  WaitForPortSpec,
} from "../../core/backend.ts";
import { recordInstance } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import { bytesToBase64 } from "../../schemas/base64.ts";
import { WORKSPACE, type WorkspacePath, resolveWorkspacePath } from "../../core/paths.ts";
import type { ErrorCode } from "../../schemas/common.ts";
import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import type { FileInfo } from "../../schemas/files.ts";
import type { LogChunk, ProcessInfo, ProcessLogEvent, ProcessStatus, Signal } from "../../schemas/processes.ts";
import type { SandboxInfo } from "../../schemas/sandboxes.ts";
import { parseServerSentEvents } from "../sse.ts";
import { ByteLog, CombinedLog, FOLLOW_BATCH_MS } from "./logs.ts";
import { CappedText, type OutputEvent, processOutput } from "./output.ts";
import type { ProcessRow, RegistryApi } from "./registry.ts";
import type { SnapshotIndexApi } from "./snapshot-index.ts";
import { CloudflareSnapshots, type SnapshotBucket } from "./snapshots.ts";

/**
 * The part of the `@cloudflare/sandbox` SDK Sandgate uses, in the SDK's own types: a change of
 * signature in the SDK breaks this build, and the test stand-in implements exactly this.
 */
export type SandboxSdk = Pick<
  ISandbox,
  | "exec"
  | "execStream"
  | "readFile"
  | "writeFile"
  | "listFiles"
  | "mkdir"
  | "moveFile"
  | "deleteFile"
  | "exists"
  | "startProcess"
  | "listProcesses"
  | "getProcess"
  | "killProcess"
  | "getProcessLogs"
  | "streamProcessLogs"
  | "wsConnect"
> &
  Pick<Sandbox, "destroy" | "getState" | "containerFetch">;

type SdkFileInfo = Awaited<ReturnType<ISandbox["listFiles"]>>["files"][number];

/**
 * How Sandgate opens every SDK sandbox (`getSandbox(ns, id, SANDBOX_OPTIONS)`), in the Worker and in
 * the tests alike:
 * - `transport: "rpc"`: streamed file reads and writes exist only there (the SDK throws for them on
 *   `http`, its default, and on `websocket`).
 * - `enableDefaultSession: false`: each command is its own process. The default session is one
 *   shared shell (state leaks between callers, calls queue on one lock, `exit` ends it).
 * - `keepAlive: true`: the container does not sleep after `sleepAfter` (10 minutes by default),
 *   which would lose its files and processes while Sandgate still lists the sandbox; it lives
 *   until its TTL, when the registry's alarm destroys it (README "Cloudflare: what is verified").
 */
export const SANDBOX_OPTIONS = { transport: "rpc", enableDefaultSession: false, keepAlive: true } as const satisfies SandboxOptions;

/** The SDK's own id rules (sanitizeSandboxId, sdk 0.12.10 dist sandbox-*.js:4450-4463), beyond Sandgate's id schema. */
const SDK_RESERVED_IDS = new Set(["www", "api", "admin", "root", "system", "cloudflare", "workers"]);
export function sdkIdProblem(id: string): string | null {
  if (id.length < 1 || id.length > 63) return "it must be 1-63 characters long";
  if (id.startsWith("-") || id.endsWith("-")) return "it may not start or end with '-'";
  if (SDK_RESERVED_IDS.has(id.toLowerCase())) return `'${id}' is reserved (${[...SDK_RESERVED_IDS].join(", ")})`;
  return null;
}

export interface CloudflareBackendOptions {
  /** `getSandbox(env.Sandbox, id, SANDBOX_OPTIONS)` in the Worker; the same over the SDK stand-in's namespace in tests. */
  sandbox(id: string): SandboxSdk;
  /** The registry (sharded Durable Objects, sharded.ts): the SDK has no create, list or metadata of its own. */
  registry: RegistryApi;
  /** Extra time given to an SDK call past the command's own timeout before Sandgate gives up on it. */
  graceMs?: number;
  /** Snapshots: archives in R2, rows in the registry (snapshots.ts); without them snapshots answer not_implemented. */
  snapshots?: { bucket: SnapshotBucket; index: SnapshotIndexApi };
}

/**
 * Sandboxes as Cloudflare containers through `@cloudflare/sandbox`. A thin mapping: the registry
 * Durable Object keeps ids, labels, env, network and expiry (its alarm destroys expired sandboxes),
 * and every operation becomes the matching SDK call, with SDK errors mapped to Sandgate's codes.
 *
 * Commands (exec, execStream) and processes are the SDK's processes (`startProcess` with Sandgate's
 * id, the sandbox env under the process's), so every command can be killed and its output streams;
 * the registry adds what the SDK does not keep (name, argv, cwd, whether a kill was asked for) and
 * the layout of each combined log (logs.ts: the SDK keeps stdout and stderr apart, without offsets).
 * Ports: HTTP through `containerFetch(request, port)`, WebSockets through `wsConnect`. Where the SDK
 * cannot do what the contract asks, the backend refuses with `invalid_request` naming itself rather
 * than pretend: `network: "none"` (no per-sandbox switch), signals other than TERM and KILL (the SDK
 * always ends the tree with TERM, then KILL after 5 s), and port 3000 (the SDK's control plane).
 */
export class CloudflareBackend implements Backend {
  readonly name = "cloudflare";
  private readonly graceMs: number;
  readonly snapshots?: CloudflareSnapshots;

  constructor(private readonly options: CloudflareBackendOptions) {
    this.graceMs = options.graceMs ?? 5000;
    if (options.snapshots) {
      this.snapshots = new CloudflareSnapshots({
        ...options.snapshots,
        sandbox: (id) => this.box(id),
        exists: async (id) => (await options.registry.get(id)) !== null,
        listProcesses: (id) => this.listProcesses(id),
        killProcess: (id, processId, signal) => this.killProcess(id, processId, signal),
        fromSdkError,
      });
    }
  }

  async createSandbox(record: SandboxRecord): Promise<SandboxInfo> {
    if (record.network === "none") {
      // The SDK starts every container of the Sandbox class with the same network; it has no per-sandbox switch.
      throw errors.invalid("network 'none' is not available on the cloudflare backend: @cloudflare/sandbox cannot turn off one sandbox's network (the local runtime can)", {
        backend: this.name,
        network: "none",
      });
    }
    const problem = sdkIdProblem(record.id);
    if (problem) {
      throw errors.invalid(`sandbox id '${record.id}' is not available on the cloudflare backend: ${problem} (@cloudflare/sandbox refuses it)`, {
        backend: this.name,
        id: record.id,
      });
    }
    if (!(await this.options.registry.create(record))) throw errors.conflict(`sandbox '${record.id}' already exists`);
    return this.info(record);
  }

  async getSandbox(id: string): Promise<SandboxInfo> {
    return this.info(await this.record(id));
  }

  /** From the registry alone: getSandbox also asks the container's Durable Object for its state. */
  async sandboxInstance(id: string): Promise<string | undefined> {
    const record = await this.options.registry.get(id);
    return record ? recordInstance(record) : undefined;
  }

  async listSandboxes(query: SandboxQuery): Promise<SandboxInfo[]> {
    const records = await this.options.registry.list(query);
    return Promise.all(records.map((r) => this.info(r)));
  }

  /** The sandbox-wide env lives in the registry record; every exec and process gets it from there. */
  async updateSandbox(id: string, patch: SandboxPatch, now: number): Promise<SandboxInfo> {
    // The registry applies the change to the record it holds, in one step.
    const record = await this.options.registry.update(id, { ...patch, now });
    if (!record) throw errors.sandboxNotFound(id);
    return this.info(record);
  }

  async deleteSandbox(id: string): Promise<void> {
    await this.record(id);
    // A record whose id the SDK refuses (made before ids were checked) never had a container.
    if (!sdkIdProblem(id)) await this.sdk(() => this.box(id).destroy());
    await this.options.registry.remove(id);
  }

  /**
   * A command is an SDK process (its own process, never the shared session), its output streamed
   * and capped as it comes (never one RPC payload), killed when its timeout passes.
   */
  async exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<ExecResult> {
    const run = await this.launch(id, spec);
    const out = { stdout: new CappedText(spec.maxOutputBytes), stderr: new CappedText(spec.maxOutputBytes) };
    let exitCode: number | null = null;
    let timedOut = false;
    try {
      for await (const event of run.events(signal)) {
        if (event.type === "exit") {
          exitCode = event.exitCode;
          timedOut = event.timedOut;
        } else out[event.type].add(event.data);
      }
    } finally {
      await run.cleanup();
    }
    return {
      exitCode: exitCode ?? 137,
      stdout: out.stdout.text,
      stderr: out.stderr.text,
      durationMs: Date.now() - run.started,
      timedOut,
      truncated: out.stdout.truncated || out.stderr.truncated,
    };
  }

  async execStream(id: string, spec: ExecSpec, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    const run = await this.launch(id, spec);
    return (async function* (): AsyncGenerator<ExecEvent> {
      try {
        for await (const event of run.events(signal)) {
          if (event.type === "exit") yield { type: "exit", exitCode: event.exitCode ?? 137, durationMs: Date.now() - run.started, timedOut: event.timedOut };
          else if (event.data) yield event;
        }
      } finally {
        await run.cleanup();
      }
    })();
  }

  /**
   * Starts a command as an SDK process. `events` yields its output and one `exit`; when the timeout
   * passes, the caller goes away (`signal`) or the reader stops early, the process is killed.
   */
  private async launch(id: string, spec: ExecSpec) {
    const record = await this.record(id);
    const box = this.box(id);
    const processId = `exec-${crypto.randomUUID()}`;
    const { command, stdinFile } = await this.commandLine(box, spec);
    const started = Date.now();
    await this.sdk(() => box.startProcess(command, { processId, env: { ...record.env, ...spec.env }, cwd: spec.cwd }));
    let finished = false;
    const kill = async () => {
      await this.sdk(() => box.killProcess(processId)).catch(() => {});
    };
    const source = {
      streamProcessLogs: (pid: string) => this.sdk(() => box.streamProcessLogs(pid)),
      getProcess: (pid: string) => this.sdk(() => box.getProcess(pid)),
    };
    const events = async function* (signal?: AbortSignal): AsyncGenerator<Exclude<OutputEvent, { type: "exit" }> | { type: "exit"; exitCode: number | null; timedOut: boolean }> {
      const output = processOutput(source, processId)[Symbol.asyncIterator]();
      const deadline = sleep(Math.max(0, started + spec.timeoutMs - Date.now()));
      let onAbort = () => {};
      const aborted = new Promise<typeof ABORTED>((resolve) => {
        onAbort = () => resolve(ABORTED);
        if (signal?.aborted) resolve(ABORTED);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      try {
        for (;;) {
          const next = await Promise.race([output.next(), deadline.promise, aborted]);
          if (next === ABORTED) return;
          if (next === TICK) {
            await kill();
            finished = true;
            yield { type: "exit", exitCode: 137, timedOut: true };
            return;
          }
          if (next.done) return;
          if (next.value.type === "exit") {
            finished = true;
            yield { type: "exit", exitCode: next.value.exitCode, timedOut: false };
            return;
          }
          yield next.value;
        }
      } finally {
        deadline.cancel();
        signal?.removeEventListener("abort", onAbort);
        output.return?.(undefined).catch(() => {});
      }
    };
    const cleanup = async () => {
      // A reader that stopped before the exit (a caller that hung up) leaves nothing running.
      if (!finished) await kill();
      if (stdinFile) await this.sdk(() => box.deleteFile(stdinFile)).catch(() => {});
    };
    return { started, events, cleanup };
  }

  async readFile(id: string, path: WorkspacePath): Promise<FileStream> {
    await this.record(id);
    const file = await this.sdk(() => this.box(id).readFile(path.abs, { encoding: "none" }));
    return { body: file.content, size: file.size };
  }

  async writeFile(id: string, path: WorkspacePath, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<FileInfo> {
    await this.record(id);
    const box = this.box(id);
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
    return this.stat(this.box(id), path);
  }

  async listFiles(id: string, path: WorkspacePath, recursive: boolean, limit: number): Promise<{ entries: FileInfo[]; truncated: boolean }> {
    await this.record(id);
    const result = await this.sdk(() => this.box(id).listFiles(path.abs, { recursive, includeHidden: true }));
    const entries = result.files.map(toFileInfo).sort((a, b) => (a.path < b.path ? -1 : 1));
    return { entries: entries.slice(0, limit), truncated: entries.length > limit };
  }

  async mkdir(id: string, path: WorkspacePath, recursive: boolean): Promise<FileInfo> {
    await this.record(id);
    const box = this.box(id);
    if (!recursive && (await this.sdk(() => box.exists(path.abs))).exists) throw errors.conflict(`'${path.abs}' already exists`);
    await this.sdk(() => box.mkdir(path.abs, { recursive }));
    return this.stat(box, path);
  }

  /**
   * The SDK's move is `mv`: onto an existing directory it moves the source *into* it. Sandgate's is a
   * rename, as the local runtime's: a directory replaces an empty directory, anything else onto a
   * directory is a conflict.
   */
  async moveFile(id: string, from: WorkspacePath, to: WorkspacePath, overwrite: boolean): Promise<FileInfo> {
    await this.record(id);
    const box = this.box(id);
    if (to.rel === "" || from.rel === "") throw errors.forbidden("/workspace itself cannot be moved or replaced");
    if (to.rel === from.rel || to.rel.startsWith(`${from.rel}/`)) throw errors.invalid(`cannot move '${from.abs}' onto or into itself`);
    const source = await this.stat(box, from);
    const target = await this.stat(box, to).catch((err: unknown) => {
      if (err instanceof SandgateError && err.code === "not_found") return null;
      throw err;
    });
    if (target && !overwrite) throw errors.conflict(`'${to.abs}' exists; pass overwrite: true to replace it`);
    if (target?.type === "directory") {
      if (source.type !== "directory") throw errors.conflict(`'${to.abs}' is a directory`);
      const removed = await this.sdk(() => box.exec(`rmdir -- ${shellQuote(to.abs)}`));
      if (removed.exitCode !== 0) throw errors.conflict(`'${to.abs}' is a directory that is not empty`);
    }
    const parent = to.abs.slice(0, to.abs.lastIndexOf("/")) || WORKSPACE;
    await this.sdk(() => box.mkdir(parent, { recursive: true }));
    await this.sdk(() => box.moveFile(from.abs, to.abs));
    return this.stat(box, to);
  }

  async deleteFile(id: string, path: WorkspacePath, recursive: boolean): Promise<void> {
    await this.record(id);
    const box = this.box(id);
    const info = await this.stat(box, path);
    if (info.type !== "directory") {
      await this.sdk(() => box.deleteFile(path.abs));
      return;
    }
    // The SDK deletes files only; directories go through the shell, as `rm` would.
    const result = await this.sdk(() => box.exec(`${recursive ? "rm -rf" : "rmdir"} -- ${shellQuote(path.abs)}`));
    if (result.exitCode !== 0) throw errors.conflict(`'${path.abs}' is not empty; pass recursive=true to delete it`);
  }

  async startProcess(id: string, spec: ProcessSpec): Promise<ProcessInfo> {
    const record = await this.record(id);
    const box = this.box(id);
    if (spec.cwd.startsWith(`${WORKSPACE}/`)) {
      // As the local runtime: a working directory under /workspace must exist (the SDK would start a process that fails).
      const info = await this.stat(box, resolveWorkspacePath(spec.cwd)).catch(() => undefined);
      if (info?.type !== "directory") throw errors.invalid(`cwd '${spec.cwd}' is not a directory in the sandbox`);
    }
    const { command } = await this.commandLine(box, { ...spec, timeoutMs: 0, maxOutputBytes: 0 });
    const startedAt = new Date().toISOString();
    await this.sdk(() => box.startProcess(command, { processId: spec.processId, env: { ...record.env, ...spec.env }, cwd: spec.cwd }));
    const row: ProcessRow = { processId: spec.processId, name: spec.name, argv: spec.argv, cwd: spec.cwd, startedAt, killRequested: false, endedAt: null };
    // A registry call that throws leaves no process behind either.
    const added = await this.options.registry.addProcess(id, row).catch(async (err: unknown) => {
      await box.killProcess(spec.processId).catch(() => {});
      throw err;
    });
    if (!added) {
      // The sandbox went away (or the id was taken) while the process started: it does not stay behind.
      await box.killProcess(spec.processId).catch(() => {});
      throw (await this.options.registry.get(id)) ? errors.conflict(`process '${spec.processId}' already exists`) : errors.sandboxNotFound(id);
    }
    return toProcessInfo(id, row, { status: "running" });
  }

  async listProcesses(id: string): Promise<ProcessInfo[]> {
    await this.record(id);
    const rows = await this.options.registry.listProcesses(id);
    if (rows.length === 0) return [];
    const box = this.box(id);
    const known = new Map((await this.sdk(() => box.listProcesses())).map((p) => [p.id, p]));
    return Promise.all(rows.map((row) => this.describe(id, row, known.get(row.processId) ?? null)));
  }

  async getProcess(id: string, processId: string): Promise<ProcessInfo> {
    const row = await this.processRow(id, processId);
    return this.describe(id, row, await this.sdk(() => this.box(id).getProcess(processId)));
  }

  /**
   * Over the rpc transport the SDK's processes carry no `endTime`: the first time Sandgate sees a
   * process ended, it records the time in the registry (first writer wins), so every reader agrees.
   */
  private async describe(id: string, row: ProcessRow, sdk: SdkProcessState | null): Promise<ProcessInfo> {
    const info = toProcessInfo(id, row, sdk);
    if (info.status === "running" || info.endedAt) return info;
    const endedAt = await this.options.registry.markEnded(id, row.processId, new Date().toISOString());
    return { ...info, endedAt };
  }

  async readProcessLogs(id: string, processId: string, offset: number | undefined, limitBytes: number): Promise<ProcessLogSlice> {
    // The status first: once it says ended, the slice read after it holds all the output there is.
    const { status } = await this.getProcess(id, processId);
    return { status, ...(await this.readLogSlice(id, processId, offset, limitBytes)) };
  }

  private async readLogSlice(id: string, processId: string, offset: number | undefined, limitBytes: number): Promise<LogSlice> {
    const box = this.box(id);
    const streams = await this.snapshot(box, processId);
    const observed = streams ? { stdout: streams[0].length, stderr: streams[1].length } : null;
    const log = new CombinedLog();
    log.apply(await this.layout(id, processId, observed, 0));
    const total = log.length;
    if (offset !== undefined && offset > total) throw pastTheEnd(offset, total);
    if (!streams) return { chunks: [], firstOffset: total, nextOffset: total };
    const from = Math.min(offset ?? Math.max(0, total - limitBytes), total);
    const chunks: LogChunk[] = [];
    let next = from;
    for (const piece of log.pieces(from, from + limitBytes, streams, undefined, offset === undefined)) {
      chunks.push({ stream: piece.stream, data: piece.data, offset: piece.offset });
      next = piece.offset + piece.size;
    }
    if (chunks.length === 0 && offset === undefined) next = total;
    return { chunks, firstOffset: 0, nextOffset: next };
  }

  /**
   * What a process has printed so far, from its log stream's replay: up to its exit, or a quiet
   * moment, or a second of live output (any prefix of each stream is a true observation, see
   * logs.ts). Not `getProcessLogs`, which answers the whole output as one RPC payload, and RPC
   * refuses payloads over 32 MiB. Null when the container no longer knows the process (it stopped).
   */
  private async snapshot(box: SandboxSdk, processId: string): Promise<[ByteLog, ByteLog] | null> {
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = await this.sdk(() => box.streamProcessLogs(processId));
    } catch (err) {
      if (err instanceof SandgateError && err.code === "not_found") return null;
      throw err;
    }
    const streams: [ByteLog, ByteLog] = [new ByteLog(), new ByteLog()];
    const events = parseServerSentEvents<SdkLogEvent | { type: "process_info" }>(stream)[Symbol.asyncIterator]();
    const encoder = new TextEncoder();
    let until = Date.now() + SNAPSHOT_FIRST_MS;
    try {
      for (let info = false; ; ) {
        const wait = sleep(Math.max(0, Math.min(until - Date.now(), info ? SNAPSHOT_QUIET_MS : SNAPSHOT_FIRST_MS)));
        const next = await Promise.race([events.next(), wait.promise]);
        wait.cancel();
        if (next === TICK || next.done) break;
        const event = next.value;
        if (event.type === "process_info" && !info) {
          info = true;
          until = Date.now() + SNAPSHOT_LIVE_MS;
        } else if (event.type === "stdout" || event.type === "stderr") {
          if (event.data) streams[event.type === "stdout" ? 0 : 1].append(encoder.encode(event.data));
        } else if (event.type === "exit") break;
      }
    } catch {
      // A stream cut midway still brought a true prefix of each stream.
    } finally {
      events.return?.(undefined).catch(() => {});
      await stream.cancel().catch(() => {});
    }
    return streams;
  }

  async followProcessLogs(id: string, processId: string, offset: number, signal: AbortSignal): Promise<AsyncIterable<ProcessLogEvent>> {
    await this.processRow(id, processId);
    const known = new CombinedLog();
    known.apply(await this.layout(id, processId, null, 0));
    if (offset > known.length) throw pastTheEnd(offset, known.length);
    const box = this.box(id);
    let first: ReadableStream<Uint8Array>;
    try {
      first = await this.sdk(() => box.streamProcessLogs(processId));
    } catch (err) {
      if (!(err instanceof SandgateError && err.code === "not_found")) throw err;
      // The container was replaced and no longer knows the process: how it ended is unknown.
      const info = await this.getProcess(id, processId);
      return (async function* (): AsyncGenerator<ProcessLogEvent> {
        yield { type: "exit", status: info.status, exitCode: info.exitCode, nextOffset: known.length };
      })();
    }
    return this.follow(id, processId, offset, first, signal);
  }

  /**
   * Follows the SDK's log stream, which replays everything from the start and then follows: what it
   * brings is laid out (see logs.ts) every FOLLOW_BATCH_MS and sent from `offset` on, so a follower
   * that reconnects from the last `nextOffset` gets every byte exactly once. A stream the platform
   * closes while the process runs is reopened.
   */
  private async *follow(id: string, processId: string, offset: number, first: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<ProcessLogEvent> {
    let onAbort = () => {};
    const aborted = new Promise<typeof ABORTED>((resolve) => {
      onAbort = () => resolve(ABORTED);
      if (signal.aborted) resolve(ABORTED);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      yield* this.followStreams(id, processId, offset, first, signal, aborted);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private async *followStreams(
    id: string,
    processId: string,
    offset: number,
    first: ReadableStream<Uint8Array>,
    signal: AbortSignal,
    aborted: Promise<typeof ABORTED>,
  ): AsyncGenerator<ProcessLogEvent> {
    const box = this.box(id);
    const log = new CombinedLog();
    let sent = offset;
    let streams: [ByteLog, ByteLog] = [new ByteLog(), new ByteLog()];
    const commit = async (): Promise<ProcessLogEvent[]> => {
      const observed = { stdout: streams[0].length, stderr: streams[1].length };
      log.apply(await this.layout(id, processId, observed, Math.max(0, log.count - 1)));
      const out: ProcessLogEvent[] = [];
      for (const piece of log.pieces(sent, Number.MAX_SAFE_INTEGER, streams)) {
        out.push({ type: piece.stream, data: piece.data, offset: piece.offset, nextOffset: piece.offset + piece.size });
        sent = piece.offset + piece.size;
      }
      return out;
    };
    let stream: ReadableStream<Uint8Array> | null = first;
    let reopened = 0;
    let afterEnd = false;
    while (stream) {
      // Read through our own reader, so hanging up cancels a read that waits on a quiet process.
      const reader = stream.getReader();
      const source = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
      const events = parseServerSentEvents<SdkLogEvent | { type: "process_info" }>(source)[Symbol.asyncIterator]();
      let pending: Promise<IteratorResult<SdkLogEvent | { type: "process_info" }>> | null = null;
      let dueAt: number | null = null;
      let ended = false;
      try {
        for (;;) {
          pending ??= events.next();
          const timer = dueAt === null ? null : sleep(Math.max(0, dueAt - Date.now()));
          const next = await Promise.race([pending, aborted, ...(timer ? [timer.promise] : [])]);
          timer?.cancel();
          if (next === ABORTED) return;
          if (next === TICK) {
            dueAt = null;
            yield* await commit();
            continue;
          }
          pending = null;
          if (next.done) break;
          const event = next.value;
          if (event.type === "stdout" || event.type === "stderr") {
            if (event.data) streams[event.type === "stdout" ? 0 : 1].append(new TextEncoder().encode(event.data));
            dueAt ??= Date.now() + FOLLOW_BATCH_MS;
          } else if (event.type === "exit") {
            ended = true;
            break;
          } else if (event.type === "error") {
            yield { type: "error", code: "internal", message: event.data || "the process's log stream failed" };
            return;
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        // The platform cuts streams (idle ones on the websocket transport after 300 s, any on a
        // restart): what came is kept, and the stream reopened below.
        if (err instanceof SandgateError && err.code !== "sandbox_unavailable") {
          yield { type: "error", code: err.code, message: "the sandbox broke off the process's log stream" };
          return;
        }
      } finally {
        await reader.cancel().catch(() => {});
        events.return?.(undefined).catch(() => {});
      }
      yield* await commit();
      if (ended) break;
      // The stream closed or was cut before the exit: reopen it. It replays from the start (what was
      // sent is skipped by offset); for a process that ended meanwhile it brings the rest and the exit.
      const info = await this.getProcess(id, processId);
      if (info.status === "lost" || (info.status !== "running" && afterEnd) || ++reopened > MAX_REOPENS) break;
      afterEnd = info.status !== "running";
      if (reopened > 1) await sleep(Math.min(1000, 50 * reopened)).promise;
      try {
        stream = await this.sdk(() => box.streamProcessLogs(processId));
      } catch (err) {
        if (err instanceof SandgateError && err.code === "not_found") break;
        throw err;
      }
      streams = [new ByteLog(), new ByteLog()];
    }
    const info = await this.getProcess(id, processId);
    if (info.status === "running") {
      yield { type: "error", code: "sandbox_unavailable", message: "the sandbox stopped sending the process's log" };
      return;
    }
    yield { type: "exit", status: info.status, exitCode: info.exitCode, nextOffset: sent };
  }

  /**
   * The SDK ends a process and its descendants with TERM, then KILL after 5 s (it ignores the signal
   * it is given), and answers once they are gone. Other signals it cannot send, so they are refused.
   */
  async killProcess(id: string, processId: string, signal: Signal): Promise<ProcessInfo> {
    if (signal !== "TERM" && signal !== "KILL") {
      throw errors.invalid(`the cloudflare backend can only end processes (TERM, then KILL after 5 s): @cloudflare/sandbox sends no ${signal} signal`, {
        backend: this.name,
        signal,
      });
    }
    await this.processRow(id, processId);
    const box = this.box(id);
    const before = await this.sdk(() => box.getProcess(processId));
    if (!before || !RUNNING.has(before.status)) return this.getProcess(id, processId);
    await this.options.registry.markKillRequested(id, processId);
    try {
      await this.sdk(() => box.killProcess(processId, `SIG${signal}`));
    } catch (err) {
      // It ended on its own meanwhile.
      if (!(err instanceof SandgateError && err.code === "not_found")) throw err;
    }
    const deadline = Date.now() + KILL_SETTLE_MS;
    for (;;) {
      const info = await this.getProcess(id, processId);
      if (info.status !== "running" || Date.now() >= deadline) return info;
      await sleep(100).promise;
    }
  }

  async waitForPort(id: string, processId: string, spec: WaitForPortSpec, signal: AbortSignal): Promise<ProcessInfo> {
    refuseControlPort(spec.port);
    await this.processRow(id, processId);
    const box = this.box(id);
    const process = await this.sdk(() => box.getProcess(processId));
    if (!process || !RUNNING.has(process.status)) {
      throw new SandgateError("conflict", `process '${processId}' has ended`, { exitCode: process?.exitCode ?? null });
    }
    const options = spec.path === undefined ? { mode: "tcp" as const } : { mode: "http" as const, path: spec.path, status: spec.status ?? { min: 200, max: 399 } };
    // The SDK waits with its own timeout; an AbortSignal does not cross Durable Object RPC, so the caller going away is raced here.
    const waited = this.sdk(() => process.waitForPort(spec.port, { ...options, timeout: spec.timeoutMs }));
    const outcome = await Promise.race([
      waited.then(() => "ready" as const),
      sleep(spec.timeoutMs + this.graceMs).promise.then(() => "late" as const),
      new Promise<"aborted">((resolve) => (signal.aborted ? resolve("aborted") : signal.addEventListener("abort", () => resolve("aborted"), { once: true }))),
    ]);
    waited.catch(() => {});
    if (outcome === "late") throw new SandgateError("timeout", `port ${spec.port} did not accept within ${spec.timeoutMs} ms`, { timeoutMs: spec.timeoutMs });
    if (outcome === "aborted") throw errors.invalid("the client closed the connection");
    return this.getProcess(id, processId);
  }

  /**
   * HTTP goes through `containerFetch(request, port)`, WebSocket upgrades through `wsConnect`, which
   * answers 101 with the socket. Port 3000 is the SDK's control plane and never reachable.
   */
  async fetchPort(id: string, port: number, request: Request): Promise<Response> {
    refuseControlPort(port);
    await this.record(id);
    const box = this.box(id);
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const res = await this.sdk(() => box.wsConnect(request, port));
      if (res.status !== 101) await throwIfContainerError(res, port);
      return res;
    }
    const res = await this.sdk(() => box.containerFetch(request, port));
    await throwIfContainerError(res, port);
    return res;
  }

  async close(): Promise<void> {}

  /** The SDK's handle; getSandbox throws for ids it refuses (records made before ids were checked), mapped like its other errors. */
  private box(id: string): SandboxSdk {
    try {
      return this.options.sandbox(id);
    } catch (err) {
      throw fromSdkError(err);
    }
  }

  private async record(id: string): Promise<SandboxRecord> {
    const record = await this.options.registry.get(id);
    if (!record) throw errors.sandboxNotFound(id);
    return record;
  }

  private async processRow(id: string, processId: string): Promise<ProcessRow> {
    const row = await this.options.registry.getProcess(id, processId);
    if (row) return row;
    await this.record(id);
    throw new SandgateError("not_found", `process '${processId}' not found in sandbox '${id}'`, { sandboxId: id, processId });
  }

  private async layout(id: string, processId: string, observed: { stdout: number; stderr: number } | null, since: number) {
    const page = await this.options.registry.extendLog(id, processId, observed, since);
    if (!page) throw new SandgateError("not_found", `process '${processId}' not found in sandbox '${id}'`, { sandboxId: id, processId });
    return page;
  }

  /** Status without waking the container: getState reads the Durable Object, not the container. */
  private async info(record: SandboxRecord): Promise<SandboxInfo> {
    let status: SandboxInfo["status"] = "ready";
    try {
      const state = await this.box(record.id).getState();
      status = state.status === "running" || state.status === "healthy" ? "ready" : "sleeping";
    } catch {
      status = "unavailable";
    }
    return { id: record.id, instance: recordInstance(record), status, network: record.network ?? "egress", createdAt: record.createdAt, expiresAt: record.expiresAt, labels: record.labels };
  }

  /**
   * The SDK runs shell command lines; argv is quoted into one. Stdin comes inline when small, else
   * from a file written as a stream (a string argument would be one RPC payload, capped at 32 MiB).
   */
  private async commandLine(box: SandboxSdk, spec: ExecSpec): Promise<{ command: string; stdinFile?: string }> {
    const isShell = spec.argv.length === 3 && spec.argv[0] === "/bin/sh" && spec.argv[1] === "-c";
    const command = isShell ? (spec.argv[2] ?? "") : spec.argv.map(shellQuote).join(" ");
    if (spec.stdin === undefined) return { command };
    if (spec.stdin.length <= INLINE_STDIN) {
      return { command: `printf '%s' '${bytesToBase64(new TextEncoder().encode(spec.stdin))}' | base64 -d | (${command})` };
    }
    const file = `/tmp/.sandgate-stdin-${crypto.randomUUID()}`;
    const body = new Response(spec.stdin).body!;
    await this.sdk(() => box.writeFile(file, body));
    return { command: `(${command}) < ${file}`, stdinFile: file };
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

const ABORTED = Symbol("aborted");
const TICK = Symbol("tick");
/** A log read takes the stream's replay: it waits this long for the first event, then stops after this much quiet, or this much live output. */
const SNAPSHOT_FIRST_MS = 10_000;
const SNAPSHOT_QUIET_MS = 100;
const SNAPSHOT_LIVE_MS = 1000;
/** How often a follower reopens a log stream the platform closed while the process ran. */
const MAX_REOPENS = 1000;
/** How long a kill waits for the SDK to report the process ended, after the SDK's own kill answered. */
const KILL_SETTLE_MS = 3000;
/** The SDK's control plane listens on this port of every container. */
const CONTROL_PORT = 3000;
const RUNNING = new Set<SdkProcess["status"]>(["starting", "running"]);

/** What the SDK says of a process, from its list or its get. */
type SdkProcessState = Pick<SdkProcess, "status" | "exitCode" | "endTime">;

function sleep(ms: number): { promise: Promise<typeof TICK>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<typeof TICK>((resolve) => (timer = setTimeout(() => resolve(TICK), ms)));
  return { promise, cancel: () => timer !== undefined && clearTimeout(timer) };
}

/** Offsets come from this log's `nextOffset`s: one past its end is not one of them. */
function pastTheEnd(offset: number, end: number): SandgateError {
  return errors.invalid(`offset ${offset} is past the end of the log (${end})`, { nextOffset: end });
}

function refuseControlPort(port: number): void {
  if (port === CONTROL_PORT) {
    throw errors.invalid(`port ${CONTROL_PORT} is reserved by the @cloudflare/sandbox control plane on the cloudflare backend; serve on another port`, {
      backend: "cloudflare",
      port,
    });
  }
}

/**
 * The container's own answers when nothing serves the port (`Error proxying request to container`,
 * 500) or the container cannot start (503 with the SDK's JSON error) become Sandgate errors; every
 * other answer is the app's. Only those small plain-text or JSON bodies are read, through a clone.
 */
async function throwIfContainerError(res: Response, port: number): Promise<void> {
  if (res.status !== 500 && res.status !== 503) return;
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("text/plain") && !type.startsWith("application/json")) return;
  const text = await res.clone().text().catch(() => "");
  if (res.status === 500 && /^(Error proxying request to container|Container suddenly disconnected)/.test(text)) {
    await res.body?.cancel().catch(() => {});
    throw new SandgateError("upstream_unavailable", `nothing answers on port ${port} of the sandbox`, { port });
  }
  if (res.status === 503 && /"code":"CONTAINER_UNAVAILABLE"|Container is starting|no Container instance available/.test(text)) {
    await res.body?.cancel().catch(() => {});
    throw new SandgateError("sandbox_unavailable", "the sandbox's container is not available yet", { retryAfterMs: Number(res.headers.get("retry-after") ?? 3) * 1000 });
  }
}

function toProcessInfo(sandboxId: string, row: ProcessRow, sdk: SdkProcessState | null): ProcessInfo {
  const status = processStatus(row, sdk);
  return {
    id: row.processId,
    sandboxId,
    name: row.name,
    argv: row.argv,
    cwd: row.cwd,
    status,
    exitCode: status === "running" ? null : (sdk?.exitCode ?? null),
    startedAt: row.startedAt,
    endedAt: status === "running" ? null : sdk?.endTime ? new Date(sdk.endTime).toISOString() : row.endedAt,
  };
}

/** SDK status → Sandgate's: a process that ends after a kill request was killed, however it ended. */
function processStatus(row: ProcessRow, sdk: SdkProcessState | null): ProcessStatus {
  if (!sdk) return "lost"; // the container was replaced: it no longer knows the process
  switch (sdk.status) {
    case "starting":
    case "running":
      return "running";
    case "killed":
      return "killed";
    case "completed":
    case "failed":
      return row.killRequested ? "killed" : "exited";
    default:
      return row.killRequested ? "killed" : "lost";
  }
}
/** Stdin up to this size travels inside the command line; more goes through a temporary file. */
const INLINE_STDIN = 64 * 1024;


/**
 * SDK errors → Sandgate's. The SDK's SandboxError keeps status, code and context behind prototype
 * getters over its own `errorResponse` (dist sandbox-*.js:14-40); across Durable Object RPC the
 * getters are gone, while `name`, `message` and the own `errorResponse` arrive (shown by
 * test-workers/sdk-stand-in.test.ts). So this reads `errorResponse`, then the getters (an error
 * thrown in this isolate, such as getSandbox's), then names, then known messages.
 */
export function fromSdkError(err: unknown): SandgateError {
  if (err instanceof SandgateError) return err;
  type Response = { code?: string; httpStatus?: number; context?: { retryAfterMs?: number } };
  const sdk = (err ?? {}) as { name?: string; message?: string; errorResponse?: Response } & Response;
  const response: Response = typeof sdk.errorResponse === "object" && sdk.errorResponse !== null ? sdk.errorResponse : {};
  const httpStatus = response.httpStatus ?? sdk.httpStatus;
  const context = response.context ?? sdk.context;
  const message = typeof sdk.message === "string" ? sdk.message : "the sandbox failed";
  const name = typeof sdk.name === "string" ? sdk.name : "";
  if (name === "ContainerUnavailableError" || name === "OperationInterruptedError" || name === "RPCTransportError" || httpStatus === 503) {
    return new SandgateError("sandbox_unavailable", message, { retryAfterMs: context?.retryAfterMs ?? 1000 });
  }
  if (name === "ProcessReadyTimeoutError" || /^Process did not become ready within/.test(message)) return new SandgateError("timeout", message);
  if (name === "ProcessExitedBeforeReadyError" || /^Process exited with code .* before becoming ready/.test(message)) return new SandgateError("conflict", message);
  if (name === "ProcessNotFoundError" || name === "FileNotFoundError" || name === "CommandNotFoundError") return new SandgateError("not_found", message);
  if (name === "SandboxSecurityError") return new SandgateError("invalid_request", message);
  const byStatus: Record<number, ErrorCode> = { 400: "invalid_request", 403: "forbidden", 404: "not_found", 408: "timeout", 409: "conflict", 413: "payload_too_large" };
  const code = httpStatus !== undefined ? byStatus[httpStatus] : undefined;
  if (code) return new SandgateError(code, message);
  if (/requires the rpc transport/.test(message)) return new SandgateError("internal", "the sandbox runtime failed: the Worker must use the rpc transport");
  if (/not found|no such file/i.test(message)) return new SandgateError("not_found", message);
  // Platform interruptions and cut connections that carry no SDK error are worth a retry.
  if (/Network connection lost|disconnected prematurely|Durable Object reset|object has been replaced/i.test(message)) {
    return new SandgateError("sandbox_unavailable", message, { retryAfterMs: 1000 });
  }
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
