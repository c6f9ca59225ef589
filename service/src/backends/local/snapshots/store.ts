import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, linkSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGunzip, createZstdDecompress } from "node:zlib";
import tar from "tar-stream";
import { SandgateError, errors } from "../../../core/errors.ts";
import type { Snapshot, SnapshotQuery, SnapshotSpec } from "../../../schemas/snapshots.ts";
import { snapshotRecord } from "../../../core/snapshots.ts";
import { writeTar } from "./tar-writer.ts";
import { linkInside, memberName, shown } from "../../archive-members.ts";
import { type Entry, completeTree, entryMtime, summarizeTree } from "../../snapshot-tree.ts";

const run = promisify(execFile);

interface Manifest {
  version: 1;
  snapshot: Snapshot;
  entries: Entry[];
}

/** What reading one tar stream into the store gave. */
export interface Ingested {
  /** Entries by path, in the order they came. */
  entries: Map<string, Entry>;
  /** Paths the stream held (a re-read that leaves one out means it is gone). */
  seen: Set<string>;
  storedBytes: number;
  /** Each file's stat key as the agent sent it (SANDGATE.stat): the next snapshot's offer. */
  stats: Map<string, string>;
}

/**
 * The stat cache offered to a sandbox's agent: per path, the stat key and the content the host read
 * for it last time. The agent may answer a file with `SANDGATE.same: <sha256>` and no bytes; the
 * host takes that only when it is the very hash it offered for that path (so a sandbox can only name
 * content it sent itself). The caller pins the offer's content while a snapshot naming it exists.
 */
export type Offer = ReadonlyMap<string, { key: string; sha256: string; size: number }>;

const bad = (message: string) => errors.invalid(message);

/** Files up to this size are hashed in memory before anything is written (bounded: one at a time). */
const SMALL_BLOB = 256 * 1024;
/** Small blobs being written at once during an ingest (at most this many SMALL_BLOBs held in memory). */
const SMALL_WRITES = 16;


/**
 * The content-addressed snapshot store of the local runtime, in the data directory:
 *
 *     snapshots/blobs/<2 hex>/<sha256>   file contents, each stored once, never changed
 *     snapshots/manifests/<id>.json      a snapshot: its metadata and tree (entries name blobs)
 *     snapshots/tmp/                     blobs and manifests being written
 *
 * A snapshot exists once its manifest is renamed into place (after its blobs are synced, then the
 * manifest written and fsynced): a crash before leaves only garbage, which the next open sweeps.
 * Blobs no manifest names are deleted, never while an ingest, export or restore holds them (pins),
 * and an ingest that meets a blob being deleted waits for the delete and stores it again.
 */
export class SnapshotStore {
  private readonly snapshots = new Map<string, Manifest["snapshot"]>();
  /** Manifests that name each blob. */
  private readonly refs = new Map<string, number>();
  /** Ingests, exports and restores in flight that hold each blob. */
  private readonly pins = new Map<string, number>();
  private readonly deleting = new Map<string, Promise<void>>();
  /** Blobs stored and their bytes, kept as they are added and removed (counted once at open). */
  private blobs = 0;
  private blobBytes = 0;
  /** Blobs placed by this process, and how many of them the last completed syncfs had been asked to cover. */
  private placedBlobs = 0;
  private syncedBlobs = 0;
  /** The update or delete of each snapshot's manifest under way. */
  private readonly manifestWork = new Map<string, Promise<unknown>>();
  /** Shard directories of blobs/ known to exist (they are never removed). */
  private readonly shards = new Set<string>();

  private constructor(private readonly dir: string) {}

  /** `dir`: the data directory's `snapshots`, or the disk pool's (disk-pool.ts), where restores clone. */
  /** `restorePath`: how restores put stored files into a sandbox's disk here (SandboxStorage.restorePath), for the log. */
  static async open(dir: string, restorePath: string, log: (message: string) => void): Promise<SnapshotStore> {
    const store = new SnapshotStore(dir);
    for (const sub of ["blobs", "manifests", "tmp"]) await mkdir(join(store.dir, sub), { recursive: true, mode: 0o700 });
    await rm(join(store.dir, "tmp"), { recursive: true, force: true });
    await mkdir(join(store.dir, "tmp"), { mode: 0o700 });
    for (const name of await readdir(join(store.dir, "manifests"))) {
      if (!name.endsWith(".json")) continue;
      const manifest = await store.readManifest(name.slice(0, -5)).catch(() => undefined);
      if (!manifest) {
        log(`snapshot manifest '${name}' is unreadable; it is left out`);
        continue;
      }
      store.snapshots.set(manifest.snapshot.id, manifest.snapshot);
      for (const hash of blobsOf(manifest.entries)) store.refs.set(hash, (store.refs.get(hash) ?? 0) + 1);
    }
    const swept = await store.sweep();
    if (swept > 0) log(`snapshots: removed ${swept} stored file(s) no snapshot uses (left by an interrupted snapshot or delete)`);
    const usage = await store.usage();
    store.blobs = usage.blobs;
    store.blobBytes = usage.bytes;
    log(`snapshots: ${store.snapshots.size} kept, ${usage.blobs} stored file(s) (${usage.bytes} bytes) in ${dir}; restores and creates from a snapshot ${restorePath}`);
    return store;
  }

  /** Bytes of blobs stored (for health and tests). */
  async usage(): Promise<{ snapshots: number; blobs: number; bytes: number }> {
    let blobs = 0;
    let bytes = 0;
    for (const shard of await readdir(join(this.dir, "blobs"))) {
      for (const name of await readdir(join(this.dir, "blobs", shard)).catch(() => [] as string[])) {
        blobs++;
        bytes += (await stat(join(this.dir, "blobs", shard, name)).catch(() => ({ size: 0 }))).size;
      }
    }
    return { snapshots: this.snapshots.size, blobs, bytes };
  }

  counts(): { count: number; blobs: number; storedBytes: number } {
    return { count: this.snapshots.size, blobs: this.blobs, storedBytes: this.blobBytes };
  }

  get(id: string): Snapshot {
    const snapshot = this.snapshots.get(id);
    if (!snapshot) throw errors.notFound(`snapshot '${id}' not found`);
    return snapshot;
  }

  has(id: string): boolean {
    return this.snapshots.has(id);
  }

  list(query: SnapshotQuery): Snapshot[] {
    const out: Snapshot[] = [];
    for (const snapshot of this.snapshots.values()) {
      if (query.after !== undefined && snapshot.id <= query.after) continue;
      if (query.sandboxId !== undefined && snapshot.sandboxId !== query.sandboxId) continue;
      if (Object.entries(query.labels).every(([k, v]) => snapshot.labels[k] === v)) out.push(snapshot);
    }
    out.sort((a, b) => (a.id < b.id ? -1 : 1));
    return out.slice(0, query.limit);
  }

  expired(now: number): string[] {
    return [...this.snapshots.values()].filter((s) => s.expiresAt !== null && Date.parse(s.expiresAt) <= now).map((s) => s.id);
  }

  /** The snapshot's tree, its blobs pinned until `release` is called. */
  async hold(id: string): Promise<{ entries: Entry[]; release: () => void }> {
    this.get(id);
    const manifest = await this.readManifest(id);
    const hashes = blobsOf(manifest.entries);
    return { entries: manifest.entries, release: this.pin(hashes) };
  }

  /** Replaces labels and/or expiry: the manifest is rewritten beside and renamed over the old one. */
  update(id: string, patch: { labels?: Record<string, string>; expiresAt?: string | null }): Promise<Snapshot> {
    return this.serially(id, async () => {
      this.get(id);
      const manifest = await this.readManifest(id);
      const snapshot: Snapshot = { ...manifest.snapshot, ...patch };
      await this.writeManifest({ ...manifest, snapshot });
      this.snapshots.set(id, snapshot);
      return snapshot;
    });
  }

  /** Updates and deletes of one snapshot one after another: an update must not put back a deleted manifest. */
  private serially<T>(id: string, work: () => Promise<T>): Promise<T> {
    const mine = (this.manifestWork.get(id) ?? Promise.resolve()).catch(() => {}).then(work);
    this.manifestWork.set(id, mine);
    void mine.finally(() => {
      if (this.manifestWork.get(id) === mine) this.manifestWork.delete(id);
    }).catch(() => {});
    return mine;
  }

  /** Deletes the snapshot (its manifest first: then it no longer exists), then what no other uses. */
  delete(id: string): Promise<void> {
    return this.serially(id, () => this.deleteNow(id));
  }

  private async deleteNow(id: string): Promise<void> {
    this.get(id);
    const manifest = await this.readManifest(id);
    this.snapshots.delete(id);
    await unlink(this.manifestPath(id));
    await syncDir(join(this.dir, "manifests"));
    const orphans: string[] = [];
    for (const hash of blobsOf(manifest.entries)) {
      const count = (this.refs.get(hash) ?? 1) - 1;
      if (count > 0) this.refs.set(hash, count);
      else {
        this.refs.delete(hash);
        orphans.push(hash);
      }
    }
    await Promise.all(orphans.map((hash) => this.collect(hash)));
  }

  /**
   * Reads a tar stream into blobs (each pinned for `pins`): entries by path. Members are checked as
   * an untrusted archive's are: names clean and relative, links inside the tree, no devices or FIFOs.
   * `into`: a tree read before (a re-read replaces what it names).
   */
  async ingest(source: AsyncIterable<Uint8Array>, maxBytes: number, pins: Set<string>, into?: Ingested, links: SymlinkRule = "inside", offer?: Offer): Promise<Ingested> {
    const result: Ingested = into ? { ...into, seen: new Set() } : { entries: new Map(), seen: new Set(), storedBytes: 0, stats: new Map() };
    let total = into ? sizeOf(into.entries) : 0;
    const extract = tar.extract();
    const input = Readable.from(decompressed(source));
    input.on("error", (err) => extract.destroy(err));
    input.pipe(extract);
    const writes = new BoundedWrites(SMALL_WRITES);
    try {
      for await (const member of extract) {
        const header = member.header;
        const path = memberName(header.name);
        if (path === ".") {
          member.resume();
          continue;
        }
        if (result.seen.has(path)) throw bad(`the archive has the member '${shown(path)}' twice`);
        result.seen.add(path);
        const mode = (header.mode ?? 0o644) & 0o1777;
        const pax = header.pax as Record<string, string> | undefined;
        result.stats.delete(path);
        const mtime = entryMtime(pax?.mtime, Math.floor((header.mtime?.getTime() ?? 0) / 1000), path);
        switch (header.type) {
          case "directory":
            member.resume();
            result.entries.set(path, { path, type: "directory", mode, mtime });
            break;
          case "symlink": {
            member.resume();
            const target = header.linkname ?? "";
            if (target === "" || target.includes("\0") || (links === "inside" && !linkInside(path, target))) throw bad(`the archive has a symlink that leads outside the tree: '${shown(path)}' -> '${shown(target)}'`);
            result.entries.set(path, { path, type: "symlink", mode: 0o777, mtime, target });
            break;
          }
          case "link": {
            member.resume();
            const target = memberName(header.linkname ?? "");
            const earlier = result.entries.get(target);
            if (!earlier || earlier.type !== "file") throw bad(`the archive has a hard link to no earlier file of it: '${shown(path)}'`);
            result.entries.set(path, { ...earlier, path, mode, mtime });
            break;
          }
          case "file":
          case "contiguous-file": {
            const same = pax?.["SANDGATE.same"];
            if (same !== undefined) {
              member.resume();
              const offered = offer?.get(path);
              if (!offered || offered.sha256 !== same || (header.size ?? 0) !== 0) throw bad(`the archive names content the host did not offer for '${shown(path)}'`);
              total += offered.size - (into?.entries.get(path)?.type === "file" ? (into.entries.get(path) as { size: number }).size : 0);
              if (total > maxBytes) throw errors.tooLarge(`the snapshot is larger than the ${maxBytes}-byte limit`, maxBytes);
              // Pinned for this ingest without a look at the disk: the offer was pinned while a snapshot
              // naming it existed, so it is stored and stays.
              if (!pins.has(same)) {
                pins.add(same);
                this.pins.set(same, (this.pins.get(same) ?? 0) + 1);
              }
              result.entries.set(path, { path, type: "file", mode, mtime, size: offered.size, sha256: same });
              result.stats.set(path, offered.key);
              break;
            }
            const size = header.size ?? 0;
            total += size - (into?.entries.get(path)?.type === "file" ? (into.entries.get(path) as { size: number }).size : 0);
            if (total > maxBytes) throw errors.tooLarge(`the snapshot is larger than the ${maxBytes}-byte limit`, maxBytes);
            let sha256: string;
            if (size <= SMALL_BLOB) {
              // Read in order, written meanwhile: a few small blobs go to disk while the next members arrive.
              const small = await this.readSmall(member as AsyncIterable<Buffer>, size);
              sha256 = small.sha256;
              await writes.add(this.storeSmallBlob(small.content, sha256, pins).then((stored) => void (result.storedBytes += stored)));
            } else {
              const stored = await this.storeBlob(member as AsyncIterable<Buffer>, size, pins);
              sha256 = stored.sha256;
              result.storedBytes += stored.stored;
            }
            result.entries.set(path, { path, type: "file", mode, mtime, size, sha256 });
            const key = pax?.["SANDGATE.stat"];
            if (key !== undefined && key.length <= 200) result.stats.set(path, key);
            break;
          }
          case "character-device":
          case "block-device":
            throw bad(`the archive has a device file: '${shown(path)}'`);
          case "fifo":
            throw bad(`the archive has a FIFO: '${shown(path)}'`);
          default:
            throw bad(`the archive has a member of a type snapshots do not hold (${header.type}): '${shown(path)}'`);
        }
      }
      await writes.all();
    } catch (err) {
      input.destroy();
      extract.destroy();
      await writes.settled();
      if (err instanceof SandgateError) throw err;
      throw bad(`the archive is truncated or corrupt: ${(err as Error).message}`);
    }
    return result;
  }

  /**
   * Makes `tree` a snapshot: the tree checked (no member below a file or link), missing parents
   * added, blobs synced, then the manifest written, fsynced and renamed into place.
   */
  async commit(spec: SnapshotSpec, sandboxId: string | null, tree: Ingested): Promise<Snapshot> {
    const entries = completeTree(tree.entries);
    const snapshot = snapshotRecord(spec, sandboxId, { ...(await summarizeTree(entries)), storedBytes: tree.storedBytes });
    // One syncfs for all the blobs of this snapshot (an fsync each would cost a disk flush per file),
    // unless no blob was placed since the last one began: then every blob it names is on disk already
    // (those of an earlier run were synced before their manifests; unnamed ones were swept at open).
    const placed = this.placedBlobs;
    if (placed !== this.syncedBlobs) {
      await run("sync", ["-f", join(this.dir, "blobs")]).catch(() => run("sync"));
      this.syncedBlobs = Math.max(this.syncedBlobs, placed);
    }
    await this.writeManifest({ version: 1, snapshot, entries });
    this.snapshots.set(snapshot.id, snapshot);
    for (const hash of blobsOf(entries)) this.refs.set(hash, (this.refs.get(hash) ?? 0) + 1);
    return snapshot;
  }

  /** Pins `hashes` (each once) until the returned function is called. */
  pin(hashes: Iterable<string>): () => void {
    const held = new Set(hashes);
    for (const hash of held) this.pins.set(hash, (this.pins.get(hash) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      void this.unpin(held);
    };
  }

  /** Lets go of one pin of each of `hashes` (as ingest took them); what then no one uses is collected. */
  unpin(hashes: Set<string>): Promise<void> {
    const collecting: Promise<void>[] = [];
    for (const hash of hashes) {
      const count = (this.pins.get(hash) ?? 1) - 1;
      if (count > 0) this.pins.set(hash, count);
      else {
        this.pins.delete(hash);
        collecting.push(this.collect(hash));
      }
    }
    return Promise.all(collecting).then(() => {});
  }

  /** The tree as a tar stream (blobs read as the consumer asks; see tar-writer.ts); `lend`: files as headers alone. */
  pack(entries: Entry[], lend = false): AsyncGenerator<Uint8Array> {
    return writeTar(entries, (hash) => this.blobPath(hash), lend);
  }

  private async storeBlob(body: AsyncIterable<Buffer>, size: number, pins: Set<string>): Promise<{ sha256: string; stored: number }> {
    const temp = join(this.dir, "tmp", `blob-${randomBytes(8).toString("hex")}`);
    const hash = createHash("sha256");
    const out = createWriteStream(temp, { flags: "wx", mode: 0o600 });
    let written = 0;
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            written += chunk.length;
            yield chunk;
          }
        },
        out,
      );
      if (written !== size) throw bad("the archive is truncated");
      const sha256 = hash.digest("hex");
      const target = await this.claim(sha256, pins);
      const stored = target === undefined ? 0 : this.place(temp, target, size);
      await rm(temp, { force: true });
      return { sha256, stored };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** A small member read whole and hashed in memory: content already stored is then never written at all. */
  private async readSmall(body: AsyncIterable<Buffer>, size: number): Promise<{ content: Buffer; sha256: string }> {
    const chunks: Buffer[] = [];
    let written = 0;
    for await (const chunk of body) {
      written += chunk.length;
      if (written > size) throw bad("the archive's member is longer than its header says");
      chunks.push(chunk);
    }
    if (written !== size) throw bad("the archive is truncated");
    const content = Buffer.concat(chunks, written);
    return { content, sha256: createHash("sha256").update(content).digest("hex") };
  }

  /**
   * Stores a small blob read by readSmall; answers the bytes this added. Written inline, like the
   * store's other small-file steps: into the page cache (synced once per snapshot, at commit) that is
   * a few microseconds each, where fs/promises goes through the thread pool for every open, write,
   * close, link and unlink (about ten times as long, and most of a snapshot of many small files).
   */
  private async storeSmallBlob(content: Buffer, sha256: string, pins: Set<string>): Promise<number> {
    const target = await this.claim(sha256, pins);
    if (target === undefined) return 0;
    const temp = join(this.dir, "tmp", `blob-${randomBytes(8).toString("hex")}`);
    try {
      writeFileSync(temp, content, { flag: "wx", mode: 0o600 });
      return this.place(temp, target, content.length);
    } finally {
      rmSync(temp, { force: true });
    }
  }

  /**
   * Links a written blob into place (the caller removes `temp`): a link fails where the content
   * is there already (another ingest stored it meanwhile), so each blob is counted once. Answers
   * the bytes this added. Inline, as the small-blob steps are (one metadata operation).
   */
  private place(temp: string, target: string, size: number): number {
    try {
      linkSync(temp, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return 0;
      throw err;
    }
    return this.added(size);
  }

  private added(size: number): number {
    this.placedBlobs++;
    this.blobs++;
    this.blobBytes += size;
    return size;
  }

  /**
   * Pins `sha256` for this ingest (once) and answers where to store it, or undefined when it is
   * stored already. A delete of the same content under way finishes first.
   */
  private async claim(sha256: string, pins: Set<string>): Promise<string | undefined> {
    if (!pins.has(sha256)) {
      pins.add(sha256);
      this.pins.set(sha256, (this.pins.get(sha256) ?? 0) + 1);
    }
    await this.deleting.get(sha256);
    const target = this.blobPath(sha256);
    // Inline (see storeSmallBlob): a stat of the store through the thread pool costs ten times as much.
    if (existsSync(target)) return undefined;
    const shard = join(target, "..");
    if (!this.shards.has(shard)) {
      await mkdir(shard, { recursive: true, mode: 0o700 });
      this.shards.add(shard);
    }
    return target;
  }

  /** Deletes a blob no manifest names and nothing holds. */
  private collect(hash: string): Promise<void> {
    if ((this.refs.get(hash) ?? 0) > 0 || (this.pins.get(hash) ?? 0) > 0) return Promise.resolve();
    const running = this.deleting.get(hash);
    if (running) return running;
    const path = this.blobPath(hash);
    const deletion = stat(path)
      .then(
        async ({ size }) => {
          if (await unlink(path).then(() => true, () => false)) {
            this.blobs--;
            this.blobBytes -= size;
          }
        },
        () => {}, // not there: nothing to free
      )
      .finally(() => this.deleting.delete(hash));
    this.deleting.set(hash, deletion);
    return deletion;
  }

  /** At open: blobs no manifest names (an interrupted snapshot's, or delete's). */
  private async sweep(): Promise<number> {
    let removed = 0;
    for (const shard of await readdir(join(this.dir, "blobs"))) {
      for (const name of await readdir(join(this.dir, "blobs", shard)).catch(() => [] as string[])) {
        if (!this.refs.has(name)) {
          await rm(join(this.dir, "blobs", shard, name), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }

  /** Written and fsynced beside, then renamed into place: a reader or a crash sees the old one or the new. */
  private async writeManifest(manifest: Manifest): Promise<void> {
    const id = manifest.snapshot.id;
    const temp = join(this.dir, "tmp", `${id}.${randomBytes(6).toString("hex")}.json`);
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(JSON.stringify(manifest));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.manifestPath(id));
    await syncDir(join(this.dir, "manifests"));
  }

  private async readManifest(id: string): Promise<Manifest> {
    const manifest = JSON.parse(await readFile(this.manifestPath(id), "utf8")) as Manifest;
    if (manifest.version !== 1 || manifest.snapshot?.id !== id || !Array.isArray(manifest.entries)) throw new Error("not a manifest");
    return manifest;
  }

  private manifestPath(id: string): string {
    return join(this.dir, "manifests", `${id}.json`);
  }

  blobPath(hash: string): string {
    return join(this.dir, "blobs", hash.slice(0, 2), hash);
  }
}

function blobsOf(entries: Entry[]): Set<string> {
  const out = new Set<string>();
  for (const entry of entries) if (entry.type === "file") out.add(entry.sha256);
  return out;
}

function sizeOf(entries: Map<string, Entry>): number {
  let total = 0;
  for (const entry of entries.values()) if (entry.type === "file") total += entry.size;
  return total;
}



/**
 * Which symlinks an archive may hold: `inside` (an imported archive: each must stay within the tree) or
 * `any` (a sandbox's own workspace: a venv's `bin/python -> /usr/bin/python3` is kept as it is; a link
 * is only text to the host, and a restore writes it inside the sandbox, as the sandbox's user).
 */
export type SymlinkRule = "inside" | "any";

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The body as tar bytes: gzip and zstd are recognised by their first bytes and undone. */
async function* decompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done || first.value.byteLength === 0) throw bad("the archive is empty");
  const head = first.value;
  const rest = (async function* () {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const zstd = head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd;
  if (!gzip && !zstd) {
    yield* rest;
    return;
  }
  const inflate = gzip ? createGunzip() : createZstdDecompress();
  const from = Readable.from(rest);
  from.on("error", (err) => inflate.destroy(err));
  yield* from.pipe(inflate) as AsyncIterable<Uint8Array>;
}

/**
 * Writes under way, at most `limit` at once: `add` waits for room (and throws the first failure);
 * `all` waits for every one and throws the first failure; `settled` waits without throwing.
 */
class BoundedWrites {
  private readonly running = new Set<Promise<void>>();
  private failure: { err: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(write: Promise<void>): Promise<void> {
    const tracked = write.then(
      () => void this.running.delete(tracked),
      (err: unknown) => {
        this.failure ??= { err };
        this.running.delete(tracked);
      },
    );
    this.running.add(tracked);
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure.err;
  }

  async all(): Promise<void> {
    await this.settled();
    if (this.failure) throw this.failure.err;
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
  }
}
