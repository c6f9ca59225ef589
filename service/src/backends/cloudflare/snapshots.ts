/**
 * Snapshots on Cloudflare: the archive is a tar in the R2 bucket the Worker declares (SNAPSHOTS), the
 * metadata a row in the registry Durable Object (snapshot-index.ts). Bytes stream: the container
 * makes the tar in its /tmp, the SDK's streamed readFile carries it through a checking parser
 * (tar-check.ts) into an R2 multipart upload, and a restore streams the R2 object into the container
 * with the SDK's streamed writeFile, where `tar -x` unpacks it. Nothing holds more than one upload
 * part (8 MiB) of an archive, and nothing is base64.
 */
import type { FileStream } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import { ARCHIVE_TYPES, type ArchiveCompression, type BackendSnapshots, snapshotRecord } from "../../core/snapshots.ts";
import type { ProcessInfo, Signal } from "../../schemas/processes.ts";
import type { Snapshot, SnapshotQuery, SnapshotSpec } from "../../schemas/snapshots.ts";
import type { SandboxSdk } from "./index.ts";
import { type SnapshotIndexApi, archiveKey } from "./snapshot-index.ts";
import { type SymlinkRule, TarCheck } from "./tar-check.ts";
import { TreeDigest } from "./tree-digest.ts";

/** The part of an R2 bucket the snapshots use (R2Bucket in the Worker, miniflare's in the tests). */
export interface SnapshotBucket {
  get(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
  put(key: string, value: Uint8Array): Promise<unknown>;
  delete(key: string): Promise<void>;
  createMultipartUpload(key: string): Promise<MultipartUpload>;
}
interface MultipartUpload {
  uploadPart(partNumber: number, value: Uint8Array): Promise<{ partNumber: number; etag: string }>;
  complete(parts: { partNumber: number; etag: string }[]): Promise<unknown>;
  abort(): Promise<void>;
}

export interface CloudflareSnapshotsOptions {
  bucket: SnapshotBucket;
  index: SnapshotIndexApi;
  /** The SDK's handle of a sandbox (getSandbox). */
  sandbox(id: string): SandboxSdk;
  /** Whether the sandbox is in the registry. */
  exists(id: string): Promise<boolean>;
  listProcesses(id: string): Promise<ProcessInfo[]>;
  killProcess(id: string, processId: string, signal: Signal): Promise<ProcessInfo>;
  /** SDK errors → Sandgate's (index.ts fromSdkError). */
  fromSdkError(err: unknown): SandgateError;
  now?: () => number;
}

/** R2 multipart parts: all but the last the same size, at least 5 MiB. */
const PART_BYTES = 8 * 1024 * 1024;

export class CloudflareSnapshots implements BackendSnapshots {
  private readonly now: () => number;

  constructor(private readonly options: CloudflareSnapshotsOptions) {
    this.now = options.now ?? Date.now;
  }

  async create(sandboxId: string, spec: SnapshotSpec): Promise<Snapshot> {
    if (!(await this.options.exists(sandboxId))) throw errors.sandboxNotFound(sandboxId);
    const box = this.options.sandbox(sandboxId);
    const tmp = `/tmp/.sandgate-snapshot-${spec.id}.tar`;
    try {
      const made = await this.sdk(() => box.exec(snapshotScript(tmp, spec.excludes)));
      if (made.exitCode === UNSETTLED) {
        throw new SandgateError("conflict", `files in sandbox '${sandboxId}' kept changing while they were archived (${CUT_ATTEMPTS} attempts): stop the commands writing them, or retry`, {
          attempts: CUT_ATTEMPTS,
          lastError: made.stderr.slice(0, 500),
        });
      }
      if (made.exitCode !== 0) throw new SandgateError("internal", `tar failed in the sandbox: ${made.stderr.slice(0, 500)}`);
      const file = await this.sdk(() => box.readFile(tmp, { encoding: "none" }));
      return await this.store(spec, sandboxId, file.content, "any");
    } finally {
      await box.exec(`rm -f ${tmp}`).catch(() => {});
    }
  }

  async list(query: SnapshotQuery): Promise<Snapshot[]> {
    await this.collect();
    return this.options.index.listSnapshots(query, this.now());
  }

  async get(snapshotId: string): Promise<Snapshot> {
    const snapshot = await this.options.index.getSnapshot(snapshotId, this.now());
    if (!snapshot) throw errors.notFound(`snapshot '${snapshotId}' not found`);
    return snapshot;
  }

  /** The row first: once it is gone the snapshot is, whatever happens to the bytes. */
  async delete(snapshotId: string): Promise<void> {
    await this.get(snapshotId);
    if (!(await this.options.index.removeSnapshot(snapshotId))) throw errors.notFound(`snapshot '${snapshotId}' not found`);
    await this.options.bucket.delete(archiveKey(snapshotId));
  }

  async update(snapshotId: string, patch: { labels?: Record<string, string>; expiresAt?: string | null }): Promise<Snapshot> {
    const snapshot = await this.options.index.updateSnapshot(snapshotId, patch, this.now());
    if (!snapshot) throw errors.notFound(`snapshot '${snapshotId}' not found`);
    return snapshot;
  }

  /**
   * The archive streams into the container's /tmp, unpacks into a staging directory beside
   * /workspace (a failed unpack leaves the old tree untouched), and is swapped in whole with one
   * rename where /workspace can be renamed, else entry by entry (restoreScript). Running background
   * processes are a 409 unless killProcesses.
   */
  async restore(sandboxId: string, snapshotId: string, options: { killProcesses: boolean }): Promise<{ killedProcesses: number }> {
    await this.get(snapshotId);
    if (!(await this.options.exists(sandboxId))) throw errors.sandboxNotFound(sandboxId);
    const running = (await this.options.listProcesses(sandboxId)).filter((p) => p.status === "running");
    if (running.length > 0 && !options.killProcesses) {
      throw new SandgateError("conflict", `${running.length} background process(es) run in sandbox '${sandboxId}'; pass killProcesses: true to end them for the restore`, {
        processes: running.map((p) => p.id),
      });
    }
    for (const process of running) await this.options.killProcess(sandboxId, process.id, "KILL");
    const object = await this.options.bucket.get(archiveKey(snapshotId));
    if (!object) throw new SandgateError("internal", `the archive of snapshot '${snapshotId}' is missing from R2`);
    const box = this.options.sandbox(sandboxId);
    const token = crypto.randomUUID();
    const tmp = `/tmp/.sandgate-restore-${token}.tar`;
    try {
      await this.sdk(() => box.writeFile(tmp, object.body));
      const done = await this.sdk(() => box.exec(restoreScript(tmp, token)));
      if (done.exitCode !== 0) throw new SandgateError("internal", `the restore failed in the sandbox: ${done.stderr.slice(0, 500)}`);
    } finally {
      await box.exec(`rm -f ${tmp}`).catch(() => {});
    }
    return { killedProcesses: running.length };
  }

  /**
   * Straight from R2: the stored tar is the portable archive. gzip (CompressionStream) when asked;
   * the Worker runtime has no zstd compressor, so zstd alone gets plain tar.
   */
  async exportArchive(snapshotId: string, accepted: readonly ArchiveCompression[] = []): Promise<FileStream> {
    await this.get(snapshotId);
    const object = await this.options.bucket.get(archiveKey(snapshotId));
    if (!object) throw errors.notFound(`snapshot '${snapshotId}' not found`);
    if (accepted.includes("gzip")) return { body: object.body.pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>), size: -1, contentType: ARCHIVE_TYPES.gzip };
    return { body: object.body, size: object.size, contentType: ARCHIVE_TYPES.tar };
  }

  async importArchive(spec: SnapshotSpec, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Snapshot> {
    return this.store({ ...spec, maxBytes }, null, await decompressed(body), "inside");
  }

  /**
   * Checks, digests (the tree, as the local runtime does: tree-digest.ts) and uploads the tar as it
   * streams; the row is written only after the upload is complete, so a refused or broken archive
   * leaves nothing visible (its multipart upload aborted).
   */
  private async store(spec: SnapshotSpec, sandboxId: string | null, body: ReadableStream<Uint8Array>, rule: SymlinkRule): Promise<Snapshot> {
    const tree = new TreeDigest();
    const check = new TarCheck(rule, spec.maxBytes, tree);
    const key = archiveKey(spec.id);
    const storedBytes = await upload(this.options.bucket, key, body.pipeThrough(check.stream()));
    let summary: Awaited<ReturnType<TreeDigest["result"]>>;
    try {
      summary = await tree.result();
    } catch (err) {
      await this.options.bucket.delete(key).catch(() => {});
      throw err;
    }
    const snapshot = snapshotRecord(spec, sandboxId, { ...summary, storedBytes });
    try {
      await this.options.index.putSnapshot(snapshot);
    } catch (err) {
      await this.options.bucket.delete(key).catch(() => {});
      throw err;
    }
    return snapshot;
  }

  /** Expired snapshots: the bytes, then the row (a crash between leaves a row that is retried). */
  private async collect(): Promise<void> {
    for (const id of await this.options.index.expiredSnapshots(this.now())) {
      await this.options.bucket.delete(archiveKey(id));
      await this.options.index.removeSnapshot(id);
    }
  }

  private async sdk<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.options.fromSdkError(err);
    }
  }
}

/** Streams `body` into R2 under `key`: one put when it is small, else a multipart upload of equal parts. Answers the bytes stored. */
async function upload(bucket: SnapshotBucket, key: string, body: ReadableStream<Uint8Array>): Promise<number> {
  const reader = body.getReader();
  let buffer = new Uint8Array(PART_BYTES);
  let fill = 0;
  let total = 0;
  let multipart: MultipartUpload | undefined;
  const parts: { partNumber: number; etag: string }[] = [];
  const flush = async () => {
    multipart ??= await bucket.createMultipartUpload(key);
    parts.push(await multipart.uploadPart(parts.length + 1, buffer.subarray(0, fill)));
    buffer = new Uint8Array(PART_BYTES);
    fill = 0;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      let at = 0;
      while (at < value.byteLength) {
        const n = Math.min(PART_BYTES - fill, value.byteLength - at);
        buffer.set(value.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === PART_BYTES) await flush();
      }
    }
    if (!multipart) {
      await bucket.put(key, buffer.subarray(0, fill));
      return total;
    }
    if (fill > 0) await flush();
    await multipart.complete(parts);
    return total;
  } catch (err) {
    await multipart?.abort().catch(() => {});
    await reader.cancel(err).catch(() => {});
    throw err;
  }
}

/** A gzip archive is unpacked as it streams; zstd is not taken here (no DecompressionStream for it in workerd). */
async function decompressed(body: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  let first: Uint8Array = new Uint8Array(0);
  while (first.byteLength < 4) {
    const { done, value } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(first.byteLength + value.byteLength);
    joined.set(first);
    joined.set(value, first.byteLength);
    first = joined;
  }
  const head = first;
  const whole = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.byteLength > 0) controller.enqueue(head);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  if (head[0] === 0x1f && head[1] === 0x8b) {
    return whole.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        // A corrupt gzip stream fails as bad input, not as the runtime's error.
        transform: (chunk, controller) => controller.enqueue(chunk),
      }),
    );
  }
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    await whole.cancel().catch(() => {});
    throw errors.invalid("zstd archives are not taken on the cloudflare backend: send a plain or gzip tar");
  }
  return whole;
}

/** Whole archives made before a snapshot gives up on a workspace that keeps changing (409). */
export const CUT_ATTEMPTS = 5;
/** The snapshot script's exit status when no attempt gave an archive without a changed file. */
const UNSETTLED = 75;

/**
 * The consistent cut on Cloudflare, where there is no freezer: copy, then verify by content. GNU tar
 * makes the archive (it reports a file whose ctime or size moved while it read it, or that shrank
 * or vanished under it); then `tar --compare` reads every member back against the workspace, byte
 * for byte, with size and mtime. tar's own check can miss a same-size rewrite within one tick of the
 * kernel's coarse file times; the compare does not, once the writer has moved on. An archive that changed or differs is thrown away and made again, up to CUT_ATTEMPTS
 * times; then the script exits UNSETTLED. An archive that passes holds each file as it was at the
 * compare (per file, not one instant for the whole tree).
 */
export function snapshotScript(file: string, excludes: string[]): string {
  const err = quote(`${file}.err`);
  return [
    `trap 'rm -f ${err}' EXIT`,
    "i=0",
    `while [ $i -lt ${CUT_ATTEMPTS} ]; do`,
    "  i=$((i + 1))",
    `  ${tarCreateCommand(file, excludes)} 2>${err}`,
    "  rc=$?",
    `  if [ $rc -ne 0 ] && [ $rc -ne 1 ] && ! grep -q -e 'shrank' -e 'changed as we read' -e 'removed before we read' ${err}; then cat ${err} >&2; exit $rc; fi`,
    "  if [ $rc -eq 0 ]; then",
    `    tar --compare --numeric-owner -f ${quote(file)} -C /workspace >${err} 2>&1`,
    "    rc=$?",
    "    [ $rc -eq 0 ] && exit 0",
    `    [ $rc -eq 1 ] || { cat ${err} >&2; exit $rc; }`,
    "  fi",
    "done",
    `cat ${err} >&2`,
    `exit ${UNSETTLED}`,
  ].join("\n");
}

/**
 * `tar -c` of /workspace in name order, excludes as the local runtime reads them: a glob without `/`
 * at any depth, one with `/` from /workspace down. pax, for mtimes to the nanosecond as the local
 * runtime's agent writes them (so the same tree has the same digest); no atime or ctime records, so
 * an unchanged tree makes the same bytes.
 */
export function tarCreateCommand(file: string, excludes: string[]): string {
  const anywhere = excludes.filter((e) => !e.includes("/")).map((e) => `--exclude=${quote(e)}`);
  const rooted = excludes.filter((e) => e.includes("/")).map((e) => `--exclude=${quote(`./${e.replace(/\/+$/, "")}`)}`);
  return [
    "tar --sort=name --numeric-owner --no-wildcards-match-slash --format=posix --pax-option=delete=atime,delete=ctime",
    `-cf ${quote(file)} -C /workspace`,
    "--no-anchored",
    ...anywhere,
    "--anchored",
    ...rooted,
    ".",
  ].join(" ");
}

/**
 * Unpacks the archive `tmp` into a stage and swaps it in for `root` (/workspace; tests pass another).
 *
 * Where `root` is a plain directory whose parent the container may write (the SDK image's
 * /workspace, made by `mkdir`, as root), the stage is a sibling on the same filesystem and the swap
 * is one renameat2(RENAME_EXCHANGE), made with perl's raw `syscall` (perl-base is in every Ubuntu
 * image; the SDK's default image has no python). Where that is not to be had, two renames, between
 * which the path is briefly absent. A command resolving /workspace gets the old tree or the new one,
 * never a mix. The old tree is then removed. Where `root` is a mount point (a bucket or volume mounted
 * there) or its parent is not writable, it cannot be renamed: the stage is made inside it and the
 * entries are swapped one by one, which is not atomic. Either way a failure before the swap (a
 * corrupt archive, a full disk) removes the stage and leaves the old tree as it was. GNU tar refuses
 * members with `..` and strips a leading `/`; the archive was checked when it was stored.
 */
export function restoreScript(tmp: string, token: string, root = "/workspace"): string {
  const parent = root.replace(/\/[^/]+\/?$/, "") || "/";
  const r = quote(root);
  const p = quote(parent);
  const beside = quote(`${parent === "/" ? "" : parent}/.sandgate-restore-${token}`);
  const inside = quote(`${root}/.sandgate-restore-${token}`);
  const aside = quote(`${parent === "/" ? "" : parent}/.sandgate-old-${token}`);
  // renameat2(AT_FDCWD, stage, AT_FDCWD, root, RENAME_EXCHANGE): its number on the two architectures containers run on.
  const exchange = "my $n = {x86_64 => 316, aarch64 => 276}->{(POSIX::uname())[4]} // exit 3; exit(syscall($n, -100, $ARGV[0], -100, $ARGV[1], 2) == 0 ? 0 : 4)";
  return [
    `if [ -w ${p} ] && [ "$(stat -c %d ${p})" = "$(stat -c %d ${r})" ] && ! awk -v m=${r} '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; then`,
    `  stage=${beside}; whole=1`,
    "else",
    `  stage=${inside}; whole=0`,
    "fi",
    // `old`: the old tree's path once it is swapped out (until then the trap must not touch it).
    `old=; trap 'rm -rf "$stage" $old' EXIT`,
    `mkdir "$stage" || exit 1`,
    `[ $whole = 0 ] || chmod --reference=${r} "$stage" || exit 1`,
    `tar -xf ${quote(tmp)} -C "$stage" --no-same-owner --delay-directory-restore || exit 1`,
    "if [ $whole = 1 ]; then",
    // After the exchange the stage's path holds the old tree, which the trap removes.
    `  if command -v perl >/dev/null 2>&1 && perl -MPOSIX -e ${quote(exchange)} "$stage" ${r}; then exit 0; fi`,
    `  mv -T ${r} ${aside} || exit 1`,
    `  mv -T "$stage" ${r} || { mv -T ${aside} ${r} || echo "the old tree is left at "${aside} >&2; exit 1; }`,
    `  old=${aside}; exit 0`,
    "fi",
    `find ${r} -mindepth 1 -maxdepth 1 ! -path "$stage" -exec rm -rf {} + || exit 1`,
    `find "$stage" -mindepth 1 -maxdepth 1 -exec mv -t ${r} {} +`,
  ].join("\n");
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
