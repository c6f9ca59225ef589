/**
 * A snapshot's tree in its canonical form, on every backend: the member list the local store keeps
 * as its manifest and the Cloudflare backend builds while the tar streams to R2. The snapshot's
 * `digest` is the SHA-256 of `treeJson(...)`, so the same tree has the same digest wherever it was
 * made, and an archive moved between backends keeps it.
 */
import { errors } from "../core/errors.ts";
import { shown } from "./archive-members.ts";

/** One member of a snapshot's tree; paths are relative to /workspace, clean, without `..`. */
export type Entry =
  | { path: string; type: "directory"; mode: number; mtime: string }
  | { path: string; type: "symlink"; mode: number; mtime: string; target: string }
  | { path: string; type: "file"; mode: number; mtime: string; size: number; sha256: string };

/** The tree in path order, each member's parents present as directories; a member below a file or link is refused. */
export function completeTree(entries: Map<string, Entry>): Entry[] {
  const all = new Map(entries);
  for (const entry of entries.values()) {
    const parts = entry.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const existing = all.get(parent);
      if (existing && existing.type !== "directory") throw errors.invalid(`the archive's member '${shown(entry.path)}' lies below a file or a link`);
      if (!existing) all.set(parent, { path: parent, type: "directory", mode: 0o755, mtime: entry.mtime.split(".")[0]! });
    }
  }
  return [...all.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The text the digest is taken of: the completed tree, each entry's keys in the order of `Entry`. */
export function treeJson(entries: Entry[]): string {
  return JSON.stringify(entries);
}

/** A completed tree's `sha256:…` digest (of `treeJson`), its member count and its files' bytes: what a snapshot record says of it. */
export async function summarizeTree(tree: Entry[]): Promise<{ digest: string; fileCount: number; sizeBytes: number }> {
  const sum = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(treeJson(tree)));
  let sizeBytes = 0;
  for (const entry of tree) if (entry.type === "file") sizeBytes += entry.size;
  return { digest: `sha256:${hex(sum)}`, fileCount: tree.length, sizeBytes };
}

/** Lowercase hex of a digest. */
export const hex = (buffer: ArrayBuffer): string => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** An archive member's mtime as the tree keeps it: pax's decimal text, else the header's whole seconds. */
export function entryMtime(paxMtime: string | undefined, headerSeconds: number, path: string): string {
  const mtime = paxMtime ?? String(headerSeconds);
  if (!/^\d{1,12}(\.\d{1,9})?$/.test(mtime)) throw errors.invalid(`the archive's member '${shown(path)}' has a bad mtime`);
  return mtime;
}
