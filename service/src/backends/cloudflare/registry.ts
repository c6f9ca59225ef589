import type { SandboxQuery, SandboxRecord } from "../../core/backend.ts";

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
  update(id: string, patch: { expiresAt?: string; labels?: Record<string, string> }): Promise<SandboxRecord | null>;
  remove(id: string): Promise<void>;
}

/** The registry's SQL, shared by the Durable Object and anything else that keeps records in SQLite. */
export const REGISTRY_SCHEMA = `CREATE TABLE IF NOT EXISTS sandboxes (
  id TEXT PRIMARY KEY,
  labels TEXT NOT NULL,
  env TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
)`;

export interface RegistryRow {
  id: string;
  labels: string;
  env: string;
  created_at: string;
  expires_at: string;
  [column: string]: string;
}

export function rowToRecord(row: RegistryRow): SandboxRecord {
  return { id: row.id, labels: JSON.parse(row.labels), env: JSON.parse(row.env), createdAt: row.created_at, expiresAt: row.expires_at };
}
