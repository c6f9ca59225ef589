/**
 * The combined output log of a background process on the Cloudflare backend.
 *
 * What the SDK (0.12) gives: `getProcessLogs(id)` answers the whole stdout and the whole stderr as two
 * separate strings, and `streamProcessLogs(id)` answers SSE that replays all of stdout, then all of
 * stderr, then follows both as they come. Neither says how the two streams interleaved, neither has
 * offsets, and the container keeps every byte (nothing is dropped, so the oldest offset is always 0).
 *
 * Sandgate's log is one byte sequence, stdout and stderr interleaved, with offsets a reader can
 * resume from. So the backend defines the order itself and keeps it: the combined log is a list of
 * segments, each "stream S, from where S's previous segment ended, up to byte E of S", held by the
 * registry Durable Object. Whenever a reader (a log read or a follower) has seen more of a stream
 * than the layout holds, it appends the new bytes as segments, **stdout's new bytes first, then
 * stderr's**; the Durable Object takes one writer at a time, so every reader, in any isolate and
 * after any reconnect, sees the same bytes at the same offsets, every byte exactly once. The
 * interleaving is as fine as the observations: a follower commits what it saw every
 * FOLLOW_BATCH_MS, so a followed process's log interleaves close to the order it printed in; output
 * first read after the fact is laid out as one stdout segment followed by one stderr segment.
 */
import type { LayoutPage } from "./registry.ts";

/** `[stream, end]`: stream 0 is stdout, 1 is stderr; `end` is a byte position in that stream. */
export type Segment = [stream: 0 | 1, end: number];

export const STREAM_NAMES = ["stdout", "stderr"] as const;

/** How often a follower lays out what it has seen, at most. */
export const FOLLOW_BATCH_MS = 40;

/** Largest `data` of one chunk or event. */
export const MAX_PIECE_BYTES = 64 * 1024;

/** The bytes of one stream seen so far, from its start. */
export class ByteLog {
  private bytes = new Uint8Array(4096);
  length = 0;

  append(chunk: Uint8Array): void {
    if (this.length + chunk.byteLength > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.length + chunk.byteLength));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk, this.length);
    this.length += chunk.byteLength;
  }

  at(index: number): number {
    return this.bytes[index] ?? 0;
  }

  slice(from: number, to: number): Uint8Array {
    return this.bytes.subarray(from, to);
  }

  static of(text: string): ByteLog {
    const log = new ByteLog();
    log.append(new TextEncoder().encode(text));
    return log;
  }
}

export interface LogPiece {
  stream: "stdout" | "stderr";
  /** Where it starts in the combined log. */
  offset: number;
  data: string;
  /** Its length in bytes. */
  size: number;
}

interface Placed {
  stream: 0 | 1;
  /** Byte range in its stream. */
  start: number;
  end: number;
  /** Where it starts in the combined log. */
  offset: number;
}

/** A process's combined log layout, as far as this reader knows it. */
export class CombinedLog {
  private placed: Placed[] = [];

  /** Segments known; a page from `count - 1` refreshes the last one, which may have grown. */
  get count(): number {
    return this.placed.length;
  }

  get length(): number {
    const last = this.placed.at(-1);
    return last ? last.offset + last.end - last.start : 0;
  }

  /** Takes a page of the registry's layout: its segments replace ours from `page.since` on. */
  apply(page: LayoutPage): void {
    this.placed.length = Math.min(this.placed.length, page.since);
    const ends: [number, number] = [0, 0];
    for (let i = this.placed.length - 1; i >= 0 && (ends[0] === 0 || ends[1] === 0); i--) {
      const p = this.placed[i]!;
      if (ends[p.stream] === 0) ends[p.stream] = p.end;
    }
    for (const [stream, end] of page.segments) {
      const start = ends[stream];
      if (end <= start) continue;
      this.placed.push({ stream, start, end, offset: this.length });
      ends[stream] = end;
    }
  }

  /**
   * The log in [from, to), cut into pieces of at most `maxPiece` bytes at character boundaries, as
   * far as the bytes seen (`streams`) reach: it stops at the first byte not seen yet. With
   * `alignStart`, a `from` inside a character moves to the next character.
   */
  *pieces(from: number, to: number, streams: readonly [ByteLog, ByteLog], maxPiece = MAX_PIECE_BYTES, alignStart = false): Generator<LogPiece> {
    let i = this.find(from);
    let position = from;
    let first = true;
    let yielded = false;
    const decoder = new TextDecoder();
    for (; i < this.placed.length && position < to; i++) {
      const p = this.placed[i]!;
      const bytes = streams[p.stream];
      let start = p.start + (position - p.offset);
      const segmentEnd = Math.min(p.end, p.start + (to - p.offset));
      const end = Math.min(segmentEnd, bytes.length);
      if (first && alignStart) {
        while (start < end && isContinuation(bytes.at(start))) (start++, position++);
      }
      first = false;
      while (start < end) {
        let cut = Math.min(end, start + maxPiece);
        if (cut < bytes.length) {
          // Never split a character: back off to its start, or (nothing sent yet, and room for less than one character) take it whole.
          let aligned = cut;
          while (aligned > start && isContinuation(bytes.at(aligned))) aligned--;
          if (aligned === start && yielded) return;
          if (aligned === start) {
            aligned = cut;
            while (aligned < bytes.length && isContinuation(bytes.at(aligned))) aligned++;
          }
          cut = aligned;
        }
        yield { stream: STREAM_NAMES[p.stream], offset: position, data: decoder.decode(bytes.slice(start, cut)), size: cut - start };
        yielded = true;
        position += cut - start;
        start = cut;
      }
      if (end < segmentEnd) return;
    }
  }

  /** The index of the segment holding `offset` (or the first one after it). */
  private find(offset: number): number {
    let lo = 0;
    let hi = this.placed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = this.placed[mid]!;
      if (p.offset + p.end - p.start <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;
