import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readdir, readlink, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { FileInfo } from "../../schemas/files.ts";
import type { FileStream } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import { WORKSPACE, type WorkspacePath } from "../../core/paths.ts";

/** Uploads land here first and are renamed into place; listings hide them. */
const UPLOAD_PREFIX = ".sandgate-upload-";
/** Downloads read the file in chunks this size, READ_AHEAD chunks ahead of the socket. */
const READ_CHUNK = 1024 * 1024;
const READ_AHEAD = 2;
/** Uploads write in batches of at least this many bytes, one batch in flight while the next fills. */
const WRITE_BATCH = 1024 * 1024;
const MAX_SYMLINKS = 40;

/**
 * Files of one sandbox, seen from the host. Paths are resolved the way the sandbox sees them:
 * symlinks are followed inside the sandbox's own tree (an absolute target means /workspace/...),
 * and any path that leads outside /workspace is refused with `forbidden`. Opened files are checked
 * once more through /proc/self/fd, so swapping a directory for a symlink mid-call gains nothing.
 */
export class WorkspaceFiles {
  constructor(private readonly root: string) {}

  async read(path: WorkspacePath): Promise<FileStream> {
    const real = await this.resolve(path.rel, true);
    // O_NONBLOCK: opening a FIFO the sandbox made must not block a worker thread forever (it is refused below).
    const handle = await this.openChecked(real.host, constants.O_RDONLY | constants.O_NONBLOCK, path.abs);
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw errors.invalid(`'${path.abs}' is a directory`);
      if (!stats.isFile()) throw errors.invalid(`'${path.abs}' is not a regular file`);
      return { body: fileBody(handle, stats.size), size: stats.size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async write(path: WorkspacePath, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<FileInfo> {
    const reader = body.getReader();
    let temp: string | undefined;
    let handle: FileHandle | undefined;
    try {
      const real = await this.resolve(path.rel, true);
      if (real.rel === "") throw errors.invalid("/workspace is a directory");
      const slash = real.rel.lastIndexOf("/");
      const parentRel = slash < 0 ? "" : real.rel.slice(0, slash);
      const parent = await this.ensureDirectory(parentRel);
      const existing = await lstat(real.host).catch(() => undefined);
      if (existing?.isDirectory()) throw errors.invalid(`'${path.abs}' is a directory`);

      temp = join(parent, `${UPLOAD_PREFIX}${randomBytes(8).toString("hex")}`);
      handle = await this.openChecked(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, path.abs, 0o644);
      let size = 0;
      // Network chunks are small (~64 KiB): they are gathered into one writev per WRITE_BATCH, and the
      // next batch is read from the network while the previous one is written, so the socket and the
      // disk work at the same time. At most two batches are held (bounded memory).
      let batch: Uint8Array[] = [];
      let batched = 0;
      let writing: Promise<void> | undefined;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (!done) {
            size += value.byteLength;
            if (size > maxBytes) throw errors.tooLarge(`file is larger than the ${maxBytes}-byte limit`, maxBytes);
            batch.push(value);
            batched += value.byteLength;
          }
          if (batched >= WRITE_BATCH || (done && batched > 0)) {
            await writing;
            writing = writeAll(handle, batch, batched);
            writing.catch(() => {}); // handled where it is awaited; meanwhile not "unhandled"
            batch = [];
            batched = 0;
          }
          if (done) break;
        }
        await writing;
      } finally {
        // On failure, wait for a write still in flight before the handle is closed under it.
        await writing?.catch(() => {});
      }
      await handle.close();
      handle = undefined;
      await rename(temp, real.host);
      temp = undefined;
      return info(path.abs, await lstat(real.host));
    } catch (err) {
      discardRest(reader);
      throw mapFsError(err, path.abs);
    } finally {
      await handle?.close().catch(() => {});
      if (temp) await unlink(temp).catch(() => {});
    }
  }

  async stat(path: WorkspacePath): Promise<FileInfo> {
    const real = await this.resolve(path.rel, false);
    return info(path.abs, await lstat(real.host).catch((err) => Promise.reject(mapFsError(err, path.abs))));
  }

  async list(path: WorkspacePath, recursive: boolean, limit: number): Promise<{ entries: FileInfo[]; truncated: boolean }> {
    const real = await this.resolve(path.rel, true);
    const top = await stat(real.host).catch((err) => Promise.reject(mapFsError(err, path.abs)));
    if (!top.isDirectory()) throw errors.invalid(`'${path.abs}' is not a directory`);
    const entries: FileInfo[] = [];
    // Breadth first; symlinked directories are listed but not entered, so loops cannot happen.
    const pending: { host: string; abs: string }[] = [{ host: real.host, abs: path.abs }];
    while (pending.length > 0) {
      const dir = pending.shift()!;
      const names = (await readdir(dir.host).catch(() => [] as string[])).filter((n) => !n.startsWith(UPLOAD_PREFIX)).sort();
      for (const name of names) {
        if (entries.length >= limit) return { entries, truncated: true };
        const stats = await lstat(join(dir.host, name)).catch(() => undefined);
        if (!stats) continue; // removed while we looked
        const abs = `${dir.abs}/${name}`;
        entries.push(info(abs, stats));
        if (recursive && stats.isDirectory()) pending.push({ host: join(dir.host, name), abs });
      }
    }
    return { entries, truncated: false };
  }

  async mkdir(path: WorkspacePath, recursive: boolean): Promise<FileInfo> {
    const real = await this.resolve(path.rel, true);
    if (recursive) {
      const host = await this.ensureDirectory(real.rel);
      return info(path.abs, await stat(host));
    }
    try {
      await mkdir(real.host);
    } catch (err) {
      throw mapFsError(err, path.abs);
    }
    return info(path.abs, await lstat(real.host));
  }

  async move(from: WorkspacePath, to: WorkspacePath, overwrite: boolean): Promise<FileInfo> {
    const source = await this.resolve(from.rel, false);
    const target = await this.resolve(to.rel, true);
    if (target.rel === "" || source.rel === "") throw errors.forbidden("/workspace itself cannot be moved or replaced");
    if (target.rel === source.rel || target.rel.startsWith(`${source.rel}/`)) throw errors.invalid(`cannot move '${from.abs}' onto or into itself`);
    try {
      await lstat(source.host);
      const slash = target.rel.lastIndexOf("/");
      await this.ensureDirectory(slash < 0 ? "" : target.rel.slice(0, slash));
      const existing = await lstat(target.host).catch(() => undefined);
      if (existing && !overwrite) throw errors.conflict(`'${to.abs}' exists; pass overwrite: true to replace it`);
      await rename(source.host, target.host);
      return info(to.abs, await lstat(target.host));
    } catch (err) {
      throw mapFsError(err, from.abs);
    }
  }

  async remove(path: WorkspacePath, recursive: boolean): Promise<void> {
    const real = await this.resolve(path.rel, false);
    if (real.rel === "") throw errors.forbidden("/workspace itself cannot be deleted");
    try {
      const stats = await lstat(real.host);
      if (!stats.isDirectory()) await unlink(real.host);
      else if (recursive) await rm(real.host, { recursive: true });
      else await rmdir(real.host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOTEMPTY") throw errors.conflict(`'${path.abs}' is not empty; pass recursive=true to delete it`);
      throw mapFsError(err, path.abs);
    }
  }

  /**
   * Walks `rel` one component at a time as the sandbox would, following symlinks within the
   * sandbox's tree. The last component is followed only when `followLast`. Components past the
   * first missing one are kept as they are (the caller may be about to create them).
   */
  async resolve(rel: string, followLast: boolean): Promise<{ host: string; rel: string }> {
    const todo = rel.split("/").filter((s) => s !== "" && s !== ".");
    const done: string[] = [];
    let links = 0;
    while (todo.length > 0) {
      const name = todo.shift()!;
      if (name === "..") {
        if (done.length === 0) throw outside(rel);
        done.pop();
        continue;
      }
      const host = join(this.root, ...done, name);
      let stats: Stats;
      try {
        stats = await lstat(host);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") {
          // Nothing exists from here on; what is left can hold no symlink, only names and `..`.
          done.push(name);
          for (const rest of todo) {
            if (rest === "..") {
              if (done.length === 0) throw outside(rel);
              done.pop();
            } else done.push(rest);
          }
          break;
        }
        throw mapFsError(err, `${WORKSPACE}/${rel}`);
      }
      if (stats.isSymbolicLink() && (todo.length > 0 || followLast)) {
        if (++links > MAX_SYMLINKS) throw errors.invalid(`too many levels of symbolic links in '${WORKSPACE}/${rel}'`);
        const target = await readlink(host);
        if (target.startsWith("/")) {
          const inside = target === WORKSPACE || target.startsWith(`${WORKSPACE}/`);
          if (!inside) throw outside(rel);
          done.length = 0;
          todo.unshift(...target.slice(WORKSPACE.length).split("/").filter((s) => s !== "" && s !== "."));
        } else {
          todo.unshift(...target.split("/").filter((s) => s !== "" && s !== "."));
        }
        continue;
      }
      done.push(name);
    }
    return { host: join(this.root, ...done), rel: done.join("/") };
  }

  /** mkdir -p of a resolved relative directory, checking each existing component as it goes. */
  private async ensureDirectory(rel: string): Promise<string> {
    const real = await this.resolve(rel, true);
    try {
      await mkdir(real.host, { recursive: true });
    } catch (err) {
      throw mapFsError(err, `${WORKSPACE}/${rel}`);
    }
    // A component could have been swapped for a symlink between resolve and mkdir: check the result.
    const again = await this.resolve(real.rel, true);
    if (again.host !== real.host) throw outside(rel);
    return real.host;
  }

  private async openChecked(host: string, flags: number, shown: string, mode?: number): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(host, flags | constants.O_NOFOLLOW, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ELOOP") throw errors.forbidden(`'${shown}' changed while it was opened`);
      throw mapFsError(err, shown);
    }
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined && opened !== this.root && !opened.startsWith(`${this.root}/`)) {
      await handle.close();
      throw errors.forbidden(`'${shown}' leads outside ${WORKSPACE}`);
    }
    return handle;
  }
}

function outside(rel: string): SandgateError {
  return errors.forbidden(`'${WORKSPACE}/${rel}' leads outside ${WORKSPACE}`);
}

/** writev until every byte is on disk (a regular file takes it all at once; the loop is for the rest). */
async function writeAll(handle: FileHandle, chunks: Uint8Array[], total: number): Promise<void> {
  let written = (await handle.writev(chunks)).bytesWritten;
  if (written === total) return;
  const rest = Buffer.concat(chunks, total);
  while (written < total) written += (await handle.write(rest, written)).bytesWritten;
}

/** What a refused upload may still send, and for how long, before it is cut off. */
const DISCARD_BYTES = 64 * 1024 * 1024;
const DISCARD_MS = 5000;

/**
 * Reads and drops the rest of a refused upload in the background (bounded), then cancels it. An HTTP
 * client still sending its body (fetch does) reads the error only once its body is out; cancelling
 * right away would leave the connection stalled until the server drops it, and the client would see a
 * reset instead of the 413.
 */
function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  const timer = setTimeout(() => void reader.cancel().catch(() => {}), DISCARD_MS);
  timer.unref?.();
  void (async () => {
    let seen = 0;
    try {
      while (seen <= DISCARD_BYTES) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += value.byteLength;
      }
    } catch {
      // the caller went away
    } finally {
      clearTimeout(timer);
    }
    await reader.cancel().catch(() => {});
  })();
}

/**
 * A pull stream of exactly `size` bytes, read as the consumer asks for them, READ_AHEAD chunks
 * ahead of it (so the disk and the socket work at the same time, with bounded memory).
 */
function fileBody(handle: FileHandle, size: number): ReadableStream<Uint8Array> {
  let position = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const want = Math.min(READ_CHUNK, size - position);
          if (want <= 0) {
            await handle.close();
            controller.close();
            return;
          }
          // Uninitialised memory is fine: only the bytes read are ever handed on.
          const buffer = Buffer.allocUnsafeSlow(want);
          const { bytesRead } = await handle.read(buffer, 0, want, position);
          if (bytesRead === 0) throw new Error("file shrank while it was read");
          position += bytesRead;
          controller.enqueue(bytesRead === want ? buffer : buffer.subarray(0, bytesRead));
        } catch (err) {
          await handle.close().catch(() => {});
          controller.error(err);
        }
      },
      async cancel() {
        await handle.close().catch(() => {});
      },
    },
    { highWaterMark: READ_AHEAD },
  );
}

function info(abs: string, stats: Stats): FileInfo {
  return {
    path: abs,
    name: abs === WORKSPACE ? "workspace" : abs.slice(abs.lastIndexOf("/") + 1),
    type: stats.isFile() ? "file" : stats.isDirectory() ? "directory" : stats.isSymbolicLink() ? "symlink" : "other",
    size: stats.size,
    mode: stats.mode & 0o7777,
    modifiedAt: stats.mtime.toISOString(),
  };
}

export function mapFsError(err: unknown, shown: string): unknown {
  if (err instanceof SandgateError) return err;
  switch ((err as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return errors.notFound(`no such file or directory: '${shown}'`);
    case "EEXIST":
      return errors.conflict(`'${shown}' already exists`);
    case "ENOTDIR":
      return errors.invalid(`a component of '${shown}' is not a directory`);
    case "EISDIR":
      return errors.invalid(`'${shown}' is a directory`);
    case "ENOTEMPTY":
      return errors.conflict(`'${shown}' is not empty`);
    case "EACCES":
    case "EPERM":
      return errors.forbidden(`permission denied: '${shown}'`);
    case "ENAMETOOLONG":
      return errors.invalid(`path too long: '${shown}'`);
    case "ELOOP":
      return errors.invalid(`too many levels of symbolic links: '${shown}'`);
    case "EFBIG":
    case "ENOSPC":
    case "EDQUOT":
      return new SandgateError("payload_too_large", `no space left for '${shown}'`);
    default:
      return err;
  }
}
