import type { ExecEvent, ExecResult } from "../schemas/exec.ts";
import type { FileInfo } from "../schemas/files.ts";
import type { SandboxInfo } from "../schemas/sandboxes.ts";
import type { WorkspacePath } from "./paths.ts";

/** What core stores about a sandbox; each backend keeps these in its own registry. */
export interface SandboxRecord {
  id: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  createdAt: string;
  expiresAt: string;
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

export interface SandboxPatch {
  expiresAt?: string;
  labels?: Record<string, string>;
  ttlSeconds?: number;
  extendBySeconds?: number;
}

export interface SandboxQuery {
  labels: Record<string, string>;
  limit: number;
  /** The id after which the page starts (ids are listed in ascending order). */
  after?: string;
}

export interface FileStream {
  body: ReadableStream<Uint8Array>;
  size: number;
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
  listSandboxes(query: SandboxQuery): Promise<SandboxInfo[]>;
  /** `expiresAt` is the new expiry; the caller's own terms (ttl or extension) come along for backends that forward them. */
  updateSandbox(id: string, patch: SandboxPatch): Promise<SandboxInfo>;
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

  close(): Promise<void>;
}
