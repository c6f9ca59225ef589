/** The registry Durable Object (Workers only): sandbox records in SQLite, expiry by alarm. */
import { DurableObject } from "cloudflare:workers";
import { getSandbox } from "@cloudflare/sandbox";
import type { Sandbox } from "@cloudflare/sandbox";
import type { SandboxQuery, SandboxRecord } from "../../core/backend.ts";
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

export interface RegistryEnv {
  Sandbox: DurableObjectNamespace;
}

export class SandgateRegistry extends DurableObject<RegistryEnv> implements RegistryApi {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: RegistryEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrateRegistry(this.sql);
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
      ...(patch.expiresAt ? { expiresAt: patch.expiresAt } : {}),
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

  /** Destroys every expired sandbox's container, forgets it, and sets the next alarm. */
  override async alarm(): Promise<void> {
    const now = new Date().toISOString();
    const expired = this.sql.exec<{ id: string }>("SELECT id FROM sandboxes WHERE expires_at <= ?", now).toArray();
    for (const { id } of expired) {
      try {
        await getSandbox(this.env.Sandbox as unknown as DurableObjectNamespace<Sandbox>, id).destroy();
      } catch {
        // The container may already be gone; the record goes either way.
      }
      this.forget(id);
    }
    await this.scheduleAlarm();
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
    const next = this.sql.exec<{ next: string | null }>("SELECT MIN(expires_at) AS next FROM sandboxes").toArray()[0]?.next;
    if (next) await this.ctx.storage.setAlarm(Date.parse(next));
    else await this.ctx.storage.deleteAlarm();
  }
}
