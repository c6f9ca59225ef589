import type { SandboxPatch, SandboxQuery, SandboxRecord } from "../../core/backend.ts";
import type { NetworkMode } from "../../schemas/sandboxes.ts";
import type { Segment } from "./logs.ts";

/** What Sandgate keeps about a background process that the SDK does not: its name, argv and cwd. */
export interface ProcessRow {
  processId: string;
  name: string | null;
  argv: string[];
  cwd: string;
  startedAt: string;
  /** A kill request reached it: however it then ends, it was killed. */
  killRequested: boolean;
  /** When Sandgate first saw it ended (the SDK's rpc answers carry no end time). */
  endedAt: string | null;
}

/** The bytes of each stream a reader has seen of a process's output. */
export interface ObservedOutput {
  stdout: number;
  stderr: number;
}

/** The layout of a process's combined log (see logs.ts): its segments from index `since` on. */
export interface LayoutPage {
  since: number;
  segments: Segment[];
}

/**
 * What CloudflareBackend needs from its registry: the records the SDK does not keep. Implemented
 * by the SandgateRegistry Durable Object (SQLite); every method is one Durable Object RPC call.
 * Methods answer with values, not errors, because only values keep their meaning across RPC.
 */
export interface RegistryApi {
  /** False when the id is taken: one writer at a time makes concurrent creates safe. */
  create(record: SandboxRecord): Promise<boolean>;
  get(id: string): Promise<SandboxRecord | null>;
  list(query: SandboxQuery): Promise<SandboxRecord[]>;
  update(id: string, patch: RecordPatch): Promise<SandboxRecord | null>;
  /** Forgets the sandbox, its processes and their log layouts. */
  remove(id: string): Promise<void>;

  /** False when the sandbox is gone or the process id is taken. */
  addProcess(sandboxId: string, row: ProcessRow): Promise<boolean>;
  listProcesses(sandboxId: string): Promise<ProcessRow[]>;
  getProcess(sandboxId: string, processId: string): Promise<ProcessRow | null>;
  /** False when there is no such process. */
  markKillRequested(sandboxId: string, processId: string): Promise<boolean>;
  /** Records when the process was first seen ended, unless a time is recorded already; answers the recorded time (null: no such process). */
  markEnded(sandboxId: string, processId: string, endedAt: string): Promise<string | null>;
  /**
   * Lays out, after what is laid out already, the output a reader has seen and the log does not
   * hold yet (stdout's new bytes first, then stderr's), and answers the layout from segment `since`
   * on. One writer at a time, so every reader of a process agrees on one combined log. Null when
   * there is no such process.
   */
  extendLog(sandboxId: string, processId: string, observed: ObservedOutput | null, since: number): Promise<LayoutPage | null>;
}

/** A SandboxPatch with the caller's clock for an expiry change (the registry's own when absent). */
export interface RecordPatch extends SandboxPatch {
  now?: number;
}

/** The registry's SQL, shared by the Durable Object and anything else that keeps records in SQLite. */
export const REGISTRY_SCHEMA = `CREATE TABLE IF NOT EXISTS sandboxes (
  id TEXT PRIMARY KEY,
  labels TEXT NOT NULL,
  env TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  network TEXT,
  instance TEXT
)`;

export const PROCESSES_SCHEMA = `CREATE TABLE IF NOT EXISTS processes (
  sandbox_id TEXT NOT NULL,
  process_id TEXT NOT NULL,
  name TEXT,
  argv TEXT NOT NULL,
  cwd TEXT NOT NULL,
  started_at TEXT NOT NULL,
  kill_requested INTEGER NOT NULL DEFAULT 0,
  ended_at TEXT,
  stdout_bytes INTEGER NOT NULL DEFAULT 0,
  stderr_bytes INTEGER NOT NULL DEFAULT 0,
  segments INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (sandbox_id, process_id)
)`;

/** One row per segment of a combined log: `stream` (0 stdout, 1 stderr) up to byte `end` of that stream. */
export const LOG_SEGMENTS_SCHEMA = `CREATE TABLE IF NOT EXISTS log_segments (
  sandbox_id TEXT NOT NULL,
  process_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  end_byte INTEGER NOT NULL,
  PRIMARY KEY (sandbox_id, process_id, seq)
)`;

/** The part of SQLite storage the registry uses (Durable Object `SqlStorage`). */
export interface SqlLike {
  // Durable Object SqlStorage takes bindings of any SQL value.
  exec(query: string, ...bindings: any[]): { toArray(): unknown[] };
}

/**
 * Creates the tables, and brings registries made by older versions up to date: rows written before
 * networks existed get a NULL `network` (read as `egress`), rows written before instances a NULL
 * `instance` (see recordInstance).
 */
export function migrateRegistry(sql: SqlLike): void {
  sql.exec(REGISTRY_SCHEMA);
  const columns = (sql.exec("PRAGMA table_info(sandboxes)").toArray() as { name: string }[]).map((c) => c.name);
  if (!columns.includes("network")) sql.exec("ALTER TABLE sandboxes ADD COLUMN network TEXT");
  // Failed destroys of expired sandboxes are retried (registry-object.ts alarm).
  if (!columns.includes("destroy_attempts")) sql.exec("ALTER TABLE sandboxes ADD COLUMN destroy_attempts INTEGER NOT NULL DEFAULT 0");
  if (!columns.includes("destroy_retry_at")) sql.exec("ALTER TABLE sandboxes ADD COLUMN destroy_retry_at TEXT");
  if (!columns.includes("instance")) sql.exec("ALTER TABLE sandboxes ADD COLUMN instance TEXT");
  sql.exec(PROCESSES_SCHEMA);
  const processColumns = (sql.exec("PRAGMA table_info(processes)").toArray() as { name: string }[]).map((c) => c.name);
  if (!processColumns.includes("ended_at")) sql.exec("ALTER TABLE processes ADD COLUMN ended_at TEXT");
  sql.exec(LOG_SEGMENTS_SCHEMA);
}

export interface RegistryRow {
  id: string;
  labels: string;
  env: string;
  created_at: string;
  expires_at: string;
  network: string | null;
  instance: string | null;
  [column: string]: string | number | null;
}

export function rowToRecord(row: RegistryRow): SandboxRecord {
  return {
    id: row.id,
    labels: JSON.parse(row.labels),
    env: JSON.parse(row.env),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    network: (row.network ?? "egress") as NetworkMode,
    ...(row.instance ? { instance: row.instance } : {}),
  };
}

export interface ProcessTableRow {
  sandbox_id: string;
  process_id: string;
  name: string | null;
  argv: string;
  cwd: string;
  started_at: string;
  kill_requested: number;
  ended_at: string | null;
  stdout_bytes: number;
  stderr_bytes: number;
  segments: number;
  [column: string]: string | number | null;
}

export function rowToProcess(row: ProcessTableRow): ProcessRow {
  return { processId: row.process_id, name: row.name, argv: JSON.parse(row.argv), cwd: row.cwd, startedAt: row.started_at, killRequested: row.kill_requested !== 0, endedAt: row.ended_at ?? null };
}
