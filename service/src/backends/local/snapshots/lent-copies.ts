/**
 * The host's side of a lending restore (service/agent/snapshot.go, lender): the agent makes each file
 * of the restore inside the sandbox and lends the host its descriptor; the host copies the stored
 * content into it in the kernel and acknowledges the copies.
 */
import { closeSync, constants, copyFileSync, fchownSync, fstatSync, openSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { SandgateError } from "../../../core/errors.ts";

/** Copies the host runs at once into files an agent lent (each a copy in the kernel, on the thread pool). */
const LENT_COPIES = 4;
/** Files up to this size are copied inline rather than on the thread pool. */
const INLINE_COPY = 256 * 1024;
/** Copies acknowledged to the agent at once (it lends at most 64 ahead: service/agent/snapshot.go, maxLent). */
const ACK_BATCH = 16;

/**
 * What a lending restore needs: the agent's pid on the host, and the stored content of each lent
 * file, in the order the archive sends them (tar-writer.ts, lentFiles).
 */
export interface Lending {
  hostPid: number;
  sources: { path: string; size: number }[];
}

/**
 * The host's side of a lending restore: each descriptor the agent lends (an output frame, u32) is
 * the next file of `sources`; its content is copied into it through /proc/<agent>/fd/<n> (copy_file_range
 * or sendfile: the bytes never pass through this process), and the agent is told, with credit, how
 * many files from the first are copied. The descriptor is the agent's own, made beneath its staging
 * directory inside the sandbox; the host never resolves a path of the sandbox.
 */
export class LentCopies {
  private next = 0;
  private running = 0;
  private readonly waiting: [number, LentFile][] = [];
  /** Copied, not yet counted into `unsent` (copies of large files end out of order). */
  private readonly done = new Set<number>();
  private acknowledged = 0;
  /** Copied, from the first not yet acknowledged on, and not yet acknowledged. */
  private unsent = 0;
  private disposed = false;
  failed: unknown;

  constructor(
    private readonly lending: Lending,
    private readonly acknowledge: (count: number) => void,
    private readonly fail: (err: unknown) => void,
  ) {}

  lent(data: Buffer): void {
    if (data.length !== 4 || this.next >= this.lending.sources.length) return this.stop(new SandgateError("sandbox_unavailable", "the sandbox's agent lent a file the restore did not send"));
    if (this.disposed) return;
    const index = this.next++;
    const source = this.lending.sources[index]!;
    // Opened at once, so the copy writes to this file whatever the agent's descriptor number names later.
    let file: LentFile;
    try {
      file = openLent(`/proc/${this.lending.hostPid}/fd/${data.readUInt32BE(0)}`);
    } catch (err) {
      return this.copyFailed(err as NodeJS.ErrnoException);
    }
    if (source.size <= INLINE_COPY) {
      // Small: copied inline (a few microseconds from the page cache; the thread pool costs ten times that).
      try {
        copyFileSync(source.path, file.path);
        file.finish();
      } catch (err) {
        return this.copyFailed(err as NodeJS.ErrnoException);
      } finally {
        file.close();
      }
      this.copied(index);
      this.acknowledgeCopied();
      return;
    }
    this.waiting.push([index, file]);
    this.pump();
  }

  private pump(): void {
    while (this.failed === undefined && !this.disposed && this.running < LENT_COPIES && this.waiting.length > 0) {
      const [index, file] = this.waiting.shift()!;
      this.running++;
      copyFile(this.lending.sources[index]!.path, file.path)
        .then(() => file.finish())
        .finally(() => file.close())
        .then(
          () => {
            this.running--;
            this.copied(index);
            this.pump();
            this.acknowledgeCopied();
          },
          (err: NodeJS.ErrnoException) => {
            this.running--;
            this.copyFailed(err);
          },
        );
    }
    if (this.failed !== undefined || this.disposed) for (const [, file] of this.waiting.splice(0)) file.close();
  }

  /** The restore ended (either way): no copy starts any more, and the files held for one are let go. */
  dispose(): void {
    this.disposed = true;
    for (const [, file] of this.waiting.splice(0)) file.close();
  }

  private copied(index: number): void {
    this.done.add(index);
    while (this.done.delete(this.acknowledged + this.unsent)) this.unsent++;
  }

  /** Acknowledged in batches (each a write to the agent's pipe), and whenever no copy is under way. */
  private acknowledgeCopied(): void {
    if (this.unsent > 0 && this.failed === undefined && (this.unsent >= ACK_BATCH || this.running === 0)) {
      this.acknowledged += this.unsent;
      this.acknowledge(this.unsent);
      this.unsent = 0;
    }
  }

  private copyFailed(err: NodeJS.ErrnoException): void {
    if (err instanceof SandgateError) return this.stop(err);
    const full = err.code === "ENOSPC" || err.code === "EDQUOT" || err.code === "EFBIG";
    this.stop(full ? new SandgateError("payload_too_large", "no space left for the snapshot's files (the sandbox's disk quota)") : new SandgateError("sandbox_unavailable", `a restored file could not be written: ${err.message}`));
  }

  private stop(err: unknown): void {
    if (this.failed !== undefined) return;
    this.failed = err;
    this.fail(err);
  }
}

/** A lent file as this process holds it: its own descriptor's path, to copy into; `finish` gives the file back to its owner. */
interface LentFile {
  path: string;
  finish(): void;
  close(): void;
}

/**
 * Opens the file a lent descriptor names (through /proc/<agent>/fd/<n>) for this process: it must be
 * a new, empty regular file. Copies go to `/proc/self/fd/<ours>` (copy_file_range, through
 * fs.copyFile), which also gives the copy its source's owner (root's, here): `finish` gives it back to
 * the owner the agent made it with, so the sandbox's user can still set its mode and times, and owns it.
 */
function openLent(lent: string): LentFile {
  const fd = openSync(lent, constants.O_WRONLY);
  try {
    const made = fstatSync(fd);
    if (!made.isFile() || made.size !== 0) throw notLendable();
    let open = true;
    return {
      path: `/proc/self/fd/${fd}`,
      finish: () => fchownSync(fd, made.uid, made.gid),
      close: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

const notLendable = () => new SandgateError("sandbox_unavailable", "the sandbox's agent lent a file that is not a new, empty one");
