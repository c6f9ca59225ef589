/**
 * A tar stream checked as it passes through, header by header: nothing but a header block (and a
 * pax or GNU long-name record) is held, so an archive of any size streams through a Worker. It
 * counts what it carries and refuses what must not land in a workspace: absolute or `..` names,
 * devices, FIFOs, unknown member types, links out of the tree, a bad checksum, a truncated archive,
 * more file bytes than the limit.
 */
import { errors } from "../../core/errors.ts";
import { linkInside, memberName, shown } from "../archive-members.ts";
import type { TarObserver } from "./tree-digest.ts";

/** `inside`: every symlink stays within the tree (an imported archive). `any`: a sandbox's own workspace, whose links are its own. */
export type SymlinkRule = "inside" | "any";

export interface TarSummary {
  /** Regular files, directories and symlinks (hard links count as files). */
  fileCount: number;
  /** Bytes of regular files. */
  sizeBytes: number;
}

const BLOCK = 512;
/** A pax or GNU long-name record larger than this is refused (real ones are a few hundred bytes). */
const MAX_RECORD = 1024 * 1024;
const FILE_TYPES = new Set(["0", "\0", "7"]);

export class TarCheck {
  readonly summary: TarSummary = { fileCount: 0, sizeBytes: 0 };
  private header = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** Bytes of the current member's data (and padding) still to pass. */
  private skip = 0;
  /** Of those, bytes of a regular file's content the observer is shown. */
  private content = 0;
  /** A pax ('x') or GNU long-name ('L', 'K') record being gathered, applied to the next header. */
  private record: { type: string; data: Uint8Array; fill: number; padding: number } | null = null;
  private pending: { path?: string; linkpath?: string; size?: number; mtime?: string } = {};
  private ended = false;
  private readonly files = new Set<string>();

  constructor(
    private readonly rule: SymlinkRule,
    private readonly maxBytes: number,
    /** Sees each member and its content as they pass (the tree digest). */
    private readonly observer?: TarObserver,
  ) {}

  /** Passes the bytes through, checked; the stream errors with the archive's first fault. */
  stream(): TransformStream<Uint8Array, Uint8Array> {
    return new TransformStream({
      transform: async (chunk, controller) => {
        this.push(chunk);
        await this.observer?.drain();
        controller.enqueue(chunk);
      },
      flush: () => this.finish(),
    });
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.ended) {
        // After the end marker only zero padding may follow.
        for (; at < chunk.length; at++) if (chunk[at] !== 0) throw bad("the archive has data after its end");
        return;
      }
      if (this.record) {
        const r = this.record;
        if (r.fill < r.data.length) {
          const n = Math.min(r.data.length - r.fill, chunk.length - at);
          r.data.set(chunk.subarray(at, at + n), r.fill);
          r.fill += n;
          at += n;
          if (r.fill === r.data.length) this.skip = r.padding;
          continue;
        }
        this.applyRecord(r);
        this.record = null;
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        if (this.content > 0) {
          const c = Math.min(this.content, n);
          this.observer?.data(chunk.subarray(at, at + c));
          this.content -= c;
          if (this.content === 0) this.observer?.end();
        }
        this.skip -= n;
        at += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
      this.header.set(chunk.subarray(at, at + n), this.headerFill);
      this.headerFill += n;
      at += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.onHeader(this.header);
      }
    }
    if (this.record && this.record.fill === this.record.data.length && this.skip === 0) {
      this.applyRecord(this.record);
      this.record = null;
    }
  }

  finish(): void {
    if (this.record && this.record.fill === this.record.data.length && this.skip === 0) {
      this.applyRecord(this.record);
      this.record = null;
    }
    if (!this.ended || this.headerFill !== 0) throw bad("the archive is truncated: it ends before its end marker");
  }

  private onHeader(block: Uint8Array): void {
    if (block.every((b) => b === 0)) {
      if (this.record || Object.keys(this.pending).length > 0) throw bad("the archive ends inside a member");
      this.ended = true;
      return;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
    if (octal(block, 148, 8) !== sum) throw bad("the archive is corrupt: a header's checksum does not match");
    const type = String.fromCharCode(block[156]!);
    const size = this.pending.size ?? numeric(block, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x" || type === "L" || type === "K" || type === "g") {
      if (size > MAX_RECORD) throw bad("the archive has an extended header larger than 1 MiB");
      if (type === "g") {
        this.skip = padded;
        return;
      }
      this.record = { type, data: new Uint8Array(size), fill: 0, padding: padded - size };
      if (size === 0) this.skip = 0;
      return;
    }
    const magic = text(block, 257, 6);
    const prefix = magic.startsWith("ustar") ? text(block, 345, 155) : "";
    const rawName = this.pending.path ?? (prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100));
    const linkname = this.pending.linkpath ?? text(block, 157, 100);
    const paxMtime = this.pending.mtime;
    this.pending = {};
    const name = memberName(rawName);
    if (FILE_TYPES.has(type)) {
      this.summary.fileCount++;
      this.summary.sizeBytes += size;
      if (this.summary.sizeBytes > this.maxBytes) throw errors.tooLarge(`the archive holds more than the ${this.maxBytes}-byte snapshot limit`, this.maxBytes);
      this.files.add(name);
      this.skip = padded;
      this.content = size;
    } else if (type === "5") {
      if (name !== ".") this.summary.fileCount++;
      this.skip = padded;
    } else if (type === "2") {
      if (this.rule === "inside" && !linkInside(name, linkname)) throw bad(`the archive has a symlink that leads outside the tree: '${shown(name)}' -> '${shown(linkname)}'`);
      this.summary.fileCount++;
      this.skip = padded;
    } else if (type === "1") {
      // A hard link names an earlier member of the archive, relative to its root.
      let target: string;
      try {
        target = memberName(linkname);
      } catch {
        throw bad(`the archive has a hard link that leads outside the tree: '${shown(name)}' -> '${shown(linkname)}'`);
      }
      if (!this.files.has(target)) throw bad(`the archive has a hard link to a file it does not hold: '${shown(name)}' -> '${shown(linkname)}'`);
      this.summary.fileCount++;
      this.skip = padded;
    } else if (type === "3" || type === "4") {
      throw bad(`the archive has a device file: '${shown(name)}'`);
    } else if (type === "6") {
      throw bad(`the archive has a FIFO: '${shown(name)}'`);
    } else {
      throw bad(`the archive has a member of unsupported type '${shown(type)}': '${shown(name)}'`);
    }
    // Only a member that passed is shown to the observer.
    this.observer?.member({ name: rawName, type, mode: numeric(block, 100, 8), mtime: numeric(block, 136, 12), ...(paxMtime === undefined ? {} : { paxMtime }), size, linkname });
    if (this.content === 0 && FILE_TYPES.has(type)) this.observer?.end();
  }

  private applyRecord(r: { type: string; data: Uint8Array }): void {
    if (r.type === "L") this.pending.path = cString(r.data);
    else if (r.type === "K") this.pending.linkpath = cString(r.data);
    else {
      // pax: "<len> <key>=<value>\n" records.
      const body = new TextDecoder().decode(r.data);
      let at = 0;
      while (at < body.length) {
        const space = body.indexOf(" ", at);
        const len = Number(body.slice(at, space));
        if (space < 0 || !Number.isInteger(len) || len <= 0) throw bad("the archive has a malformed pax header");
        const entry = body.slice(space + 1, at + len - 1);
        const eq = entry.indexOf("=");
        const key = entry.slice(0, eq);
        const value = entry.slice(eq + 1);
        if (key === "path") this.pending.path = value;
        else if (key === "linkpath") this.pending.linkpath = value;
        else if (key === "size") this.pending.size = Number(value);
        else if (key === "mtime") this.pending.mtime = value;
        at += len;
      }
    }
  }
}

const bad = (message: string) => errors.invalid(message);

function text(block: Uint8Array, at: number, length: number): string {
  const field = block.subarray(at, at + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

function cString(data: Uint8Array): string {
  const end = data.indexOf(0);
  return new TextDecoder().decode(end < 0 ? data : data.subarray(0, end));
}

function octal(block: Uint8Array, at: number, length: number): number {
  const s = text(block, at, length).trim();
  if (!/^[0-7]*$/.test(s)) throw bad("the archive is corrupt: a numeric header field is not octal");
  return s === "" ? 0 : Number.parseInt(s, 8);
}

/** Octal, or GNU's base-256 when the first byte's high bit is set. */
function numeric(block: Uint8Array, at: number, length: number): number {
  if ((block[at]! & 0x80) === 0) return octal(block, at, length);
  let value = block[at]! & 0x7f;
  for (let i = 1; i < length; i++) value = value * 256 + block[at + i]!;
  return value;
}


