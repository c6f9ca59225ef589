import { z } from "@hono/zod-openapi";
import { SandboxPath } from "./common.ts";

/**
 * Where to clone from: https, http, ssh, git and file URLs, or scp-like `user@host:path`. Never an
 * option (a leading `-`) nor git's command-running transports (`ext::`, `fd::`).
 */
export const GitUrl = z
  .string()
  .min(1)
  .max(4096)
  // One pattern (the document carries only one), with explicit classes rather than \s, whose meaning
  // differs between JavaScript and the Python and Rust engines that read the document.
  .regex(
    /^(?:(?:https?|ssh|git|file):\/\/[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+)$/,
    "a git URL: https://, http://, ssh://, git://, file:// or user@host:path, without spaces or control characters",
  )
  .openapi({ example: "https://github.com/cloudflare/sandbox-sdk.git" });

export const GitCheckoutBody = z
  .object({
    url: GitUrl,
    branch: z
      .string()
      .min(1)
      .max(255)
      .regex(/^(?!-)[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff~^:?*[\\]+$/, "a branch or tag name")
      .optional()
      .openapi({ description: "Branch or tag (default: the remote's default branch).", example: "main" }),
    depth: z.number().int().min(1).max(1_000_000).optional().openapi({ description: "Shallow clone with this many commits.", example: 1 }),
    dir: SandboxPath.optional().openapi({ description: "Where to clone (default: /workspace/<repository name>); must not exist or be empty." }),
  })
  .strict()
  .openapi("GitCheckoutRequest");
export type GitCheckoutBody = z.infer<typeof GitCheckoutBody>;

export const GitCheckoutResult = z
  .object({
    dir: z.string().openapi({ example: "/workspace/sandbox-sdk" }),
    branch: z.string().nullable().openapi({ description: "The branch checked out; null for a detached HEAD (a tag)." }),
    commit: z.string().openapi({ description: "The full hash of HEAD." }),
  })
  .openapi("GitCheckoutResult");
export type GitCheckoutResult = z.infer<typeof GitCheckoutResult>;
