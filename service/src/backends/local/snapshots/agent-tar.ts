import { closeSync, constants, copyFileSync, fchownSync, fstatSync, openSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { SandgateError, errors } from "../../../core/errors.ts";
import { type AgentConnection, Frame, failureOf } from "../agent.ts";
import { mapAgentFailure } from "../files.ts";

/** Tar bytes the host takes ahead of what it has stored (the agent holds back the rest). */
const WINDOW = 4 * 1024 * 1024;

/**
 * A tar stream the agent writes from inside the sandbox (`tar-out`, service/agent/snapshot.go): its
 * bytes, credited as they are consumed, and the agent's last word (`changed`: files that moved while
 * read), which settles once the bytes have all arrived.
 */
export function tarFromAgent(agent: AgentConnection, request: Record<string, unknown>): { body: AsyncIterable<Uint8Array>; end: Promise<{ changed: string[] }> } {
  const queue: Buffer[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failed: unknown;
  let endWith!: (value: { changed: string[] }) => void;
  let failEnd!: (err: unknown) => void;
  const end = new Promise<{ changed: string[] }>((resolve, reject) => ((endWith = resolve), (failEnd = reject)));
  end.catch(() => {});
  const stop = (err: unknown) => {
    failed ??= err;
    finished = true;
    failEnd(err);
    wake?.();
  };
  const stream = agent.open(
    { op: "tar-out", window: WINDOW, ...request },
    {
      reply: (value) => {
        const failure = failureOf(value);
        if (failure) {
          agent.forget(stream);
          stop(mapAgentFailure(failure, "/workspace"));
        }
      },
      output: (_channel, data) => {
        queue.push(data);
        wake?.();
      },
      end: (value) => {
        const failure = failureOf(value);
        if (failure) stop(mapAgentFailure(failure, "/workspace"));
        else {
          finished = true;
          endWith(value as { changed: string[] });
          wake?.();
        }
      },
      lost: (err) => stop(err),
    },
  );
  const body = (async function* () {
    let done = false;
    try {
      for (;;) {
        while (queue.length > 0) {
          const chunk = queue.shift()!;
          yield chunk;
          agent.credit(stream, chunk.length);
        }
        if (failed !== undefined) throw failed;
        if (finished) {
          done = true;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      if (!done) {
        // The reader gave up (a bad member, a limit): the agent stops.
        agent.forget(stream);
        agent.signal(stream, 9);
        stop(errors.conflict("the snapshot was abandoned"));
      }
    }
  })();
  return { body, end };
}

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
class LentCopies {
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

/**
 * Sends a tar stream to the agent (`tar-in`), within the room it grants; resolves with its last word
 * once it has extracted all of it, or rejects with what it refused. With `lending`, the stream's
 * files come as headers alone and their content is copied into the files the agent lends (LentCopies).
 */
export async function tarToAgent(agent: AgentConnection, request: Record<string, unknown>, source: AsyncIterable<Uint8Array>, lending?: Lending): Promise<{ entries: number }> {
  let room = 0;
  let wakeRoom: (() => void) | undefined;
  let failed: unknown;
  let finished = false;
  let result!: (value: unknown) => void;
  const ended = new Promise<unknown>((resolve) => (result = resolve));
  let stream = 0;
  let copyFailed!: (err: unknown) => void;
  const failedCopy = new Promise<never>((_, reject) => (copyFailed = reject));
  failedCopy.catch(() => {});
  const copies = lending
    ? new LentCopies(
        lending,
        (count) => agent.credit(stream, count),
        (err) => {
          failed ??= err;
          wakeRoom?.();
          copyFailed(err);
        },
      )
    : undefined;
  const ready = new Promise<void>((resolve, reject) => {
    stream = agent.open(
      { op: "tar-in", ...request, ...(lending ? { lend: true } : {}) },
      {
        output: (_channel, data) => copies?.lent(data),
        reply: (value) => {
          const failure = failureOf(value);
          if (failure) {
            agent.forget(stream);
            reject(mapAgentFailure(failure, "/workspace"));
          } else resolve();
        },
        grant: (bytes) => {
          room += bytes;
          wakeRoom?.();
        },
        end: (value) => {
          finished = true;
          const failure = failureOf(value);
          if (failure) failed = mapAgentFailure(failure, "/workspace");
          result(value);
          wakeRoom?.();
        },
        lost: (err) => {
          finished = true;
          failed = err;
          reject(err);
          result(undefined);
          wakeRoom?.();
        },
      },
    );
  });
  try {
    await ready;
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        while (room <= 0 && failed === undefined && !finished) await new Promise<void>((resolve) => (wakeRoom = resolve));
        if (failed !== undefined) throw failed;
        if (finished) throw errors.invalid("the sandbox stopped reading the archive early");
        const part = chunk.subarray(offset, offset + Math.min(room, chunk.byteLength - offset, 1024 * 1024));
        agent.send(Frame.data, stream, Buffer.from(part.buffer, part.byteOffset, part.byteLength));
        room -= part.byteLength;
        offset += part.byteLength;
      }
    }
    if (failed !== undefined) throw failed;
    agent.send(Frame.eof, stream);
    // A lending restore ends once the agent has every copy: a failed copy ends it first, here.
    const value = await (copies ? Promise.race([ended, failedCopy]) : ended);
    if (failed !== undefined) throw failed;
    return value as { entries: number };
  } catch (err) {
    // The agent removes its staging directory; a lending one waits for this signal before it lets go
    // of the files it lent (the descriptor numbers are then free for it to reuse).
    if (!finished || copies) agent.signal(stream, 9);
    if (!finished) agent.forget(stream);
    throw err;
  } finally {
    copies?.dispose();
  }
}
