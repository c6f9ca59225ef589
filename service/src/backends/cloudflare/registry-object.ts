/** The registry Durable Object (Workers only): sandbox records in SQLite, expiry by alarm. */
import { DurableObject } from "cloudflare:workers";
import { getSandbox } from "@cloudflare/sandbox";
import type { Sandbox } from "@cloudflare/sandbox";
import type { SandboxQuery, SandboxRecord } from "../../core/backend.ts";
import { REGISTRY_SCHEMA, type RegistryApi, type RegistryRow, rowToRecord } from "./registry.ts";

export interface RegistryEnv {
  Sandbox: DurableObjectNamespace;
}

export class SandgateRegistry extends DurableObject<RegistryEnv> implements RegistryApi {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: RegistryEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(REGISTRY_SCHEMA);
  }

  async create(record: SandboxRecord): Promise<boolean> {
    const taken = this.sql.exec("SELECT 1 FROM sandboxes WHERE id = ?", record.id).toArray().length > 0;
    if (taken) return false;
    this.sql.exec(
      "INSERT INTO sandboxes (id, labels, env, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      record.id,
      JSON.stringify(record.labels),
      JSON.stringify(record.env),
      record.createdAt,
      record.expiresAt,
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

  async update(id: string, patch: { expiresAt?: string; labels?: Record<string, string> }): Promise<SandboxRecord | null> {
    const current = await this.get(id);
    if (!current) return null;
    const next = { ...current, ...(patch.expiresAt ? { expiresAt: patch.expiresAt } : {}), ...(patch.labels ? { labels: patch.labels } : {}) };
    this.sql.exec("UPDATE sandboxes SET labels = ?, expires_at = ? WHERE id = ?", JSON.stringify(next.labels), next.expiresAt, id);
    await this.scheduleAlarm();
    return next;
  }

  async remove(id: string): Promise<void> {
    this.sql.exec("DELETE FROM sandboxes WHERE id = ?", id);
    await this.scheduleAlarm();
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
      this.sql.exec("DELETE FROM sandboxes WHERE id = ?", id);
    }
    await this.scheduleAlarm();
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.sql.exec<{ next: string | null }>("SELECT MIN(expires_at) AS next FROM sandboxes").toArray()[0]?.next;
    if (next) await this.ctx.storage.setAlarm(Date.parse(next));
    else await this.ctx.storage.deleteAlarm();
  }
}
