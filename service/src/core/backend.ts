import type { ExecEvent, ExecResult } from "../schemas/exec.ts";
import type { FileInfo } from "../schemas/files.ts";
import type { LogChunk, ProcessInfo, ProcessLogEvent, Signal, WaitResult } from "../schemas/processes.ts";
import type { NetworkMode, SandboxInfo } from "../schemas/sandboxes.ts";
import type { WorkspacePath } from "./paths.ts";
import type { BackendSnapshots } from "./snapshots.ts";

/** What core stores about a sandbox; each backend keeps these in its own registry. */
export interface SandboxRecord {
  id: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  createdAt: string;
  expiresAt: string;
  /** Records written before networks existed have none: they are `egress`. */
  network?: NetworkMode;
  /** Chosen by core at create, never changed (see SandboxInfo); records written before instances existed have none: see recordInstance. */
  instance?: string;
}

/**
 * The instance a backend reports for a record. Records from before instances derive theirs from
 * their creation time: a re-created sandbox always has a random one, so the two never match.
 */
export function recordInstance(record: SandboxRecord): string {
  return record.instance ?? `legacy-${record.createdAt}`;
}

/** A command as core has resolved it: defaults applied, limits set, the shell made explicit. */
export interface ExecSpec {
  argv: string[];
  cwd: string;
  /** Per-command variables; the backend lays them over the sandbox's own env. */
  env: Record<string, string>;
  timeoutMs: number;
  stdin?: string;
  /** Per stream; output past it is dropped and `truncated` set. */
  maxOutputBytes: number;
}

/** A background process as core has resolved it; it runs until it ends, is killed, or its sandbox goes. */
export interface ProcessSpec {
  /** Chosen by core, unique in the sandbox. */
  processId: string;
  name: string | null;
  argv: string[];
  cwd: string;
  /** Per-process variables; the backend lays them over the sandbox's own env. */
  env: Record<string, string>;
}

/** A stretch of a process's output log (see ProcessLogs in the schemas). */
export interface LogSlice {
  chunks: LogChunk[];
  /** The oldest offset still kept. */
  firstOffset: number;
  nextOffset: number;
}

/** A log slice with the process's status read before it: once that says ended, the slice holds all output there is. */
export interface ProcessLogSlice extends LogSlice {
  status: ProcessInfo["status"];
}

/** What to wait for in a process's log: a line matching `pattern` (already checked to compile). */
export interface WaitForLogSpec {
  pattern: string;
  stream?: "stdout" | "stderr" | "both";
  timeoutMs: number;
}

export interface WaitForPortSpec {
  port: number;
  timeoutMs: number;
  /** Also require GET `path` to answer `status` (or any 2xx/3xx when status is undefined). */
  path?: string;
  status?: number;
}

/** Where a sandbox's port is reachable from the host's own network stack (local runtime). */
export interface PortAddress {
  host: string;
  port: number;
}

/** How a caller moves a sandbox's expiry: a new lifetime from now, or more time on the current one. */
export type ExpiryChange = { ttlSeconds: number } | { extendBySeconds: number };

/** The expiry `change` gives a sandbox that now expires at `current`, at time `now` (ms). */
export function applyExpiry(change: ExpiryChange, current: string, now: number): string {
  const base = "ttlSeconds" in change ? now : Date.parse(current);
  const seconds = "ttlSeconds" in change ? change.ttlSeconds : change.extendBySeconds;
  return new Date(base + seconds * 1000).toISOString();
}

/** A change to a sandbox as the caller means it; the backend applies it to its record in one step. */
export interface SandboxPatch {
  labels?: Record<string, string>;
  /** Replaces the sandbox-wide environment. */
  env?: Record<string, string>;
  expiry?: ExpiryChange;
}

export interface SandboxQuery {
  labels: Record<string, string>;
  limit: number;
  /** The id after which the page starts (ids are listed in ascending order). */
  after?: string;
}

export interface FileStream {
  body: ReadableStream<Uint8Array>;
  /** -1: not known ahead (an archive built as it is sent). */
  size: number;
  /** The media type of `body`, where the operation chose it (a compressed archive); else the operation's own. */
  contentType?: string;
}

/**
 * A place where sandboxes live. Core validates, applies limits and keeps TTLs; a backend only does
 * what it is asked and reports failures as SandgateError (not_found for unknown sandboxes or files,
 * conflict for existing ones, forbidden for paths that escape through symlinks).
 */
export interface Backend {
  readonly name: string;

  createSandbox(record: SandboxRecord): Promise<SandboxInfo>;
  getSandbox(id: string): Promise<SandboxInfo>;
  /** Just the sandbox's instance (undefined: none by that id), for backends where getSandbox costs more; auth asks it on every scoped call. */
  sandboxInstance?(id: string): Promise<string | undefined>;
  listSandboxes(query: SandboxQuery): Promise<SandboxInfo[]>;
  /** Applies the patch; an expiry change is computed against the record as it is then, with core's clock (`now`, ms). */
  updateSandbox(id: string, patch: SandboxPatch, now: number): Promise<SandboxInfo>;
  deleteSandbox(id: string): Promise<void>;

  exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<ExecResult>;
  /**
   * Starts the command and resolves once it runs (so an unknown sandbox still fails as a plain error).
   * The events end with exactly one `exit` or `error`; aborting the signal kills the command.
   */
  execStream(id: string, spec: ExecSpec, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>>;

  readFile(id: string, path: WorkspacePath): Promise<FileStream>;
  /** Streams `body` to a temporary file and renames it into place; more than maxBytes → payload_too_large. */
  writeFile(id: string, path: WorkspacePath, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<FileInfo>;
  statFile(id: string, path: WorkspacePath): Promise<FileInfo>;
  listFiles(id: string, path: WorkspacePath, recursive: boolean, limit: number): Promise<{ entries: FileInfo[]; truncated: boolean }>;
  mkdir(id: string, path: WorkspacePath, recursive: boolean): Promise<FileInfo>;
  moveFile(id: string, from: WorkspacePath, to: WorkspacePath, overwrite: boolean): Promise<FileInfo>;
  deleteFile(id: string, path: WorkspacePath, recursive: boolean): Promise<void>;

  /** Starts the process and resolves once it runs; it outlives the request (and the caller). */
  startProcess(id: string, spec: ProcessSpec): Promise<ProcessInfo>;
  listProcesses(id: string): Promise<ProcessInfo[]>;
  getProcess(id: string, processId: string): Promise<ProcessInfo>;
  /** From `offset` forward, or (no offset) the tail; at most `limitBytes` of data. */
  readProcessLogs(id: string, processId: string, offset: number | undefined, limitBytes: number): Promise<ProcessLogSlice>;
  /**
   * Replays the log from `offset`, then follows it; ends with one `exit` event once the process has
   * ended and all its output was sent. Aborting `signal` stops following; the process keeps running.
   */
  followProcessLogs(id: string, processId: string, offset: number, signal: AbortSignal): Promise<AsyncIterable<ProcessLogEvent>>;
  /** Signals the process and all its descendants; answers once they are gone, or after a short grace when they survive a catchable signal. */
  killProcess(id: string, processId: string, signal: Signal): Promise<ProcessInfo>;
  /** Resolves with the process once `spec.port` accepts (and `path` answers); `timeout` error past the limit, `conflict` if the process ends first. */
  waitForPort(id: string, processId: string, spec: WaitForPortSpec, signal: AbortSignal): Promise<ProcessInfo>;
  /** Backends that keep the log elsewhere (another host) wait there; without this, core follows the log itself. */
  waitForLog?(id: string, processId: string, spec: WaitForLogSpec, signal: AbortSignal): Promise<WaitResult>;

  /**
   * Forwards an HTTP request to a port of the sandbox and answers its response, redirects untouched
   * (core prepared the headers and rewrites Location). Backends that run in Workers also take
   * WebSocket upgrades here and answer 101 with the socket. Nothing listening: `upstream_unavailable`.
   */
  fetchPort(id: string, port: number, request: Request): Promise<Response>;
  /** Where the Node host connects for raw WebSocket upgrades; backends whose ports are reached by fetch only leave it out. */
  portAddress?(id: string, port: number): Promise<PortAddress>;

  /** Snapshots (core/snapshots.ts); a backend without them answers `not_implemented`. */
  readonly snapshots?: BackendSnapshots;

  close(): Promise<void>;
}
