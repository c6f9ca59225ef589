import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { createGzip, createZstdCompress } from "node:zlib";
import type { FileStream } from "../../../core/backend.ts";
import { SandgateError, errors } from "../../../core/errors.ts";
import { ARCHIVE_TYPES, type ArchiveCompression, type BackendSnapshots } from "../../../core/snapshots.ts";
import type { Snapshot, SnapshotQuery, SnapshotSpec } from "../../../schemas/snapshots.ts";
import type { AgentConnection } from "../agent.ts";
import { tarFromAgent, tarToAgent } from "./agent-tar.ts";
import { lentFiles } from "./tar-writer.ts";
import { type Ingested, type Offer, SnapshotStore } from "./store.ts";
import { type RestoreOutcome, dropRestoreNote, newStageName, noteRestore } from "./swap.ts";

/** How often a file that keeps changing is read again before the snapshot gives up (409). */
const REREADS = 5;

/** Room for the stat cache in a tar-out request: the agent reads frames of up to 4 MiB. */
const OFFER_BYTES = 3 * 1024 * 1024;

/** What the snapshots need of the local backend's sandboxes. */
export interface SandboxAccess {
  /** What a workspace may hold (its disk quota less the log budget), where a quota holds it. */
  workspaceLimit: number | undefined;
  /** The sandbox's directory; not_found for an unknown sandbox, conflict for one being deleted. */
  directory(id: string): string;
  /** The sandbox's agent, its environment held busy until `release`. */
  agent(id: string): Promise<{ agent: AgentConnection; release: () => void }>;
  runningProcesses(id: string): number;
  /** Kills the running background processes (they end as `killed`); answers how many. */
  killProcesses(id: string): Promise<number>;
  /** Stops and starts the sandbox's environment; a noted restore is swapped in (or abandoned) on the way. */
  restartEnvironment(id: string): Promise<RestoreOutcome>;
}

/**
 * Snapshots on this machine: the agent in the sandbox writes and reads tar (agent-tar.ts; on a root
 * host a restore's files are lent to the host, which copies their content in the kernel:
 * lent-copies.ts); the content-addressed store keeps them (store.ts); a restore is swapped in between
 * two lives of the sandbox's environment (swap.ts).
 */
export class LocalSnapshots implements BackendSnapshots {
  /** One snapshot or restore at a time per sandbox. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly reaper: NodeJS.Timeout;
  /**
   * Each sandbox's stat cache from its last snapshot, kept in memory and in the sandbox's host
   * directory (CUT_FILE), so the first snapshot after a host restart reads only what changed.
   * Bumped generations drop a cut taken while the sandbox was deleted.
   */
  private readonly lastCut = new Map<string, { snapshotId: string; offer: Offer }>();
  private readonly generations = new Map<string, number>();

  private constructor(
    readonly store: SnapshotStore,
    private readonly sandboxes: SandboxAccess,
    private readonly log: (message: string) => void,
  ) {
    this.reaper = setInterval(() => void this.reap(), 5000);
    this.reaper.unref();
  }

  /** `restorePath`: how restores put stored files into a sandbox's disk on this host (SandboxStorage.restorePath). */
  static async open(storeDir: string, restorePath: string, sandboxes: SandboxAccess, log: (message: string) => void): Promise<LocalSnapshots> {
    const snapshots = new LocalSnapshots(await SnapshotStore.open(storeDir, restorePath, log), sandboxes, log);
    await snapshots.reap();
    return snapshots;
  }

  close(): void {
    clearInterval(this.reaper);
  }

  async create(sandboxId: string, spec: SnapshotSpec, signal?: AbortSignal): Promise<Snapshot> {
    this.sandboxes.directory(sandboxId);
    return this.locked(sandboxId, async () => {
      const generation = this.generations.get(sandboxId) ?? 0;
      const { agent, release } = await this.sandboxes.agent(sandboxId);
      const pins = new Set<string>();
      // The offer's content is pinned (in the same tick as the check that its snapshot still
      // exists): an answer naming it finds it stored.
      const last = this.lastCut.get(sandboxId) ?? (await readCut(this.sandboxes.directory(sandboxId)));
      const offer = last && this.store.has(last.snapshotId) ? within(last.offer, OFFER_BYTES) : undefined;
      const releaseOffer = this.store.pin(offer ? [...offer.values()].map((o) => o.sha256) : []);
      const known = offer ? Object.fromEntries([...offer].map(([path, o]) => [path, [o.key, o.sha256]])) : undefined;
      let received = 0;
      const started = performance.now();
      try {
        let tree: Ingested | undefined;
        let only: string[] | undefined;
        for (let round = 0; ; round++) {
          if (signal?.aborted) throw errors.invalid("the client closed the connection");
          const { body, end } = tarFromAgent(agent, { excludes: spec.excludes, ...(only ? { only } : {}), ...(known ? { known } : {}) });
          const counted = (async function* () {
            for await (const chunk of body) {
              received += chunk.byteLength;
              yield chunk;
            }
          })();
          const read = await this.store.ingest(counted, spec.maxBytes, pins, tree, "any", offer);
          const { changed } = await end;
          if (tree && only) for (const path of only) if (!read.seen.has(path)) read.entries.delete(path); // gone since
          tree = read;
          if (changed.length === 0) break;
          if (round >= REREADS) throw errors.conflict(`files kept changing while the snapshot was taken: ${changed.slice(0, 5).join(", ")}`);
          only = changed;
        }
        const read = performance.now();
        const snapshot = await this.store.commit(spec, sandboxId, tree);
        const ms = (from: number, to: number) => Math.round(to - from);
        this.log(`snapshot '${snapshot.id}' of sandbox '${sandboxId}': ${received} tar bytes read from the sandbox, ${snapshot.storedBytes} stored; read in ${ms(started, read)} ms, committed in ${ms(read, performance.now())} ms`);
        if ((this.generations.get(sandboxId) ?? 0) === generation) {
          const cut = { snapshotId: snapshot.id, offer: offerOf(tree) };
          this.lastCut.set(sandboxId, cut);
          await writeCut(this.sandboxes.directory(sandboxId), cut).catch((err: Error) => this.log(`the stat cache of '${sandboxId}' was not saved: ${err.message}`));
        }
        return snapshot;
      } finally {
        release();
        releaseOffer();
        await this.store.unpin(pins);
      }
    });
  }

  /** The sandbox is being deleted: its stat cache goes (a later sandbox of that name starts afresh). */
  forget(sandboxId: string): void {
    this.lastCut.delete(sandboxId);
    this.generations.set(sandboxId, (this.generations.get(sandboxId) ?? 0) + 1);
  }

  async list(query: SnapshotQuery): Promise<Snapshot[]> {
    return this.store.list(query);
  }

  async get(snapshotId: string): Promise<Snapshot> {
    return this.store.get(snapshotId);
  }

  async delete(snapshotId: string): Promise<void> {
    await this.store.delete(snapshotId);
  }

  usage(): { count: number; blobs: number; storedBytes: number } {
    return this.store.counts();
  }

  update(snapshotId: string, patch: { labels?: Record<string, string>; expiresAt?: string | null }): Promise<Snapshot> {
    return this.store.update(snapshotId, patch);
  }

  async restore(sandboxId: string, snapshotId: string, options: { killProcesses: boolean }): Promise<{ killedProcesses: number }> {
    const dir = this.sandboxes.directory(sandboxId);
    const { sizeBytes } = this.store.get(snapshotId);
    // Checked before anything is written: clones in the disk pool pass a quota group's limit (a copy
    // into an image meets ENOSPC, answered the same way, when the old tree and the new do not fit).
    const limit = this.sandboxes.workspaceLimit;
    if (limit !== undefined && sizeBytes > limit) {
      throw new SandgateError("payload_too_large", `the snapshot holds ${sizeBytes} bytes of files, more than the sandbox's disk quota allows its workspace (${limit})`);
    }
    return this.locked(sandboxId, async () => {
      this.refuseWhileRunning(sandboxId, options.killProcesses);
      const held = await this.store.hold(snapshotId);
      const stage = newStageName();
      try {
        const { agent, release } = await this.sandboxes.agent(sandboxId);
        try {
          // Where the host can reach the agent's descriptors (as root), the agent lends it each file and
          // the content is copied in the kernel; elsewhere the bytes go through the tar stream.
          const lending = agent.hostPid !== undefined ? { hostPid: agent.hostPid, sources: lentFiles(held.entries).map((file) => ({ path: this.store.blobPath(file.sha256), size: file.size })) } : undefined;
          await tarToAgent(agent, { stage, maxBytes: 0 }, this.store.pack(held.entries, lending !== undefined), lending);
        } finally {
          release();
        }
      } finally {
        held.release();
      }
      // Committed from here: the next start of the environment swaps it in (swap.ts).
      this.sandboxes.directory(sandboxId);
      let killed = 0;
      try {
        if (options.killProcesses) killed = await this.sandboxes.killProcesses(sandboxId);
        this.refuseWhileRunning(sandboxId, options.killProcesses); // one started meanwhile
        await noteRestore(dir, stage);
      } catch (err) {
        await this.discardStage(sandboxId, stage);
        throw err;
      }
      const outcome = await this.sandboxes.restartEnvironment(sandboxId);
      // The sandbox replaced the staging directory while it was written: its workspace stays as it was.
      if (outcome === "abandoned") throw errors.conflict("the restore was abandoned: its staging directory in the workspace was replaced while it ran; the workspace is unchanged");
      return { killedProcesses: killed };
    });
  }

  /** Plain tar, or zstd or gzip (the first of `accepted`): both are made here, as the archive streams. */
  async exportArchive(snapshotId: string, accepted: readonly ArchiveCompression[] = []): Promise<FileStream> {
    const held = await this.store.hold(snapshotId);
    const chunks = this.store.pack(held.entries);
    // Pulled as the client reads (backpressure reaches the blob reads); the blobs are held until the end.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) {
            held.release();
            controller.close();
          } else controller.enqueue(next.value);
        } catch (err) {
          held.release();
          controller.error(err);
        }
      },
      async cancel() {
        held.release();
        await chunks.return(undefined);
      },
    });
    const compression = accepted[0];
    if (!compression) return { body, size: -1, contentType: ARCHIVE_TYPES.tar };
    return { body: compressed(body, compression), size: -1, contentType: ARCHIVE_TYPES[compression] };
  }

  async importArchive(spec: SnapshotSpec, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Snapshot> {
    const pins = new Set<string>();
    try {
      const tree = await this.store.ingest(body as unknown as AsyncIterable<Uint8Array>, maxBytes, pins);
      return await this.store.commit(spec, null, tree);
    } catch (err) {
      await body.cancel().catch(() => {});
      throw err;
    } finally {
      await this.store.unpin(pins);
    }
  }

  private refuseWhileRunning(sandboxId: string, killing: boolean): void {
    const running = this.sandboxes.runningProcesses(sandboxId);
    if (running > 0 && !killing) {
      throw new SandgateError("conflict", `${running} background process(es) run in sandbox '${sandboxId}': stop them, or pass killProcesses: true`, { running });
    }
  }

  private async discardStage(sandboxId: string, stage: string): Promise<void> {
    const dir = this.sandboxes.directory(sandboxId);
    await dropRestoreNote(dir).catch(() => {});
    const { agent, release } = await this.sandboxes.agent(sandboxId).catch(() => ({ agent: undefined, release: () => {} }));
    try {
      await agent?.call({ op: "delete", path: stage, recursive: true }, () => undefined).catch(() => {});
    } finally {
      release();
    }
  }

  private async locked<T>(sandboxId: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(sandboxId) ?? Promise.resolve();
    const mine = before.catch(() => {}).then(work);
    this.locks.set(sandboxId, mine);
    try {
      return await mine;
    } finally {
      if (this.locks.get(sandboxId) === mine) this.locks.delete(sandboxId);
    }
  }

  private async reap(): Promise<void> {
    for (const id of this.store.expired(Date.now())) {
      await this.store.delete(id).then(
        () => this.log(`snapshot '${id}' expired and was removed`),
        (err: unknown) => {
          if (!(err instanceof SandgateError)) this.log(`removing expired snapshot '${id}' failed: ${String(err)}`);
        },
      );
    }
  }
}

/**
 * `body` compressed as it is read (backpressure reaches the tar); a reader that goes away ends the
 * compressor, which cancels `body` (its blobs are let go).
 */
function compressed(body: ReadableStream<Uint8Array>, compression: ArchiveCompression): ReadableStream<Uint8Array> {
  const compressor = compression === "zstd" ? createZstdCompress() : createGzip();
  pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), compressor).catch(() => {}); // an error ends the compressor's stream too
  return Readable.toWeb(compressor) as unknown as ReadableStream<Uint8Array>;
}

/** Where a sandbox's stat cache is kept in its host directory (never the sandbox's own disk). */
const CUT_FILE = "snapshot-cut.json";

/** The stat cache saved by writeCut, or undefined when there is none or it is not one. */
async function readCut(dir: string): Promise<{ snapshotId: string; offer: Offer } | undefined> {
  try {
    const saved = JSON.parse(await readFile(join(dir, CUT_FILE), "utf8")) as { snapshotId?: unknown; offer?: unknown };
    if (typeof saved.snapshotId !== "string" || !Array.isArray(saved.offer)) return undefined;
    const offer = new Map<string, { key: string; sha256: string; size: number }>();
    for (const item of saved.offer as unknown[]) {
      if (!Array.isArray(item) || item.length !== 4) return undefined;
      const [path, key, sha256, size] = item as unknown[];
      if (typeof path !== "string" || typeof key !== "string" || typeof sha256 !== "string" || typeof size !== "number") return undefined;
      offer.set(path, { key, sha256, size });
    }
    return { snapshotId: saved.snapshotId, offer };
  } catch {
    return undefined; // none yet, or torn by a crash: the next snapshot reads everything
  }
}

/** Saves the stat cache (the part an offer can carry), written beside and renamed into place. */
async function writeCut(dir: string, cut: { snapshotId: string; offer: Offer }): Promise<void> {
  const offer = [...within(cut.offer, OFFER_BYTES)].map(([path, o]) => [path, o.key, o.sha256, o.size]);
  const temp = join(dir, `${CUT_FILE}.${process.pid}.tmp`);
  await writeFile(temp, JSON.stringify({ snapshotId: cut.snapshotId, offer }), { mode: 0o600 });
  await rename(temp, join(dir, CUT_FILE));
}

/**
 * The part of an offer that fits in `bytes` of the tar-out request (the agent takes frames up to
 * 4 MiB); files left out are read in full.
 */
function within(offer: Offer, bytes: number): Offer {
  let size = 0;
  const out = new Map<string, { key: string; sha256: string; size: number }>();
  for (const [path, o] of offer) {
    size += Buffer.byteLength(JSON.stringify(path)) + o.key.length + o.sha256.length + 16;
    if (size > bytes) break;
    out.set(path, o);
  }
  return out;
}

/** The stat cache a snapshot leaves for the next: its files the agent gave a stat key. */
function offerOf(tree: Ingested): Offer {
  const offer = new Map<string, { key: string; sha256: string; size: number }>();
  for (const [path, key] of tree.stats) {
    const entry = tree.entries.get(path);
    if (entry?.type === "file") offer.set(path, { key, sha256: entry.sha256, size: entry.size });
  }
  return offer;
}
