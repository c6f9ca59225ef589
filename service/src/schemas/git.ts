import { z } from "@hono/zod-openapi";
import { NO_NUL, SandboxPath } from "./common.ts";

/**
 * Where to clone from: https, http, ssh, git and file URLs, or scp-like `user@host:path`. Never an
 * option (a leading `-`) nor git's command-running transports (`ext::`, `fd::`).
 */
export const GitUrl = z
  .string()
  .min(1)
  .max(4096)
  .regex(NO_NUL, "url may not contain NUL")
  .regex(/^(?:(?:https?|ssh|git|file):\/\/[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$/, "a git URL: https://, http://, ssh://, git://, file:// or user@host:path")
  .openapi({ example: "https://github.com/cloudflare/sandbox-sdk.git" });

export const GitCheckoutBody = z
  .object({
    url: GitUrl,
    branch: z
      .string()
      .min(1)
      .max(255)
      .regex(/^(?!-)[^\s~^:?*[\\\x00-\x1f\x7f]+$/, "a branch or tag name")
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
