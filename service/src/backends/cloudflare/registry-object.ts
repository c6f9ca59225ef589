/** The registry Durable Object (Workers only): sandbox records and snapshot rows in SQLite, expiry of both by alarm. */
import { DurableObject } from "cloudflare:workers";
import { getSandbox } from "@cloudflare/sandbox";
import type { Sandbox } from "@cloudflare/sandbox";
import { type SandboxQuery, type SandboxRecord, applyExpiry } from "../../core/backend.ts";
import { SANDBOX_OPTIONS, sdkIdProblem } from "./index.ts";
import type { Segment } from "./logs.ts";
import {
  type LayoutPage,
  type ObservedOutput,
  type ProcessRow,
  type ProcessTableRow,
  type RecordPatch,
  type RegistryApi,
  type RegistryRow,
  migrateRegistry,
  rowToProcess,
  rowToRecord,
} from "./registry.ts";
import { SnapshotIndex, type SnapshotIndexApi, archiveKey } from "./snapshot-index.ts";
import type { Snapshot, SnapshotQuery } from "../../schemas/snapshots.ts";

export interface RegistryEnv {
  Sandbox: DurableObjectNamespace;
  /** The binding that holds the SDK's Sandbox class, when not `Sandbox` (the tests bind the SDK stand-in). */
  SANDGATE_SANDBOX_BINDING?: string;
  /** The snapshots' R2 bucket: the alarm deletes an expired snapshot's archive there, then its row. */
  SNAPSHOTS?: { delete(key: string): Promise<void> };
}

/** The Durable Object namespace of the SDK's Sandbox class. */
export function sandboxNamespace(env: RegistryEnv): DurableObjectNamespace<Sandbox> {
  const name = env.SANDGATE_SANDBOX_BINDING || "Sandbox";
  const ns = (env as unknown as Record<string, unknown>)[name];
  if (!ns) throw new Error(`no Durable Object binding '${name}' for @cloudflare/sandbox`);
  // wrangler types cannot see the SDK's class behind the binding; this is its real type.
  return ns as DurableObjectNamespace<Sandbox>;
}

/** After a failed destroy, the next attempt waits this long, doubling up to a cap: the record (and its alarm) stays until a destroy succeeds. */
const DESTROY_RETRY_MS = 1000;
const DESTROY_RETRY_MAX_MS = 10 * 60_000;
/** An expired snapshot whose archive could not be deleted is tried again this long after. */
const SNAPSHOT_RETRY_MS = 30_000;

export class SandgateRegistry extends DurableObject<RegistryEnv> implements RegistryApi, SnapshotIndexApi {
  private readonly sql: SqlStorage;
  /** Snapshot rows (snapshot-index.ts), made on first use: only the object named SNAPSHOT_INDEX holds them. */
  private snapshotIndex: SnapshotIndex | undefined;

  constructor(ctx: DurableObjectState, env: RegistryEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrateRegistry(this.sql);
  }

  private snapshotRows(): SnapshotIndex {
    return (this.snapshotIndex ??= new SnapshotIndex(this.sql));
  }
  async putSnapshot(snapshot: Snapshot): Promise<void> {
    await this.snapshotRows().putSnapshot(snapshot);
    await this.scheduleAlarm();
  }
  getSnapshot(id: string, now: number): Promise<Snapshot | null> {
    return this.snapshotRows().getSnapshot(id, now);
  }
  listSnapshots(query: SnapshotQuery, now: number): Promise<Snapshot[]> {
    return this.snapshotRows().listSnapshots(query, now);
  }
  async updateSnapshot(id: string, patch: { labels?: Record<string, string>; expiresAt?: string | null }, now: number): Promise<Snapshot | null> {
    const updated = await this.snapshotRows().updateSnapshot(id, patch, now);
    if (patch.expiresAt !== undefined) await this.scheduleAlarm();
    return updated;
  }
  removeSnapshot(id: string): Promise<boolean> {
    return this.snapshotRows().removeSnapshot(id);
  }
  expiredSnapshots(now: number): Promise<string[]> {
    return this.snapshotRows().expiredSnapshots(now);
  }

  async create(record: SandboxRecord): Promise<boolean> {
    const taken = this.sql.exec("SELECT 1 FROM sandboxes WHERE id = ?", record.id).toArray().length > 0;
    if (taken) return false;
    this.sql.exec(
      "INSERT INTO sandboxes (id, labels, env, created_at, expires_at, network, instance) VALUES (?, ?, ?, ?, ?, ?, ?)",
      record.id,
      JSON.stringify(record.labels),
      JSON.stringify(record.env),
      record.createdAt,
      record.expiresAt,
      record.network ?? "egress",
      record.instance ?? null,
    );
    await this.scheduleAlarm();
    return true;
  }

  async get(id: string): Promise<SandboxRecord | null> {
    const row = this.sql.exec<RegistryRow>("SELECT * FROM sandboxes WHERE id = ?", id).toArray()[0];
    return row ? rowToRecord(row) : null;
  }

  async list(query: SandboxQuery): Promise<SandboxRecord[]> {
    const out: SandboxRecord[] = [];
    // Label filters run in JS over id-ordered rows; the table is small and ids page it.
    for (const row of this.sql.exec<RegistryRow>("SELECT * FROM sandboxes WHERE id > ? ORDER BY id", query.after ?? "")) {
      const record = rowToRecord(row);
      if (Object.entries(query.labels).every(([k, v]) => record.labels[k] === v)) out.push(record);
      if (out.length >= query.limit) break;
    }
    return out;
  }

  async update(id: string, patch: RecordPatch): Promise<SandboxRecord | null> {
    const current = await this.get(id);
    if (!current) return null;
    const next = {
      ...current,
      ...(patch.expiry ? { expiresAt: applyExpiry(patch.expiry, current.expiresAt, patch.now ?? Date.now()) } : {}),
      ...(patch.labels ? { labels: patch.labels } : {}),
      ...(patch.env ? { env: patch.env } : {}),
    };
    this.sql.exec("UPDATE sandboxes SET labels = ?, env = ?, expires_at = ? WHERE id = ?", JSON.stringify(next.labels), JSON.stringify(next.env), next.expiresAt, id);
    await this.scheduleAlarm();
    return next;
  }

  async remove(id: string): Promise<void> {
    this.forget(id);
    await this.scheduleAlarm();
  }

  async addProcess(sandboxId: string, row: ProcessRow): Promise<boolean> {
    if (this.sql.exec("SELECT 1 FROM sandboxes WHERE id = ?", sandboxId).toArray().length === 0) return false;
    if (this.sql.exec("SELECT 1 FROM processes WHERE sandbox_id = ? AND process_id = ?", sandboxId, row.processId).toArray().length > 0) return false;
    this.sql.exec(
      "INSERT INTO processes (sandbox_id, process_id, name, argv, cwd, started_at, kill_requested) VALUES (?, ?, ?, ?, ?, ?, ?)",
      sandboxId,
      row.processId,
      row.name,
      JSON.stringify(row.argv),
      row.cwd,
      row.startedAt,
      row.killRequested ? 1 : 0,
    );
    return true;
  }

  async listProcesses(sandboxId: string): Promise<ProcessRow[]> {
    return this.sql
      .exec<ProcessTableRow>("SELECT * FROM processes WHERE sandbox_id = ? ORDER BY started_at, process_id", sandboxId)
      .toArray()
      .map(rowToProcess);
  }

  async getProcess(sandboxId: string, processId: string): Promise<ProcessRow | null> {
    const row = this.processRow(sandboxId, processId);
    return row ? rowToProcess(row) : null;
  }

  async markKillRequested(sandboxId: string, processId: string): Promise<boolean> {
    if (!this.processRow(sandboxId, processId)) return false;
    this.sql.exec("UPDATE processes SET kill_requested = 1 WHERE sandbox_id = ? AND process_id = ?", sandboxId, processId);
    return true;
  }

  async markEnded(sandboxId: string, processId: string, endedAt: string): Promise<string | null> {
    if (!this.processRow(sandboxId, processId)) return null;
    this.sql.exec("UPDATE processes SET ended_at = ? WHERE sandbox_id = ? AND process_id = ? AND ended_at IS NULL", endedAt, sandboxId, processId);
    return this.processRow(sandboxId, processId)?.ended_at ?? null;
  }

  async extendLog(sandboxId: string, processId: string, observed: ObservedOutput | null, since: number): Promise<LayoutPage | null> {
    const row = this.processRow(sandboxId, processId);
    if (!row) return null;
    let segments = row.segments;
    const totals = [row.stdout_bytes, row.stderr_bytes];
    const seen = observed ? [observed.stdout, observed.stderr] : [0, 0];
    // New bytes of stdout first, then of stderr: the one order every reader is given.
    for (const stream of [0, 1] as const) {
      if (seen[stream]! <= totals[stream]!) continue;
      const last = this.sql
        .exec<{ stream: number }>("SELECT stream FROM log_segments WHERE sandbox_id = ? AND process_id = ? AND seq = ?", sandboxId, processId, segments - 1)
        .toArray()[0];
      if (last?.stream === stream) {
        this.sql.exec("UPDATE log_segments SET end_byte = ? WHERE sandbox_id = ? AND process_id = ? AND seq = ?", seen[stream], sandboxId, processId, segments - 1);
      } else {
        this.sql.exec("INSERT INTO log_segments (sandbox_id, process_id, seq, stream, end_byte) VALUES (?, ?, ?, ?, ?)", sandboxId, processId, segments, stream, seen[stream]);
        segments++;
      }
      totals[stream] = seen[stream]!;
    }
    if (segments !== row.segments || totals[0] !== row.stdout_bytes || totals[1] !== row.stderr_bytes) {
      this.sql.exec(
        "UPDATE processes SET segments = ?, stdout_bytes = ?, stderr_bytes = ? WHERE sandbox_id = ? AND process_id = ?",
        segments,
        totals[0],
        totals[1],
        sandboxId,
        processId,
      );
    }
    const from = Math.max(0, Math.min(since, segments));
    const page = this.sql
      .exec<{ stream: number; end_byte: number }>(
        "SELECT stream, end_byte FROM log_segments WHERE sandbox_id = ? AND process_id = ? AND seq >= ? ORDER BY seq",
        sandboxId,
        processId,
        from,
      )
      .toArray()
      .map((s): Segment => [s.stream === 1 ? 1 : 0, s.end_byte]);
    return { since: from, segments: page };
  }

  /**
   * Destroys every expired sandbox's container and forgets it, deletes every expired snapshot
   * (archive, then row), then sets the next alarm. A destroy that throws keeps the record, to be
   * tried again after a back-off: forgetting it would leave the container running with nothing to
   * end it. An archive delete that throws keeps the row, tried again likewise.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const due = this.sql
      .exec<{ id: string; attempts: number }>(
        "SELECT id, destroy_attempts AS attempts FROM sandboxes WHERE expires_at <= ? AND (destroy_retry_at IS NULL OR destroy_retry_at <= ?)",
        new Date(now).toISOString(),
        new Date(now).toISOString(),
      )
      .toArray();
    for (const { id, attempts } of due) {
      try {
        // An id the SDK refuses never had a container.
        if (!sdkIdProblem(id)) await getSandbox(sandboxNamespace(this.env), id, SANDBOX_OPTIONS).destroy();
        this.forget(id);
      } catch {
        const wait = Math.min(DESTROY_RETRY_MAX_MS, DESTROY_RETRY_MS * 2 ** Math.min(attempts ?? 0, 20));
        this.sql.exec(
          "UPDATE sandboxes SET destroy_attempts = ?, destroy_retry_at = ? WHERE id = ?",
          (attempts ?? 0) + 1,
          new Date(now + wait).toISOString(),
          id,
        );
      }
    }
    await this.expireSnapshots(now);
    await this.scheduleAlarm();
  }

  /** The snapshot rows, when this object holds any (only the SNAPSHOT_INDEX object does). */
  private snapshotRowsHere(): SnapshotIndex | undefined {
    if (this.snapshotIndex) return this.snapshotIndex;
    const has = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'snapshots'").toArray().length > 0;
    return has ? this.snapshotRows() : undefined;
  }

  private async expireSnapshots(now: number): Promise<void> {
    const index = this.snapshotRowsHere();
    const bucket = this.env.SNAPSHOTS;
    if (!index || !bucket) return;
    for (const id of await index.expiredSnapshots(now)) {
      try {
        await bucket.delete(archiveKey(id));
        await index.removeSnapshot(id);
      } catch {
        // The row stays (readers already see the snapshot as gone); the next alarm tries again.
      }
    }
  }

  private forget(id: string): void {
    this.sql.exec("DELETE FROM sandboxes WHERE id = ?", id);
    this.sql.exec("DELETE FROM processes WHERE sandbox_id = ?", id);
    this.sql.exec("DELETE FROM log_segments WHERE sandbox_id = ?", id);
  }

  private processRow(sandboxId: string, processId: string): ProcessTableRow | undefined {
    return this.sql.exec<ProcessTableRow>("SELECT * FROM processes WHERE sandbox_id = ? AND process_id = ?", sandboxId, processId).toArray()[0];
  }

  private async scheduleAlarm(): Promise<void> {
    const sandboxes = this.sql
      .exec<{ next: string | null }>("SELECT MIN(MAX(expires_at, COALESCE(destroy_retry_at, expires_at))) AS next FROM sandboxes")
      .toArray()[0]?.next;
    let snapshots = this.env.SNAPSHOTS ? (this.snapshotRowsHere()?.nextExpiry() ?? null) : null;
    // A row past its expiry is one whose archive delete failed: tried again after a pause, not at once.
    if (snapshots !== null && snapshots <= Date.now()) snapshots = Date.now() + SNAPSHOT_RETRY_MS;
    const times = [sandboxes ? Date.parse(sandboxes) : null, snapshots].filter((t): t is number => t !== null);
    if (times.length > 0) await this.ctx.storage.setAlarm(Math.min(...times));
    else await this.ctx.storage.deleteAlarm();
  }
}
