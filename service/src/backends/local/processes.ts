import { type FileHandle, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { constants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import type { LogSlice, PortAddress, ProcessSpec, WaitForPortSpec } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import type { LogChunk, ProcessInfo, ProcessLogEvent, Signal } from "../../schemas/processes.ts";
import { LogBudget, type LogSegment } from "./log-budget.ts";
import type { SandboxCommand } from "./process.ts";

/** Limits of the background processes of one sandbox. */
export interface ProcessLimits {
  /** Output kept per process on disk (oldest dropped first); all of a sandbox's together are held to logBudgetBytes. */
  logBytes: number;
  /**
   * Output of a running process kept in memory (its newest); older output is read back from disk.
   * Small: promoted to the old generation, what a busy process's log holds becomes garbage V8 keeps
   * (test/wedges.test.ts measures the host's RSS under 40 such processes).
   */
  liveLogBytes: number;
  /** What a running process's log keeps in memory while someone follows it (default liveLogBytes). */
  followedLogBytes?: number;
  /** Processes running at once in one sandbox. */
  maxRunning: number;
  /** Process records kept per sandbox; past it the oldest ended ones are forgotten, logs and all. */
  maxRecords: number;
  /** Logs of ended processes kept in memory per sandbox; older ones are read back from disk when asked for. */
  endedLogMemoryBytes: number;
  /** How long a kill with a catchable signal waits for the process to end before answering. */
  killGraceMs: number;
  /**
   * What the logs of all of a sandbox's processes may take on the host's disk together; past it the
   * sandbox's oldest log output is deleted first (log-budget.ts). Default: an eighth of the default disk quota.
   */
  logBudgetBytes?: number;
}

export const defaultProcessLimits: ProcessLimits = {
  logBytes: 16 * 1024 * 1024,
  liveLogBytes: 16 * 1024,
  followedLogBytes: 256 * 1024,
  maxRunning: 64,
  maxRecords: 256,
  endedLogMemoryBytes: 32 * 1024 * 1024,
  killGraceMs: 2000,
  logBudgetBytes: (10 * 1024 ** 3) / 8,
};

type Stream = LogChunk["stream"];

interface Chunk {
  stream: Stream;
  offset: number;
  data: string;
  /** UTF-8 length of `data`. */
  bytes: number;
}

/** Logs up to this size are never compacted (see ProcessLog.append). */
const SMALL_LOG_BYTES = 1024 * 1024;
/** Stands in the slots of dropped chunks (before `head`), so their text can be collected at once. */
const DROPPED: Chunk = { stream: "stdout", offset: 0, data: "", bytes: 0 };
/** What each kept chunk costs beyond its bytes (the object, its string header): counted against the limit. */
const CHUNK_OVERHEAD = 64;
/** Old neighbouring chunks of one stream are merged up to this size (see ProcessLog.compact). */
const MERGED_CHUNK_BYTES = 64 * 1024;
/** Compaction runs once this many chunks arrived since the last one... */
const COMPACT_EVERY = 1024;
/** ...and leaves the newest ones alone: followers at the live end read those one by one. */
const TAIL_CHUNKS = 64;

/**
 * The output log of one process: stdout and stderr interleaved in arrival order, as UTF-8 text in
 * chunks that carry their absolute byte offset (the next chunk starts at offset + its UTF-8 length).
 * At most `limit` bytes are kept (counting a small overhead per chunk); the oldest chunks are dropped
 * and `firstOffset` moves up. A reader never holds more than it asked for: followers keep an offset
 * and read the log from there, so a slow one costs the host nothing (it falls behind, then gets a gap).
 */
export class ProcessLog {
  private chunks: Chunk[] = [];
  /** Index of the oldest kept chunk. */
  private head = 0;
  private keptBytes = 0;
  private start = 0;
  private end = 0;
  private complete = false;
  private sinceCompaction = 0;
  private waiters = new Set<() => void>();

  /** Followers reading it now; while there are any, the log keeps `followedLimit` rather than `limit`. */
  private followers = 0;

  constructor(
    private readonly limit: number,
    private readonly followedLimit = limit,
  ) {}

  /**
   * Marks the log followed until the returned function is called: it keeps more (followedLimit), so a
   * follower a little behind a fast process reads on rather than getting a gap at every write.
   */
  followed(): () => void {
    this.followers++;
    let done = false;
    return () => {
      if (!done) this.followers--;
      done = true;
    };
  }

  private get keep(): number {
    return this.followers > 0 ? Math.max(this.limit, this.followedLimit) : this.limit;
  }

  get firstOffset(): number {
    return this.start;
  }

  get nextOffset(): number {
    return this.end;
  }

  /** Whether the process ended and all of its output is in. */
  get finished(): boolean {
    return this.complete;
  }

  /** Roughly what the log holds in memory. */
  get memoryBytes(): number {
    return this.keptBytes;
  }

  /**
   * Adds output at the end; `offset` (when reloading a log from disk) places it explicitly: a record
   * past the end starts the log over there (what came before is gone), one before it is skipped.
   */
  append(stream: Stream, data: string, offset = this.end): void {
    if (data === "") return;
    if (offset < this.end) return;
    this.skipTo(offset);
    const bytes = Buffer.byteLength(data);
    this.chunks.push({ stream, offset, data, bytes });
    this.end = offset + bytes;
    this.keptBytes += bytes + CHUNK_OVERHEAD;
    while (this.keptBytes > this.keep && this.chunks.length - this.head > 1) {
      const dropped = this.chunks[this.head]!;
      this.chunks[this.head++] = DROPPED; // released now, not at the next compaction
      this.keptBytes -= dropped.bytes + CHUNK_OVERHEAD;
      this.start = this.chunks[this.head]!.offset;
    }
    // Small (live) logs hold few chunks: merging them would only make garbage.
    if (++this.sinceCompaction >= COMPACT_EVERY && this.limit > SMALL_LOG_BYTES) this.compact();
    else if (this.head > 4096 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.wake();
  }

  /** Moves the end up to `offset` when the log ends before it: what came between is gone. */
  skipTo(offset: number): void {
    if (offset <= this.end) return;
    this.chunks = [];
    this.head = 0;
    this.keptBytes = 0;
    this.start = offset;
    this.end = offset;
  }

  /** No more output will come. */
  finish(): void {
    this.complete = true;
    this.wake();
  }

  /**
   * With an offset: the output from there (from firstOffset when it was dropped), at most
   * `limitBytes` of it, cut on character boundaries (but never less than one character).
   * Without: the newest output that fits in `limitBytes`.
   */
  read(offset: number | undefined, limitBytes: number): LogSlice {
    if (offset === undefined) return this.tail(limitBytes);
    this.checkOffset(offset);
    let pos = Math.max(offset, this.start);
    let budget = limitBytes;
    const out: LogChunk[] = [];
    for (let i = this.indexOf(pos); i < this.chunks.length && budget > 0; i++) {
      const chunk = this.chunks[i]!;
      const piece = slice(chunk, pos - chunk.offset, Math.min(chunk.bytes, pos - chunk.offset + budget), out.length === 0);
      if (piece.bytes === 0) break;
      out.push({ stream: piece.stream, data: piece.data, offset: piece.offset });
      budget -= piece.bytes;
      pos = piece.offset + piece.bytes;
      if (pos < chunk.offset + chunk.bytes) break; // cut short by the limit
    }
    return { chunks: out, firstOffset: this.start, nextOffset: pos };
  }

  /**
   * What a follower at `offset` reads next: a gap when output from there was dropped, else the rest
   * of the chunk holding `offset` (undefined at the end).
   */
  next(offset: number): { gap: true; to: number } | Chunk | undefined {
    if (offset < this.start) return { gap: true, to: this.start };
    if (offset >= this.end) return undefined;
    const chunk = this.chunks[this.indexOf(offset)]!;
    return slice(chunk, offset - chunk.offset, chunk.bytes, true);
  }

  /** Resolves at the next change (output, the end) or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** An offset past the end is not one this log gave out. */
  checkOffset(offset: number): void {
    if (offset > this.end) throw errors.invalid(`offset ${offset} is past the end of the log (${this.end})`, { nextOffset: this.end });
  }

  private tail(limitBytes: number): LogSlice {
    const out: LogChunk[] = [];
    let budget = limitBytes;
    for (let i = this.chunks.length - 1; i >= this.head && budget > 0; i--) {
      const chunk = this.chunks[i]!;
      const piece = chunk.bytes <= budget ? chunk : slice(chunk, chunk.bytes - budget, chunk.bytes, false);
      if (piece.bytes > 0) out.push({ stream: piece.stream, data: piece.data, offset: piece.offset });
      budget -= piece.bytes;
      if (piece !== chunk) break;
    }
    out.reverse();
    return { chunks: out, firstOffset: this.start, nextOffset: this.end };
  }

  /** Index of the kept chunk holding `offset` (firstOffset <= offset < nextOffset), or the end. */
  private indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    if (hi < lo || offset >= this.end) return this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid]!.offset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Merges runs of small chunks of one stream, leaving the newest TAIL_CHUNKS as they are: a process
   * that prints a few bytes at a time would otherwise keep an object per write.
   */
  private compact(): void {
    this.sinceCompaction = 0;
    const stop = this.chunks.length - TAIL_CHUNKS;
    const out: Chunk[] = [];
    let kept = 0;
    let mergeable = false;
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const last = out[out.length - 1];
      if (i < stop && mergeable && last && last.stream === chunk.stream && last.bytes + chunk.bytes <= MERGED_CHUNK_BYTES) {
        last.data += chunk.data;
        last.bytes += chunk.bytes;
        continue;
      }
      out.push(i < stop ? { ...chunk } : chunk);
      mergeable = i < stop;
    }
    for (const chunk of out) kept += chunk.bytes + CHUNK_OVERHEAD;
    this.chunks = out;
    this.head = 0;
    this.keptBytes = kept;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * Bytes `from` to `to` of a chunk, both moved to character boundaries: `from` forward, `to` back
 * (or, with `atLeastOne`, forward past one whole character when nothing would be left).
 */
function slice(chunk: Chunk, from: number, to: number, atLeastOne: boolean): Chunk {
  if (from <= 0 && to >= chunk.bytes) return chunk;
  if (chunk.bytes === chunk.data.length) {
    // ASCII: bytes are characters.
    const a = Math.max(0, from);
    const b = Math.max(a, Math.min(chunk.bytes, to));
    return { stream: chunk.stream, offset: chunk.offset + a, data: chunk.data.slice(a, b), bytes: b - a };
  }
  const buf = Buffer.from(chunk.data, "utf8");
  const continuation = (i: number) => i < buf.length && (buf[i]! & 0xc0) === 0x80;
  let a = Math.max(0, from);
  while (continuation(a)) a++;
  let b = Math.min(buf.length, to);
  while (b > a && continuation(b)) b--;
  if (b <= a && atLeastOne && a < buf.length) {
    b = a + 1;
    while (continuation(b)) b++;
  }
  b = Math.max(a, b);
  return { stream: chunk.stream, offset: chunk.offset + a, data: buf.toString("utf8", a, b), bytes: b - a };
}

/**
 * Bytes of log records waiting for the disk past which the process's output is paused. Small: it is
 * host memory, per process (with the process's window in flight, test/wedges.test.ts measures it).
 */
const FILE_HIGH_WATER = 64 * 1024;

/**
 * The on-disk copy of a process's log: one JSON line per chunk (`{"o": offset, "s": "o"|"e", "d": text}`)
 * appended to segment files (`<id>.<seq>.log`, see log-budget.ts). A new segment starts past the
 * budget's segment size; the log's oldest segments go past `limit`, and the sandbox's oldest past its
 * budget. Written in order by one loop; past FILE_HIGH_WATER of pending records `onPressure(true)`
 * asks the caller to pause the process's output.
 */
class LogFile {
  /** Encoded lines, each its own small buffer: no large string is ever built (it would live until a full GC). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private handle: FileHandle | undefined;
  private segment: LogSegment | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  failed = false;

  constructor(
    private readonly owner: string,
    private readonly budget: LogBudget,
    private readonly limit: number,
    private readonly onPressure: (paused: boolean) => void,
    private readonly report: (message: string) => void,
  ) {}

  write(stream: Stream, data: string, offset: number): void {
    if (this.failed || this.closed) return;
    const line = Buffer.from(`${JSON.stringify({ o: offset, s: stream === "stdout" ? "o" : "e", d: data })}\n`);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes > FILE_HIGH_WATER) this.onPressure(true);
    this.flushing ??= this.flush();
  }

  /** Resolves once everything written so far is on disk. */
  async settle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Writes what is pending and closes the file; resolves true when the whole log reached the disk. */
  async close(): Promise<boolean> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.endSegment();
    return !this.failed;
  }

  private async endSegment(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
    if (this.segment) this.budget.close(this.segment);
    this.segment = undefined;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const lines = this.pending;
        this.pending = [];
        for (let i = 0; i < lines.length; ) {
          // A group of lines that fits in one segment (or one line, however long).
          let bytes = lines[i]!.length;
          let j = i + 1;
          while (j < lines.length && bytes + lines[j]!.length <= this.budget.segmentBytes) bytes += lines[j++]!.length;
          const group = lines.slice(i, j);
          i = j;
          await this.writeGroup(group, bytes);
          this.pendingBytes -= bytes;
        }
        if (this.pendingBytes < FILE_HIGH_WATER / 4) this.onPressure(false);
      }
    } catch (err) {
      // A full disk or a sandbox deleted under us: the log stays in memory only.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.report(`process log of ${this.owner} could not be written: ${(err as Error).message}`);
      this.failed = true;
      this.pending = [];
      this.pendingBytes = 0;
      this.onPressure(false);
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeGroup(group: Buffer[], bytes: number): Promise<void> {
    if (this.segment && this.segment.bytes > 0 && this.segment.bytes + bytes > this.budget.segmentBytes) await this.endSegment();
    let fits = this.budget.makeRoom(bytes);
    if (!fits && this.segment && this.segment.bytes > 0) {
      // The sandbox's other segments are all being written: this one's own older output goes first.
      await this.endSegment();
      fits = this.budget.makeRoom(bytes);
    }
    if (!fits) return; // over the budget even so: this output is not kept on disk (readers get a gap)
    // Counted at once, before any wait: another writer must not take the same room meanwhile.
    this.segment ??= this.budget.open(this.owner);
    this.budget.grow(this.segment, bytes);
    // The host's own directory (never the sandbox's): a new file, or an error.
    this.handle ??= await open(this.segment.path, "wx");
    await this.budget.deleted();
    await this.handle!.writev(group);
    this.budget.trim(this.owner, this.limit);
  }
}

/**
 * Reads a log written by LogFile back from its segments, oldest first; a line cut short by a crash is
 * skipped. `end`, where known, is where the log ended (its segments may all have been dropped).
 */
async function loadLog(paths: string[], limit: number, end?: number): Promise<ProcessLog> {
  const log = new ProcessLog(limit);
  for (const file of paths) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const record = JSON.parse(line) as { o: number; s: string; d: string };
        if (typeof record.o === "number" && typeof record.d === "string") log.append(record.s === "e" ? "stderr" : "stdout", record.d, record.o);
      } catch {
        // torn write
      }
    }
  }
  if (end !== undefined) log.skipTo(end);
  log.finish();
  return log;
}

/** One background process: its record, its running command (while it runs) and its log. */
class Entry {
  proc: SandboxCommand | undefined;
  /** In memory while it runs, and afterwards until evicted (then read back from disk on demand). */
  log: ProcessLog | undefined;
  loading: Promise<ProcessLog> | undefined;
  file: LogFile | undefined;
  /** Whether the log on disk is whole (so the one in memory may be dropped). */
  persisted = false;
  /** Where the ended process's log ends (kept in its record): its segments may all be dropped for the budget. */
  logEnd: number | undefined;
  /** Set by a kill request with a signal meant to stop it, or by deletion: it ends as `killed`. */
  killRequested = false;
  lastUsed = Date.now();
  /** Resolves once the process ended and its record and log were written. */
  settled: Promise<void> = Promise.resolve();
  private saving: Promise<void> = Promise.resolve();

  constructor(
    public info: ProcessInfo,
    readonly recordPath: string,
  ) {}

  /** Writes the record atomically, after any earlier write of it. */
  save(): Promise<void> {
    const text = JSON.stringify({ ...this.info, logEnd: this.logEnd }, null, 2);
    this.saving = this.saving.then(async () => {
      const temp = `${this.recordPath}.${randomBytes(4).toString("hex")}.tmp`;
      try {
        await writeFile(temp, text);
        await rename(temp, this.recordPath);
      } catch {
        await rm(temp, { force: true });
      }
    });
    return this.saving;
  }
}

/** Signals that stop a process: a kill request with one of these ends it as `killed`. */
const STOPPING: ReadonlySet<Signal> = new Set(["TERM", "KILL", "INT", "QUIT"]);

/**
 * The background processes of one sandbox: records in `processes/<id>.json` under the sandbox's
 * directory (written atomically at start and end, so a host killed outright leaves `running`
 * records, which the next start reports as `lost`), output logs in memory and in segment files
 * `processes/<id>.<seq>.log`, held to the sandbox's log budget (log-budget.ts).
 */
export class ProcessTable {
  private readonly entries = new Map<string, Entry>();
  private reserved = 0;
  private readonly dir: string;
  private dirReady: Promise<void> | undefined;
  private closed = false;
  /** What the logs take on disk, held to limits.logBudgetBytes. */
  private readonly budget: LogBudget;

  constructor(
    readonly sandboxId: string,
    sandboxDir: string,
    private readonly limits: ProcessLimits = defaultProcessLimits,
    private readonly report: (message: string) => void = () => {},
  ) {
    this.dir = join(sandboxDir, "processes");
    const budget = limits.logBudgetBytes ?? defaultProcessLimits.logBudgetBytes!;
    this.budget = new LogBudget(this.dir, budget, limits.maxRunning, limits.logBytes, (owner) => {
      // An ended log kept in memory would still show what the disk dropped: read it back instead.
      const entry = this.entries.get(owner);
      if (entry && !entry.proc && entry.persisted) entry.log = undefined;
    });
  }

  private logPaths(entry: Entry): string[] {
    return this.budget.of(entry.info.id).map((s) => s.path);
  }

  /**
   * Reads the records a previous run left; processes that were running then died with it (bubblewrap's
   * --die-with-parent, and the cgroups removed on start): they are `lost`, ended now.
   */
  async load(now = new Date()): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    this.dirReady = Promise.resolve();
    for (const name of names) {
      if (name.endsWith(".tmp")) {
        await rm(join(this.dir, name), { force: true });
        continue;
      }
      if (!name.endsWith(".json")) continue;
      const stored = await readFile(join(this.dir, name), "utf8").then(
        (text) => JSON.parse(text) as ProcessInfo & { logEnd?: number },
        () => undefined,
      );
      if (!stored || `${stored.id}.json` !== name) continue;
      const { logEnd, ...info } = stored;
      const entry = this.entry(info);
      entry.persisted = true;
      entry.logEnd = typeof logEnd === "number" ? logEnd : undefined;
      if (info.status === "running") {
        entry.info = { ...info, status: "lost", exitCode: null, endedAt: now.toISOString() };
        await entry.save();
      }
    }
    await this.adoptLogs(names);
  }

  /**
   * Counts the log files a previous run left against the budget (the older layout's `<id>.log.1` and
   * `<id>.log` as the oldest), deletes those of no known process, and drops the oldest past the budget.
   */
  private async adoptLogs(names: string[]): Promise<void> {
    // The older layout's rotated half (`.log.1`) holds older output than its `.log`: adopted first.
    const ordered = [...names].sort((x, y) => Number(!x.endsWith(".log.1")) - Number(!y.endsWith(".log.1")));
    for (const name of ordered) {
      const match = /^([a-z0-9][a-z0-9-]*)(?:\.(\d+))?\.log(\.1)?$/.exec(name);
      if (!match) continue;
      const [, owner, seq, older] = match;
      const path = join(this.dir, name);
      if (!this.entries.has(owner!) || (seq !== undefined && older !== undefined)) {
        await rm(path, { force: true });
        continue;
      }
      const bytes = await stat(path).then(
        (s) => s.size,
        () => undefined,
      );
      if (bytes !== undefined) this.budget.adopt(owner!, path, seq === undefined ? 0 : Number(seq), bytes);
    }
    this.budget.makeRoom(0);
  }

  /** Claims a place for a new process (its id unused, the running limit not reached) until `release` is called. */
  reserve(processId: string): () => void {
    if (this.closed) throw errors.sandboxNotFound(this.sandboxId);
    if (this.entries.has(processId)) throw errors.conflict(`process '${processId}' already exists in sandbox '${this.sandboxId}'`);
    const running = [...this.entries.values()].filter((e) => e.info.status === "running").length + this.reserved;
    if (running >= this.limits.maxRunning) {
      throw new SandgateError("conflict", `sandbox '${this.sandboxId}' already runs ${this.limits.maxRunning} background processes, the most it may: kill one first`, {
        limit: this.limits.maxRunning,
      });
    }
    this.reserved++;
    let released = false;
    return () => {
      if (!released) this.reserved--;
      released = true;
    };
  }

  /** Makes the directory the records and logs go to (never the sandbox's own: a deleted sandbox stays deleted). */
  ensureDir(): Promise<void> {
    this.dirReady ??= mkdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") {
        this.dirReady = undefined;
        throw err;
      }
    });
    return this.dirReady;
  }

  /** Takes a started command as the process `spec` describes; resolves once it runs and its record is on disk. */
  async add(spec: ProcessSpec, proc: SandboxCommand): Promise<ProcessInfo> {
    await proc.started; // it could not start: that rejects
    if (this.closed) {
      proc.kill();
      throw errors.sandboxNotFound(this.sandboxId);
    }
    this.forgetOldest();
    const entry = this.entry({
      id: spec.processId,
      sandboxId: this.sandboxId,
      name: spec.name,
      argv: spec.argv,
      cwd: spec.cwd,
      status: "running",
      exitCode: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
    });
    entry.proc = proc;
    const log = (entry.log = new ProcessLog(Math.min(this.limits.liveLogBytes, this.limits.logBytes), Math.min(this.limits.followedLogBytes ?? this.limits.liveLogBytes, this.limits.logBytes)));
    const file = (entry.file = new LogFile(entry.info.id, this.budget, this.limits.logBytes, (paused) => (paused ? proc.pause() : proc.resume()), this.report));
    const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
    const add = (stream: Stream, data: string) => {
      if (!data) return;
      file.write(stream, data, log.nextOffset);
      log.append(stream, data);
    };
    // Output arrives in pieces of up to 64 KiB; the log keeps pieces small enough to drop old output finely.
    const piece = Math.max(256, Math.min(16 * 1024, Math.floor(this.limits.logBytes / 4)));
    proc.onOutput((stream, chunk) => {
      for (let at = 0; at < chunk.length; at += piece) add(stream, decoders[stream].write(chunk.subarray(at, at + piece)));
    });
    const ended = [
      proc.exited.then(
        () => {
          for (const stream of ["stdout", "stderr"] as const) add(stream, decoders[stream].end());
        },
        () => {},
      ),
    ];
    entry.settled = proc.exited
      .then(
        ({ exitCode }) => exitCode,
        () => null,
      )
      .then(async (exitCode) => {
        await Promise.all(ended);
        entry.info = { ...entry.info, status: entry.killRequested ? "killed" : "exited", exitCode, endedAt: new Date().toISOString() };
        entry.proc = undefined;
        log.finish();
        entry.logEnd = log.nextOffset;
        await entry.save();
        entry.persisted = await file.close();
        entry.file = undefined;
        this.trimMemory();
      });
    await entry.save();
    return entry.info;
  }

  list(): ProcessInfo[] {
    return [...this.entries.values()].map((e) => e.info).sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : 1));
  }

  get(processId: string): ProcessInfo {
    return this.find(processId).info;
  }

  async read(processId: string, offset: number | undefined, limitBytes: number): Promise<LogSlice> {
    const entry = this.find(processId);
    const log = await this.logOf(entry);
    // Older than what memory holds (a running process keeps only its newest output there): from disk.
    const older = offset === undefined ? log.firstOffset > 0 && log.nextOffset - log.firstOffset < limitBytes : offset < log.firstOffset;
    if (older) {
      const disk = await this.diskLog(entry);
      // Not when the disk lacks what is asked for (output past the budget was not kept there).
      const has = offset === undefined ? disk.nextOffset >= log.nextOffset : offset < disk.nextOffset;
      if (disk.firstOffset < log.firstOffset && disk.nextOffset > disk.firstOffset && has) return disk.read(offset, limitBytes);
    }
    return log.read(offset, limitBytes);
  }

  /** The whole log as the disk has it (everything written so far), for reads older than memory. */
  private async diskLog(entry: Entry): Promise<ProcessLog> {
    await entry.file?.settle();
    return loadLog(this.logPaths(entry), this.limits.logBytes, entry.proc ? undefined : entry.logEnd);
  }

  /**
   * Replays the log from `offset`, follows it while the process runs, and ends with one `exit` once it
   * ended and every byte was given out. Aborting `signal` ends the iteration, never the process.
   */
  async follow(processId: string, offset: number, signal: AbortSignal): Promise<AsyncIterable<ProcessLogEvent>> {
    const entry = this.find(processId);
    const live = await this.logOf(entry);
    live.checkOffset(offset);
    // A follower starting before what memory holds replays the disk's copy first, then goes on live.
    const disk = offset < live.firstOffset ? await this.diskLog(entry) : undefined;
    return {
      async *[Symbol.asyncIterator]() {
        let pos = offset;
        let log = disk && disk.firstOffset < live.firstOffset ? disk : live;
        const unfollow = live.followed();
        try {
          while (!signal.aborted) {
            if (log !== live && (pos >= live.firstOffset || pos >= log.nextOffset)) log = live;
            entry.lastUsed = Date.now();
            const next = log.next(pos);
            if (next && "gap" in next) {
              yield { type: "gap", offset: pos, nextOffset: next.to };
              pos = next.to;
            } else if (next && next.bytes === 0) {
              pos = next.offset; // an offset inside a character: on from the next one
            } else if (next) {
              const nextOffset = next.offset + next.bytes;
              yield { type: next.stream, data: next.data, offset: next.offset, nextOffset };
              pos = nextOffset;
            } else if (log.finished) {
              yield { type: "exit", status: entry.info.status, exitCode: entry.info.exitCode, nextOffset: pos };
              return;
            } else {
              await log.changed(signal);
            }
          }
        } finally {
          unfollow();
        }
      },
    };
  }

  /**
   * Sends `signal` to the process and everything it started, then waits for it to end (KILL), or up
   * to the grace period (catchable signals, which it may handle or ignore). Answers its record.
   */
  async kill(processId: string, signal: Signal): Promise<ProcessInfo> {
    const entry = this.find(processId);
    const proc = entry.proc;
    if (!proc || entry.info.status !== "running") return entry.info;
    if (STOPPING.has(signal)) entry.killRequested = true;
    if (signal === "KILL") {
      proc.kill();
      await Promise.race([entry.settled, sleep(10_000)]);
    } else {
      proc.signal(constants.signals[`SIG${signal}`]);
      await Promise.race([entry.settled, sleep(this.limits.killGraceMs)]);
    }
    return entry.info;
  }

  /**
   * Whether the process still runs; `ended` resolves once it does not. For waiting on something else
   * while watching for the process's end.
   */
  watch(processId: string): { running: boolean; ended: Promise<void> } {
    const entry = this.find(processId);
    return { running: entry.info.status === "running", ended: entry.settled };
  }

  /** No new process starts; those running end as `killed` (the caller is about to end the environment). */
  markEnding(): void {
    this.closed = true;
    for (const entry of this.entries.values()) if (entry.proc) entry.killRequested = true;
  }

  runningCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.proc) count++;
    return count;
  }

  /** Kills every process (they end as `killed`) and waits until their records and logs are written; no new ones start. */
  async endAll(): Promise<void> {
    this.closed = true;
    const running = [...this.entries.values()].filter((e) => e.proc);
    for (const entry of running) entry.killRequested = true;
    for (const entry of running) entry.proc!.kill();
    await Promise.all(running.map((e) => e.settled));
  }

  private find(processId: string): Entry {
    const entry = this.entries.get(processId);
    if (!entry) throw errors.notFound(`process '${processId}' not found in sandbox '${this.sandboxId}'`);
    entry.lastUsed = Date.now();
    return entry;
  }

  private entry(info: ProcessInfo): Entry {
    const entry = new Entry(info, join(this.dir, `${info.id}.json`));
    this.entries.set(info.id, entry);
    return entry;
  }

  private async logOf(entry: Entry): Promise<ProcessLog> {
    if (entry.log) return entry.log;
    entry.loading ??= loadLog(this.logPaths(entry), this.limits.logBytes, entry.logEnd).then((log) => {
      entry.log = log;
      entry.loading = undefined;
      this.trimMemory();
      return log;
    });
    return entry.loading;
  }

  /** Drops from memory the logs of ended processes used least recently, past the budget (they are on disk). */
  private trimMemory(): void {
    const ended = [...this.entries.values()].filter((e) => !e.proc && e.log && e.persisted).sort((a, b) => b.lastUsed - a.lastUsed);
    let total = 0;
    for (const entry of ended) {
      total += entry.log!.memoryBytes;
      if (total > this.limits.endedLogMemoryBytes) entry.log = undefined;
    }
  }

  /** Past maxRecords, forgets the oldest ended processes and removes their files. */
  private forgetOldest(): void {
    if (this.entries.size < this.limits.maxRecords) return;
    const ended = [...this.entries.values()].filter((e) => !e.proc).sort((a, b) => (a.info.startedAt < b.info.startedAt ? -1 : 1));
    for (const entry of ended.slice(0, this.entries.size - this.limits.maxRecords + 1)) {
      this.entries.delete(entry.info.id);
      void entry.settled
        .then(() => {
          this.budget.forget(entry.info.id);
          return rm(entry.recordPath, { force: true });
        })
        .catch(() => {});
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How often wait-for-port tries, and how long one try may take. */
const PORT_POLL_MS = 100;
const PORT_TRY_MS = 1000;

/**
 * Resolves once `spec.port` accepts a TCP connection at the address `where` gives (and, with a path,
 * GET there answers `spec.status`, or any 2xx or 3xx). `timeout` past spec.timeoutMs, `conflict` when
 * the process ends first; an aborted `signal` gives up.
 */
export async function waitForPort(
  processId: string,
  where: () => Promise<PortAddress>,
  spec: WaitForPortSpec,
  watch: () => { running: boolean; ended: Promise<void> },
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + spec.timeoutMs;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => stop.abort(), spec.timeoutMs);
  const ended = () => new SandgateError("conflict", `process '${processId}' ended before port ${spec.port} accepted connections`);
  try {
    let state = watch();
    void state.ended.then(() => stop.abort());
    for (;;) {
      if (!state.running) throw ended();
      const address = await where();
      if (await tryPort(address, spec, stop.signal)) return;
      state = watch();
      if (!state.running) throw ended();
      if (signal.aborted) throw errors.invalid("the client closed the connection");
      if (Date.now() >= deadline || stop.signal.aborted) {
        throw new SandgateError("timeout", `port ${spec.port} did not accept connections within ${spec.timeoutMs} ms`, { timeoutMs: spec.timeoutMs });
      }
      await new Promise<void>((resolve) => {
        const wake = () => (clearTimeout(t), resolve());
        const t = setTimeout(() => (stop.signal.removeEventListener("abort", wake), resolve()), PORT_POLL_MS);
        stop.signal.addEventListener("abort", wake, { once: true });
      });
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/** One try: a TCP connect, then with a path one GET. */
function tryPort(address: PortAddress, spec: WaitForPortSpec, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", abort);
      resolve(ok);
    };
    const abort = () => {
      cleanup();
      finish(false);
    };
    let cleanup = () => {};
    const timer = setTimeout(abort, PORT_TRY_MS);
    signal.addEventListener("abort", abort, { once: true });
    if (spec.path === undefined) {
      const socket = createConnection({ host: address.host, port: address.port });
      cleanup = () => socket.destroy();
      socket.once("connect", () => (socket.destroy(), finish(true)));
      socket.once("error", () => (socket.destroy(), finish(false)));
      return;
    }
    const req = httpRequest({ host: address.host, port: address.port, path: spec.path, method: "GET", headers: { connection: "close" } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      finish(spec.status !== undefined ? status === spec.status : status >= 200 && status < 400);
    });
    cleanup = () => req.destroy();
    req.once("error", () => finish(false));
    req.end();
  });
}
