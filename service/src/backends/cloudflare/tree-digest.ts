/**
 * The tree digest of a tar as it streams through the Worker (fed by tar-check.ts): each member
 * becomes an Entry as the local store reads it (snapshot-tree.ts), each file's content is hashed
 * with workerd's native incremental SHA-256, and the digest is taken of the completed tree. So a
 * snapshot's `digest` is the same on Cloudflare and on the local runtime for the same tree, and an
 * archive moved between them keeps it. Only the member list is held, never file bytes.
 */
import { errors } from "../../core/errors.ts";
import { memberName, shown } from "../archive-members.ts";
import { type Entry, completeTree, entryMtime, hex, summarizeTree } from "../snapshot-tree.ts";

/** A tar member's header as tar-check.ts read it (pax and GNU long names applied). */
export interface TarMember {
  /** The raw name (tar-check.ts has checked it). */
  name: string;
  /** The typeflag character. */
  type: string;
  mode: number;
  /** Whole seconds from the header. */
  mtime: number;
  /** pax `mtime`, when the member has one. */
  paxMtime?: string;
  size: number;
  linkname: string;
}

/** What tar-check.ts tells whoever watches the members go by. */
export interface TarObserver {
  member(member: TarMember): void;
  /** Bytes of the current member's content (not its padding). */
  data(chunk: Uint8Array): void;
  /** The current member's content is complete. */
  end(): void;
  /** Settles once the work started by the calls so far is done (backpressure for the stream). */
  drain(): Promise<void>;
}

type Hasher = WritableStream<Uint8Array> & { digest: Promise<ArrayBuffer> };

export class TreeDigest implements TarObserver {
  private readonly entries = new Map<string, Entry>();
  /** Each file entry's content hash, settling when its bytes have passed. */
  private readonly hashes = new Map<string, Promise<string>>();
  private current: { writer: WritableStreamDefaultWriter<Uint8Array>; digest: Promise<ArrayBuffer> } | null = null;
  private inflight: Promise<unknown>[] = [];

  member(m: TarMember): void {
    const path = memberName(m.name);
    if (path === ".") return;
    if (this.entries.has(path)) throw errors.invalid(`the archive has the member '${shown(path)}' twice`);
    const mode = m.mode & 0o1777;
    const mtime = entryMtime(m.paxMtime, m.mtime, path);
    // As tar-stream reads it (the local store's parser): a plain file whose name ends in `/` is a directory.
    const fileType = m.type === "0" || m.type === "\0" || m.type === "7";
    if (m.type === "5" || (fileType && m.name.endsWith("/") && m.type !== "7")) {
      this.entries.set(path, { path, type: "directory", mode, mtime });
    } else if (m.type === "2") {
      this.entries.set(path, { path, type: "symlink", mode: 0o777, mtime, target: m.linkname });
    } else if (m.type === "1") {
      const target = memberName(m.linkname);
      const earlier = this.entries.get(target);
      const hash = this.hashes.get(target);
      if (!earlier || earlier.type !== "file" || !hash) throw errors.invalid(`the archive has a hard link to no earlier file of it: '${shown(path)}'`);
      this.entries.set(path, { ...earlier, path, mode, mtime });
      this.hashes.set(path, hash);
    } else if (fileType) {
      this.entries.set(path, { path, type: "file", mode, mtime, size: m.size, sha256: "" });
      const DigestStream = (crypto as unknown as { DigestStream?: new (algorithm: string) => Hasher }).DigestStream;
      if (!DigestStream) throw new Error("crypto.DigestStream is missing: the tree digest is taken in workerd");
      const hasher = new DigestStream("SHA-256");
      this.current = { writer: hasher.getWriter(), digest: hasher.digest };
      this.hashes.set(path, hasher.digest.then(hex));
    }
  }

  data(chunk: Uint8Array): void {
    // A copy: the chunk goes on to R2 as well.
    if (this.current) this.inflight.push(this.current.writer.write(chunk.slice()));
  }

  end(): void {
    if (!this.current) return;
    this.inflight.push(this.current.writer.close());
    this.current = null;
  }

  async drain(): Promise<void> {
    const waiting = this.inflight;
    this.inflight = [];
    await Promise.all(waiting);
  }

  /** The completed tree's `sha256:…` digest, its member count and file bytes (as the local store counts them). */
  async result(): Promise<{ digest: string; fileCount: number; sizeBytes: number }> {
    await this.drain();
    for (const [path, hash] of this.hashes) {
      const entry = this.entries.get(path);
      if (entry?.type === "file") entry.sha256 = await hash;
    }
    return summarizeTree(completeTree(this.entries));
  }
}
