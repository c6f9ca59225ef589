/**
 * Snapshot metadata in the registry Durable Object's SQLite (one object, named SNAPSHOT_INDEX): the
 * bytes are in R2, this says which snapshots exist. A row is written only once its archive is
 * complete in R2, so a snapshot is visible whole or not at all.
 */
import type { Snapshot, SnapshotQuery } from "../../schemas/snapshots.ts";
import type { SqlLike } from "./registry.ts";

/** The registry object that holds every snapshot's row (snapshots are listed across sandboxes). */
export const SNAPSHOT_INDEX = "snapshots";

/** Where a snapshot's archive is in the R2 bucket. */
export const archiveKey = (id: string) => `snapshots/${id}.tar`;

/** What CloudflareSnapshots needs of the index; every method is one Durable Object RPC call, answering values. */
export interface SnapshotIndexApi {
  putSnapshot(snapshot: Snapshot): Promise<void>;
  getSnapshot(id: string, now: number): Promise<Snapshot | null>;
  listSnapshots(query: SnapshotQuery, now: number): Promise<Snapshot[]>;
  updateSnapshot(id: string, patch: { labels?: Record<string, string>; expiresAt?: string | null }, now: number): Promise<Snapshot | null>;
  /** False when there was no such row. */
  removeSnapshot(id: string): Promise<boolean>;
  /** Rows whose expiry has passed (their R2 objects are then deleted by the caller, then the rows). */
  expiredSnapshots(now: number): Promise<string[]>;
}

export const SNAPSHOTS_SCHEMA = `CREATE TABLE IF NOT EXISTS snapshots (
  id TEXT PRIMARY KEY,
  sandbox_id TEXT,
  expires_at TEXT,
  data TEXT NOT NULL
)`;

interface SnapshotRow {
  data: string;
  [column: string]: string | number | null;
}

const live = (s: Snapshot, now: number) => s.expiresAt === null || Date.parse(s.expiresAt) > now;

/** The index over SQLite, used by the registry Durable Object. */
export class SnapshotIndex implements SnapshotIndexApi {
  constructor(private readonly sql: SqlLike) {
    sql.exec(SNAPSHOTS_SCHEMA);
  }

  async putSnapshot(snapshot: Snapshot): Promise<void> {
    this.sql.exec("INSERT INTO snapshots (id, sandbox_id, expires_at, data) VALUES (?, ?, ?, ?)", snapshot.id, snapshot.sandboxId, snapshot.expiresAt, JSON.stringify(snapshot));
  }

  async getSnapshot(id: string, now: number): Promise<Snapshot | null> {
    const row = this.sql.exec("SELECT data FROM snapshots WHERE id = ?", id).toArray()[0] as SnapshotRow | undefined;
    const snapshot = row ? (JSON.parse(row.data) as Snapshot) : null;
    // An expired snapshot is gone to readers at once; its bytes go when expiredSnapshots is next asked.
    return snapshot && live(snapshot, now) ? snapshot : null;
  }

  async listSnapshots(query: SnapshotQuery, now: number): Promise<Snapshot[]> {
    const out: Snapshot[] = [];
    const rows = query.sandboxId === undefined
      ? this.sql.exec("SELECT data FROM snapshots WHERE id > ? ORDER BY id", query.after ?? "")
      : this.sql.exec("SELECT data FROM snapshots WHERE id > ? AND sandbox_id = ? ORDER BY id", query.after ?? "", query.sandboxId);
    for (const row of rows.toArray() as SnapshotRow[]) {
      const snapshot = JSON.parse(row.data) as Snapshot;
      if (!live(snapshot, now) || !Object.entries(query.labels).every(([k, v]) => snapshot.labels[k] === v)) continue;
      out.push(snapshot);
      if (out.length >= query.limit) break;
    }
    return out;
  }

  async updateSnapshot(id: string, patch: { labels?: Record<string, string>; expiresAt?: string | null }, now: number): Promise<Snapshot | null> {
    const current = await this.getSnapshot(id, now);
    if (!current) return null;
    const next: Snapshot = { ...current, ...(patch.labels ? { labels: patch.labels } : {}), ...(patch.expiresAt !== undefined ? { expiresAt: patch.expiresAt } : {}) };
    this.sql.exec("UPDATE snapshots SET expires_at = ?, data = ? WHERE id = ?", next.expiresAt, JSON.stringify(next), id);
    return next;
  }

  async removeSnapshot(id: string): Promise<boolean> {
    const had = this.sql.exec("SELECT 1 FROM snapshots WHERE id = ?", id).toArray().length > 0;
    this.sql.exec("DELETE FROM snapshots WHERE id = ?", id);
    return had;
  }

  /** The earliest expiry of any row (the registry object's alarm is set by it), or null. */
  nextExpiry(): number | null {
    const next = (this.sql.exec("SELECT MIN(expires_at) AS next FROM snapshots").toArray()[0] as { next: string | null } | undefined)?.next;
    return typeof next === "string" ? Date.parse(next) : null;
  }

  async expiredSnapshots(now: number): Promise<string[]> {
    const rows = this.sql.exec("SELECT id FROM snapshots WHERE expires_at IS NOT NULL AND expires_at <= ?", new Date(now).toISOString()).toArray() as { id: string }[];
    return rows.map((r) => r.id);
  }
}
