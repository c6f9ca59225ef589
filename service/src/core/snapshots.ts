import type { Principal } from "./auth.ts";
import type { FileStream } from "./backend.ts";
import type { SandgateCore } from "./core.ts";
import { generateId } from "./ids.ts";
import { decodeCursor, encodeCursor, parseLabels } from "./listing.ts";
import { SandgateError, errors } from "./errors.ts";
import type { SandboxInfo } from "../schemas/sandboxes.ts";
import type { CreateSnapshotBody, ForkBody, ForkResult, RestoreResult, UpdateSnapshotBody, Snapshot, SnapshotQuery, SnapshotSpec } from "../schemas/snapshots.ts";

/**
 * What a backend that keeps snapshots does (Backend.snapshots). Core checks input and chooses ids and
 * times; the backend stores, restores and streams. Archives are tar: the portable format.
 */
export interface BackendSnapshots {
  /** A consistent cut of the sandbox's /workspace, visible only once complete. */
  create(sandboxId: string, spec: SnapshotSpec, signal?: AbortSignal): Promise<Snapshot>;
  list(query: SnapshotQuery): Promise<Snapshot[]>;
  get(snapshotId: string): Promise<Snapshot>;
  /** Frees what no other snapshot uses. */
  delete(snapshotId: string): Promise<void>;
  /** What the snapshots take on this host, from counters (cheap enough for every /health). */
  usage?(): { count: number; blobs: number; storedBytes: number };
  /** Replaces labels and/or the expiry (null: none), durably. */
  update(snapshotId: string, patch: { labels?: Record<string, string>; expiresAt?: string | null }): Promise<Snapshot>;
  /**
   * Replaces the sandbox's /workspace with the snapshot's tree: readers see the old tree or the new
   * one. Running background processes: `conflict`, unless `killProcesses`. Answers how many it killed.
   */
  restore(sandboxId: string, snapshotId: string, options: { killProcesses: boolean }): Promise<{ killedProcesses: number }>;
  /**
   * The snapshot as a tar stream (size -1: not known ahead, sent chunked), compressed with the first
   * of `accepted` the backend can make (its `contentType` then says which), else plain tar.
   */
  exportArchive(snapshotId: string, accepted?: readonly ArchiveCompression[]): Promise<FileStream>;
  /** Stores a tar stream as a new snapshot; a malformed or unsafe archive stores nothing. */
  importArchive(spec: SnapshotSpec, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Snapshot>;
}

/** Compressions an exported archive can have, asked for by media type in the request's Accept. */
export type ArchiveCompression = "zstd" | "gzip";

/** The media type of an archive: each compression's, and plain tar. */
export const ARCHIVE_TYPES = { tar: "application/x-tar", gzip: "application/gzip", zstd: "application/zstd" } as const;

/**
 * The compressions an Accept header asks for, most wanted first (by q, then by order); those after
 * plain tar (`application/x-tar`) or with q=0 are left out. No Accept, or one naming neither: none.
 * `application/x-gzip` is taken as gzip; `*\/*` means whatever, so it asks for nothing.
 */
export function acceptedCompressions(accept: string | undefined): ArchiveCompression[] {
  if (!accept) return [];
  const wanted: { kind: ArchiveCompression | "tar"; q: number; at: number }[] = [];
  accept.split(",").forEach((part, at) => {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const q = Number(params.find((p) => p.startsWith("q="))?.slice(2) ?? "1");
    if (!(q > 0)) return;
    const kind = type === "application/zstd" ? "zstd" : type === "application/gzip" || type === "application/x-gzip" ? "gzip" : type === "application/x-tar" ? "tar" : undefined;
    if (kind) wanted.push({ kind, q, at });
  });
  wanted.sort((a, b) => b.q - a.q || a.at - b.at);
  const out: ArchiveCompression[] = [];
  for (const { kind } of wanted) {
    if (kind === "tar") break;
    if (!out.includes(kind)) out.push(kind);
  }
  return out;
}

const notImplemented = (backend: string) =>
  new SandgateError("not_implemented", `snapshots are not implemented on the '${backend}' backend yet`, { backend });

function store(core: SandgateCore): BackendSnapshots {
  const snapshots = core.backend.snapshots;
  if (!snapshots) throw notImplemented(core.backend.name);
  return snapshots;
}

/** The record of a snapshot made to `spec`, with what its backend measured of the tree it stored. */
export function snapshotRecord(spec: SnapshotSpec, sandboxId: string | null, tree: { digest: string; fileCount: number; sizeBytes: number; storedBytes: number }): Snapshot {
  return {
    id: spec.id,
    sandboxId,
    name: spec.name,
    labels: spec.labels,
    createdAt: spec.createdAt,
    expiresAt: spec.expiresAt,
    fileCount: tree.fileCount,
    sizeBytes: tree.sizeBytes,
    storedBytes: tree.storedBytes,
    digest: tree.digest,
  };
}

function spec(core: SandgateCore, input: { name?: string; labels?: Record<string, string>; excludes?: string[]; ttlSeconds?: number }): SnapshotSpec {
  const now = core.clock();
  return {
    id: generateId("snap-"),
    name: input.name ?? null,
    labels: input.labels ?? {},
    excludes: input.excludes ?? [],
    createdAt: new Date(now).toISOString(),
    expiresAt: input.ttlSeconds === undefined ? null : new Date(now + input.ttlSeconds * 1000).toISOString(),
    maxBytes: core.limits.maxSnapshotBytes,
  };
}

/** A scoped token reaches only the snapshots of its own sandbox. */
function mayUse(principal: Principal | undefined, snapshot: Snapshot): void {
  if (principal?.kind === "scoped" && snapshot.sandboxId !== principal.sandboxId) {
    throw errors.notFound(`snapshot '${snapshot.id}' not found`);
  }
}

export function createSnapshot(core: SandgateCore, { id, ...input }: { id: string } & CreateSnapshotBody, signal?: AbortSignal): Promise<Snapshot> {
  return store(core).create(id, spec(core, input), signal);
}

export async function listSnapshots(core: SandgateCore, input: { sandboxId?: string; label?: string | string[]; limit?: number; cursor?: string }) {
  const limit = input.limit ?? 100;
  const page = await store(core).list({ sandboxId: input.sandboxId, labels: parseLabels(input.label, "label"), limit: limit + 1, after: decodeCursor(input.cursor) });
  const snapshots = page.slice(0, limit);
  const last = snapshots.at(-1);
  return { snapshots, nextCursor: page.length > limit && last ? encodeCursor(last.id) : null };
}

export function getSnapshot(core: SandgateCore, { snapshotId }: { snapshotId: string }): Promise<Snapshot> {
  return store(core).get(snapshotId);
}

export function updateSnapshot(core: SandgateCore, { snapshotId, labels, ttlSeconds }: { snapshotId: string } & UpdateSnapshotBody): Promise<Snapshot> {
  const expiresAt = ttlSeconds === undefined ? undefined : ttlSeconds === null ? null : new Date(core.clock() + ttlSeconds * 1000).toISOString();
  return store(core).update(snapshotId, { ...(labels !== undefined ? { labels } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) });
}

export function deleteSnapshot(core: SandgateCore, { snapshotId }: { snapshotId: string }): Promise<void> {
  return store(core).delete(snapshotId);
}

export async function restoreSnapshot(
  core: SandgateCore,
  { id, snapshotId, killProcesses }: { id: string; snapshotId: string; killProcesses?: boolean },
  principal?: Principal,
): Promise<RestoreResult> {
  const snapshots = store(core);
  const snapshot = await snapshots.get(snapshotId);
  mayUse(principal, snapshot);
  const { killedProcesses } = await snapshots.restore(id, snapshotId, { killProcesses: killProcesses ?? false });
  return { sandbox: await core.backend.getSandbox(id), snapshot, killedProcesses };
}

/** How many of a fork's sandboxes are created at once (each starts an environment and restores into it). */
const FORK_PARALLEL = 4;

/**
 * One snapshot of the sandbox (a consistent cut), then `count` sandboxes created from it. All or
 * nothing: when one create fails, the ones made are deleted and the error answered.
 */
export async function forkSandbox(core: SandgateCore, { id, count, labels, ttlSeconds, env, network, excludes, keepSnapshot }: { id: string } & ForkBody, signal?: AbortSignal): Promise<ForkResult> {
  const snapshot = await createSnapshot(core, { id, excludes, labels: { "sandgate.fork-of": id } }, signal);
  const made: SandboxInfo[] = [];
  let failure: unknown;
  try {
    let next = 0;
    const worker = async () => {
      while (failure === undefined && next < count) {
        next++;
        if (signal?.aborted) throw errors.invalid("the client closed the connection");
        made.push(await core.createSandbox({ fromSnapshot: snapshot.id, labels, ttlSeconds, env, network }));
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(FORK_PARALLEL, count) }, () =>
        worker().catch((err: unknown) => {
          failure ??= err;
        }),
      ),
    );
    if (failure !== undefined) {
      await Promise.all(made.map((sandbox) => core.backend.deleteSandbox(sandbox.id).catch(() => {})));
      throw failure;
    }
  } finally {
    if (!keepSnapshot || failure !== undefined) await store(core).delete(snapshot.id).catch(() => {});
  }
  // In the order they were asked for is not meaningful; by id, as lists are.
  made.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { sandboxes: made, ...(keepSnapshot ? { snapshot } : {}) };
}

/** The archive, compressed as `accept` (the request's Accept header) asks where the backend can. */
export async function exportSnapshot(core: SandgateCore, { snapshotId }: { snapshotId: string }, accept?: string): Promise<FileStream> {
  const file = await store(core).exportArchive(snapshotId, acceptedCompressions(accept));
  return { ...file, contentType: file.contentType ?? ARCHIVE_TYPES.tar };
}

export async function importSnapshot(
  core: SandgateCore,
  input: { body: ReadableStream<Uint8Array>; name?: string; label?: string | string[]; ttlSeconds?: number },
  declaredLength?: number,
): Promise<Snapshot> {
  const max = core.limits.maxSnapshotBytes;
  // Compressed archives are longer than nothing, so this bounds the raw body only where it is plain.
  if (declaredLength !== undefined && declaredLength > max + 1024 * 1024) {
    await input.body.cancel().catch(() => {});
    throw errors.tooLarge(`the archive is larger than the ${max}-byte snapshot limit`, max);
  }
  let labels: Record<string, string>;
  try {
    labels = parseLabels(input.label, "label");
  } catch (err) {
    await input.body.cancel().catch(() => {});
    throw err;
  }
  return store(core).importArchive(spec(core, { name: input.name, labels, ttlSeconds: input.ttlSeconds }), input.body, max);
}

