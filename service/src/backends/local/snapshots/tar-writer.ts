/**
 * Writes a snapshot's tree as a POSIX tar (ustar, with pax records where a name, a link target or a
 * sub-second mtime needs them), in chunks of about CHUNK bytes: tar-stream's writer waits for the
 * reader between every member and yields 512-byte headers alone, which held exports to a tenth of
 * `tar`'s speed. Memory: one chunk.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import type { Entry } from "../../snapshot-tree.ts";

const CHUNK = 1024 * 1024;
/** Files up to this size are read whole; larger ones in CHUNK reads. */
const SMALL_FILE = 256 * 1024;
/** A chunk's buffer: CHUNK, and room for the members that begin below it (a small file, its headers). */
const CHUNK_ROOM = CHUNK + SMALL_FILE + 64 * 1024;

const TYPE = { file: "0", symlink: "2", directory: "5", pax: "x" } as const;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

/** One 512-byte ustar header; the caller makes sure name and linkname fit (or sends a pax record first). */
function header(fields: { name: string; mode: number; size: number; mtime: number; type: string; linkname?: string }): Buffer {
  const block = Buffer.alloc(512);
  block.write(fields.name, 0, 100, "utf8");
  block.write(octal(fields.mode & 0o7777, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii"); // uid
  block.write(octal(0, 8), 116, "ascii"); // gid
  block.write(octal(fields.size, 12), 124, "ascii");
  block.write(octal(fields.mtime, 12), 136, "ascii");
  block.write("        ", 148, "ascii"); // checksum counted as spaces
  block.write(fields.type, 156, "ascii");
  if (fields.linkname) block.write(fields.linkname, 157, 100, "utf8");
  block.write("ustar\u000000", 257, "binary");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + " ", 148, "ascii");
  return block;
}

/** A pax record `"<len> key=value\n"`, its length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body);
  let length = bodyBytes + 1;
  while (String(length).length + bodyBytes !== length) length = String(length).length + bodyBytes;
  return `${length}${body}`;
}

const paddingOf = (size: number) => (512 - (size % 512)) % 512;
const padding = (size: number) => Buffer.alloc(paddingOf(size));

/** The headers of one member: a pax header and its records when ustar cannot hold them, then the ustar header. */
function headersOf(entry: Entry, lent = false): Buffer[] {
  const name = entry.type === "directory" ? `${entry.path}/` : entry.path;
  const linkname = entry.type === "symlink" ? entry.target : undefined;
  const records: string[] = [];
  if (lent) records.push(paxRecord(LEND_KEY, "1"));
  if (Buffer.byteLength(name) > 100) records.push(paxRecord("path", name));
  if (linkname !== undefined && Buffer.byteLength(linkname) > 100) records.push(paxRecord("linkpath", linkname));
  if (entry.mtime.includes(".")) records.push(paxRecord("mtime", entry.mtime));
  const seconds = Number(entry.mtime.split(".")[0]);
  const out: Buffer[] = [];
  if (records.length > 0) {
    const pax = Buffer.from(records.join(""), "utf8");
    out.push(header({ name: "PaxHeader", mode: 0o644, size: pax.length, mtime: seconds, type: TYPE.pax }), pax, padding(pax.length));
  }
  out.push(
    header({
      name: Buffer.byteLength(name) > 100 ? name.slice(0, 50) : name,
      mode: entry.mode,
      size: entry.type === "file" && !lent ? entry.size : 0,
      mtime: seconds,
      type: TYPE[entry.type],
      ...(linkname !== undefined ? { linkname: Buffer.byteLength(linkname) > 100 ? "" : linkname } : {}),
    }),
  );
  return out;
}

/**
 * The pax record that marks a member sent without its bytes, for the agent to lend the host its file
 * (service/agent/snapshot.go, lender): a restore's content is then copied in the kernel.
 */
const LEND_KEY = "SANDGATE.lend";

/** A member `writeTar` sends without its bytes when it lends: a regular file with content. */
const lendable = (entry: Entry): entry is Extract<Entry, { type: "file" }> => entry.type === "file" && entry.size > 0;

/** The members `writeTar` sends without their bytes when it lends, in order. */
export const lentFiles = (entries: Entry[]) => entries.filter(lendable);

/**
 * The tree as tar bytes; `blobPath` names where a file's content is stored. With `lend`, files with
 * content go as headers alone (marked LEND_KEY): a restore whose agent lends the host its files.
 * Headers and contents are written straight into the chunk that goes out (no buffer per file, no
 * copy to join them); a chunk goes once it holds CHUNK bytes, or when the next member does not fit.
 */
export async function* writeTar(entries: Entry[], blobPath: (sha256: string) => string, lend = false): AsyncGenerator<Uint8Array> {
  let chunk = Buffer.allocUnsafe(CHUNK_ROOM);
  let used = 0;
  /** The filled part of the chunk; a fresh one (of at least `need` bytes) takes its place, as the consumer keeps what it got. */
  const take = (need = 0) => {
    const out = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(Math.max(CHUNK_ROOM, need));
    used = 0;
    return out;
  };
  const zeros = (count: number) => {
    chunk.fill(0, used, used + count);
    used += count;
  };
  for (const entry of entries) {
    const lent = lend && lendable(entry);
    const blocks = headersOf(entry, lent);
    const headerBytes = blocks.reduce((sum, block) => sum + block.length, 0);
    const small = entry.type === "file" && !lent && entry.size <= SMALL_FILE;
    const need = headerBytes + (small ? entry.size + paddingOf(entry.size) : 0);
    if (used + need > chunk.length) {
      if (used > 0) yield take(need);
      else chunk = Buffer.allocUnsafe(need);
    }
    for (const block of blocks) used += block.copy(chunk, used);
    if (entry.type === "file" && !lent) {
      if (small) {
        readSmallBlob(blobPath(entry.sha256), chunk, used, entry.size, entry.path);
        used += entry.size;
      } else {
        const handle = await open(blobPath(entry.sha256), "r");
        try {
          for (let left = entry.size; left > 0; ) {
            if (used >= CHUNK) yield take();
            const { bytesRead } = await handle.read(chunk, used, Math.min(chunk.length - used, left), null);
            if (bytesRead === 0) throw new Error(`the stored content of '${entry.path}' is shorter than its size`);
            used += bytesRead;
            left -= bytesRead;
          }
        } finally {
          await handle.close();
        }
        if (used + paddingOf(entry.size) > chunk.length) yield take();
      }
      zeros(paddingOf(entry.size));
    }
    if (used >= CHUNK) yield take();
  }
  if (used + 1024 > chunk.length) yield take();
  zeros(1024); // two zero blocks end the archive
  yield take();
}

/**
 * A small stored file read whole into `into` at `at`, inline: from the page cache this is a few
 * microseconds, where an fs/promises read costs a round trip through the thread pool for each of
 * open, read and close (about ten times as long, and most of an export of many small files). The
 * event loop waits at most one CHUNK of such reads between two chunks of the archive.
 */
function readSmallBlob(path: string, into: Buffer, at: number, size: number, shownPath: string): void {
  const fd = openSync(path, "r");
  try {
    for (let read = 0; read < size; ) {
      const n = readSync(fd, into, at + read, size - read, null);
      if (n === 0) throw new Error(`the stored content of '${shownPath}' is shorter than its size`);
      read += n;
    }
    if (readSync(fd, Buffer.allocUnsafe(1), 0, 1, null) !== 0) throw new Error(`the stored content of '${shownPath}' has the wrong size`);
  } finally {
    closeSync(fd);
  }
}
