import type { FileStream } from "../../core/backend.ts";
import { encodeCursor } from "../../core/listing.ts";
import { routeOf } from "../../core/routes.ts";
import { ARCHIVE_TYPES, type ArchiveCompression, type BackendSnapshots } from "../../core/snapshots.ts";
import type { RestoreResult, Snapshot, SnapshotQuery, SnapshotSpec } from "../../schemas/snapshots.ts";

type Route = ReturnType<typeof routeOf>;
/** One call to the remote host (RemoteBackend's), its error envelope already a SandgateError. */
export type RemoteCall = (route: Route, init?: { body?: unknown; raw?: ReadableStream<Uint8Array>; signal?: AbortSignal; accept?: string }) => Promise<Response>;

/**
 * Snapshots kept by the remote host: every operation forwards to its REST API, archives stream
 * through untouched. The remote host chooses snapshot ids and applies its own limits, so `spec.id`
 * and `spec.maxBytes` stay on this side; times travel as TTLs (the remote's clock applies them).
 */
export class RemoteSnapshots implements BackendSnapshots {
  constructor(private readonly call: RemoteCall) {}

  async create(sandboxId: string, spec: SnapshotSpec, signal?: AbortSignal): Promise<Snapshot> {
    const body = { ...(spec.name === null ? {} : { name: spec.name }), labels: spec.labels, excludes: spec.excludes, ...ttlOf(spec.expiresAt) };
    return this.json(routeOf("createSnapshot", { id: sandboxId }), { body, signal });
  }

  async list(query: SnapshotQuery): Promise<Snapshot[]> {
    const out: Snapshot[] = [];
    let cursor = query.after === undefined ? undefined : encodeCursor(query.after);
    const label = Object.entries(query.labels).map(([k, v]) => `${k}:${v}`);
    while (out.length < query.limit) {
      const limit = Math.min(1000, query.limit - out.length);
      const page = await this.json<{ snapshots: Snapshot[]; nextCursor: string | null }>(routeOf("listSnapshots", {}, { sandboxId: query.sandboxId, label, limit, cursor }));
      out.push(...page.snapshots);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    return out;
  }

  get(snapshotId: string): Promise<Snapshot> {
    return this.json(routeOf("getSnapshot", { snapshotId }));
  }

  async delete(snapshotId: string): Promise<void> {
    await this.call(routeOf("deleteSnapshot", { snapshotId }));
  }

  update(snapshotId: string, patch: { labels?: Record<string, string>; expiresAt?: string | null }): Promise<Snapshot> {
    const body = { ...(patch.labels ? { labels: patch.labels } : {}), ...(patch.expiresAt === undefined ? {} : patch.expiresAt === null ? { ttlSeconds: null } : ttlOf(patch.expiresAt)) };
    return this.json(routeOf("updateSnapshot", { snapshotId }), { body });
  }

  async restore(sandboxId: string, snapshotId: string, options: { killProcesses: boolean }): Promise<{ killedProcesses: number }> {
    const result = await this.json<RestoreResult>(routeOf("restoreSnapshot", { id: sandboxId }), { body: { snapshotId, killProcesses: options.killProcesses } });
    return { killedProcesses: result.killedProcesses };
  }

  /** The remote host compresses as it can (asked by the same Accept); its Content-Type says what came. */
  async exportArchive(snapshotId: string, accepted: readonly ArchiveCompression[] = []): Promise<FileStream> {
    const accept = accepted.length > 0 ? [...accepted.map((c) => ARCHIVE_TYPES[c]), `${ARCHIVE_TYPES.tar};q=0.1`].join(", ") : undefined;
    const res = await this.call(routeOf("exportSnapshot", { snapshotId }), accept ? { accept } : {});
    const length = res.headers.get("content-length");
    const type = res.headers.get("content-type")?.split(";")[0]?.trim();
    return { body: res.body ?? new ReadableStream({ start: (c) => c.close() }), size: length === null ? -1 : Number(length), contentType: type || ARCHIVE_TYPES.tar };
  }

  async importArchive(spec: SnapshotSpec, body: ReadableStream<Uint8Array>, _maxBytes: number): Promise<Snapshot> {
    const label = Object.entries(spec.labels).map(([k, v]) => `${k}:${v}`);
    const query = { name: spec.name ?? undefined, label, ttlSeconds: ttlOf(spec.expiresAt).ttlSeconds };
    return (await this.call(routeOf("importSnapshot", {}, query), { raw: body })).json() as Promise<Snapshot>;
  }

  private async json<T>(route: Route, init: { body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    return (await (await this.call(route, init)).json()) as T;
  }
}

/** An expiry as the TTL the remote host's API takes (at least a second: it has not passed yet). */
function ttlOf(expiresAt: string | null): { ttlSeconds?: number } {
  return expiresAt === null ? {} : { ttlSeconds: Math.max(1, Math.ceil((Date.parse(expiresAt) - Date.now()) / 1000)) };
}
