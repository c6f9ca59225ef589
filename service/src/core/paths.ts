import { errors } from "./errors.ts";

/** Every sandbox's working directory and the root of everything the files API can reach. */
export const WORKSPACE = "/workspace";

/** A path known to lie inside /workspace, lexically: `rel` is "" for /workspace itself. */
export interface WorkspacePath {
  /** Absolute path in the sandbox, normalized (no `.`, `..` or double slashes). */
  readonly abs: string;
  /** The same path relative to /workspace, without a leading slash. */
  readonly rel: string;
}

/**
 * Normalize a caller's path and refuse anything that leaves /workspace (`..`, other absolute paths).
 * Symlinks are a backend's concern: this check is lexical and identical on every backend.
 */
export function resolveWorkspacePath(input: string): WorkspacePath {
  const absolute = input.startsWith("/") ? input : `${WORKSPACE}/${input}`;
  const parts: string[] = [];
  for (const segment of absolute.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) throw outside(input);
      parts.pop();
    } else parts.push(segment);
  }
  if (parts[0] !== WORKSPACE.slice(1)) throw outside(input);
  const rel = parts.slice(1).join("/");
  return { abs: rel ? `${WORKSPACE}/${rel}` : WORKSPACE, rel };
}

/** A working directory: relative to /workspace, or any absolute path in the sandbox's own filesystem. */
export function resolveCwd(input: string | undefined): string {
  if (input === undefined) return WORKSPACE;
  if (input.startsWith("/")) return input;
  return resolveWorkspacePath(input).abs;
}

function outside(input: string) {
  return errors.forbidden(`path '${input}' is outside ${WORKSPACE}`);
}
