/**
 * What an untrusted tar archive's members may name, on every backend that takes one (the local
 * snapshot store, the Cloudflare importer): clean relative names, links that stay within the tree.
 */
import { errors } from "../core/errors.ts";

/** A name fit for an error message: shortened, control characters shown as `?`. */
export const shown = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s).replace(/[\0-\x1f]/g, "?");

/** A member's name made relative and clean; absolute names and `..` are refused. */
export function memberName(name: string): string {
  if (name.startsWith("/")) throw errors.invalid(`the archive has an absolute member name: '${shown(name)}'`);
  if (name.includes("\0")) throw errors.invalid("the archive has a member name with NUL");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw errors.invalid(`the archive has a member name with '..': '${shown(name)}'`);
  return parts.length === 0 ? "." : parts.join("/");
}

/** A symlink's target, read from where the link is, stays within the tree (absolute: /workspace or below). */
export function linkInside(path: string, target: string): boolean {
  if (target === "" || target.includes("\0")) return false;
  let rest = target;
  let depth = path.split("/").slice(0, -1);
  if (target.startsWith("/")) {
    // Absolute: /workspace or below it, and no `..` climbing back out (/workspace/../etc).
    if (target !== "/workspace" && !target.startsWith("/workspace/")) return false;
    rest = target.slice("/workspace".length);
    depth = [];
  }
  for (const part of rest.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (depth.length === 0) return false;
      depth.pop();
    } else depth.push(part);
  }
  return true;
}
