/**
 * The registry spread over Durable Objects by sandbox id, so no one object takes every call: each
 * sandbox's record, processes and log layout live in shard `hash(id) % REGISTRY_SHARDS`, which
 * also holds the alarm that destroys its expired sandboxes. A listing asks every shard and merges
 * their pages by id. Records written by versions with one registry object (named "registry") stay
 * there and are found there: a lookup that misses its shard asks it, and a listing includes it.
 */
import type { SandboxQuery, SandboxRecord } from "../../core/backend.ts";
import type { LayoutPage, ObservedOutput, ProcessRow, RecordPatch, RegistryApi } from "./registry.ts";

/** Fixed: a change would move ids to other shards. */
export const REGISTRY_SHARDS = 16;
/** The one registry object of earlier versions. */
export const LEGACY_REGISTRY = "registry";

export function shardName(id: string): string {
  // FNV-1a: stable across isolates and versions.
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return `registry-shard-${hash % REGISTRY_SHARDS}`;
}

export class ShardedRegistry implements RegistryApi {
  /** Where each id's record was found: records never move, so a hit stays true. */
  private readonly homes = new Map<string, RegistryApi>();

  constructor(private readonly open: (name: string) => RegistryApi) {}

  private shard(id: string): RegistryApi {
    return this.open(shardName(id));
  }

  /** The object holding the record of `id`: its shard, or the legacy object; its shard when neither has it. */
  private async home(id: string): Promise<RegistryApi> {
    const known = this.homes.get(id);
    if (known) return known;
    const shard = this.shard(id);
    if (await shard.get(id)) return this.remember(id, shard);
    const legacy = this.open(LEGACY_REGISTRY);
    if (await legacy.get(id)) return this.remember(id, legacy);
    return shard;
  }

  private remember(id: string, at: RegistryApi): RegistryApi {
    if (this.homes.size > 10_000) this.homes.clear();
    this.homes.set(id, at);
    return at;
  }

  async create(record: SandboxRecord): Promise<boolean> {
    if (await this.open(LEGACY_REGISTRY).get(record.id)) return false;
    this.homes.delete(record.id);
    return this.shard(record.id).create(record);
  }

  async get(id: string): Promise<SandboxRecord | null> {
    const known = this.homes.get(id);
    if (known) {
      const record = await known.get(id);
      if (record) return record;
      this.homes.delete(id); // removed meanwhile (by another isolate or the alarm)
    }
    const shard = this.shard(id);
    const record = await shard.get(id);
    if (record) return (this.remember(id, shard), record);
    const legacy = this.open(LEGACY_REGISTRY);
    const old = await legacy.get(id);
    if (old) this.remember(id, legacy);
    return old;
  }

  async list(query: SandboxQuery): Promise<SandboxRecord[]> {
    const names = [LEGACY_REGISTRY, ...Array.from({ length: REGISTRY_SHARDS }, (_, i) => `registry-shard-${i}`)];
    const pages = await Promise.all(names.map((name) => this.open(name).list(query)));
    return pages
      .flat()
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, query.limit);
  }

  async update(id: string, patch: RecordPatch): Promise<SandboxRecord | null> {
    return (await this.home(id)).update(id, patch);
  }

  async remove(id: string): Promise<void> {
    const at = await this.home(id);
    this.homes.delete(id);
    await at.remove(id);
  }

  async addProcess(sandboxId: string, row: ProcessRow): Promise<boolean> {
    return (await this.home(sandboxId)).addProcess(sandboxId, row);
  }

  async listProcesses(sandboxId: string): Promise<ProcessRow[]> {
    return (await this.home(sandboxId)).listProcesses(sandboxId);
  }

  async getProcess(sandboxId: string, processId: string): Promise<ProcessRow | null> {
    return (await this.home(sandboxId)).getProcess(sandboxId, processId);
  }

  async markKillRequested(sandboxId: string, processId: string): Promise<boolean> {
    return (await this.home(sandboxId)).markKillRequested(sandboxId, processId);
  }

  async markEnded(sandboxId: string, processId: string, endedAt: string): Promise<string | null> {
    return (await this.home(sandboxId)).markEnded(sandboxId, processId, endedAt);
  }

  async extendLog(sandboxId: string, processId: string, observed: ObservedOutput | null, since: number): Promise<LayoutPage | null> {
    return (await this.home(sandboxId)).extendLog(sandboxId, processId, observed, since);
  }
}
