import { rm } from "node:fs/promises";
import { join } from "node:path";

/** One file of a process's log on disk: `<processId>.<seq>.log` (or a file of the older two-file layout). */
export interface LogSegment {
  readonly owner: string;
  readonly path: string;
  /** Order of creation across the sandbox: a lower one holds older output. */
  readonly seq: number;
  bytes: number;
  /** Being written (its writer holds it open): never dropped from under the writer. */
  open: boolean;
}

/** The smallest segment: smaller ones would only multiply files. */
const MIN_SEGMENT_BYTES = 64 * 1024;

/**
 * The disk the logs of one sandbox's background processes take in the host's data directory, held to
 * a byte budget: each log is a series of segment files, and past the budget the oldest closed
 * segments of the whole sandbox (whichever process wrote them) are deleted first. Readers of a log
 * whose older segments went see its first offset move up (a `gap` to followers).
 *
 * Segments are small enough that the sandbox's running processes' open ones together take at most
 * half the budget, so closing and dropping old ones always makes room.
 */
export class LogBudget {
  /** All segments, oldest first. */
  private readonly segments: LogSegment[] = [];
  private total = 0;
  private nextSeq = 1;
  /** Deletions under way: their bytes are no longer counted, but are on the disk until they finish. */
  private readonly deleting = new Set<Promise<void>>();
  /** Where a writer starts a new segment. */
  readonly segmentBytes: number;

  constructor(
    private readonly dir: string,
    readonly limitBytes: number,
    maxRunning: number,
    perLogBytes: number,
    /** Told when a segment of `owner` was dropped for the budget (not for the log's own limit). */
    private readonly onDropped: (owner: string) => void = () => {},
  ) {
    this.segmentBytes = Math.max(1024, Math.min(Math.floor(perLogBytes / 2), Math.max(MIN_SEGMENT_BYTES, Math.floor(limitBytes / (2 * maxRunning)))));
  }

  /** Bytes the sandbox's logs take on disk now. */
  get bytes(): number {
    return this.total;
  }

  /** A new, empty, open segment of `owner`'s log; its writer creates the file. */
  open(owner: string): LogSegment {
    const seq = this.nextSeq++;
    const segment: LogSegment = { owner, path: join(this.dir, `${owner}.${seq}.log`), seq, bytes: 0, open: true };
    this.segments.push(segment);
    return segment;
  }

  /** A segment found on disk (a previous run's), closed; `seq` 0 for the older layout's files. */
  adopt(owner: string, path: string, seq: number, bytes: number): void {
    const segment: LogSegment = { owner, path, seq, bytes, open: false };
    let at = this.segments.length;
    while (at > 0 && this.segments[at - 1]!.seq > seq) at--;
    this.segments.splice(at, 0, segment);
    this.total += bytes;
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
  }

  /** Resolves once the deletions under way finished: a writer waits for them, so the disk never holds more than counted. */
  async deleted(): Promise<void> {
    while (this.deleting.size > 0) await Promise.all(this.deleting);
  }

  /** Counts `bytes` about to be written to `segment` (before the write, so two writers never both take the same room). */
  grow(segment: LogSegment, bytes: number): void {
    segment.bytes += bytes;
    this.total += bytes;
  }

  close(segment: LogSegment): void {
    segment.open = false;
  }

  /**
   * Drops the oldest closed segments until `bytes` more fit in the budget; answers whether they do
   * (they may not while open segments hold the rest).
   */
  makeRoom(bytes: number): boolean {
    for (let i = 0; this.total + bytes > this.limitBytes && i < this.segments.length; ) {
      const segment = this.segments[i]!;
      if (segment.open) {
        i++;
        continue;
      }
      this.remove(segment);
      this.onDropped(segment.owner);
    }
    return this.total + bytes <= this.limitBytes;
  }

  /** Drops `owner`'s oldest closed segments while its log takes more than `limit`. */
  trim(owner: string, limit: number): void {
    const own = this.of(owner);
    let bytes = own.reduce((sum, s) => sum + s.bytes, 0);
    for (const segment of own) {
      if (bytes <= limit || segment.open) break;
      bytes -= segment.bytes;
      this.remove(segment);
    }
  }

  /** `owner`'s segments, oldest first: the files its log reads back from. */
  of(owner: string): LogSegment[] {
    return this.segments.filter((s) => s.owner === owner);
  }

  /** Forgets `owner`'s log and deletes its files. */
  forget(owner: string): void {
    for (const segment of this.of(owner)) this.remove(segment);
  }

  private remove(segment: LogSegment): void {
    const at = this.segments.indexOf(segment);
    if (at < 0) return;
    this.segments.splice(at, 1);
    this.total -= segment.bytes;
    const done: Promise<void> = rm(segment.path, { force: true })
      .catch(() => {})
      .finally(() => this.deleting.delete(done));
    this.deleting.add(done);
  }
}
