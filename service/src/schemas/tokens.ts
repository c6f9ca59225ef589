import { z } from "@hono/zod-openapi";
import { SandboxId, Timestamp } from "./common.ts";

/** What a scoped token may do, on its one sandbox. Anything else (create, list, update, delete, mint) needs the API token. */
export const Scope = z
  .enum(["sandbox:read", "exec", "files:read", "files:write", "ports", "snapshots:read", "snapshots:write"])
  .openapi("Scope", {
    description: "`sandbox:read`: get the sandbox; `exec`: run commands; `files:read`: read, list, stat; `files:write`: write, mkdir, move, delete, git checkout; `ports`: reach its ports through the proxy and mint links to them; `snapshots:write`: snapshot it (restoring needs `files:write` too). Processes need `exec`.",
  });
export type Scope = z.infer<typeof Scope>;

export const CreateTokenBody = z
  .object({
    sandboxId: SandboxId,
    scopes: z
      .array(Scope)
      .min(1)
      .max(7)
      .refine((v) => new Set(v).size === v.length, "scopes must not repeat")
      .openapi({ example: ["exec", "files:read"], uniqueItems: true }),
    ttlSeconds: z.number().int().min(1).max(30 * 24 * 3600).optional().openapi({ description: "Lifetime (default 3600 s, at most 30 days).", example: 3600 }),
  })
  .strict()
  .openapi("CreateTokenRequest");
export type CreateTokenBody = z.infer<typeof CreateTokenBody>;

export const ScopedToken = z
  .object({
    token: z.string().openapi({ description: "Send as `Authorization: Bearer <token>`; it works only on its sandbox and scopes, until it expires." }),
    sandboxId: SandboxId,
    scopes: z.array(Scope),
    expiresAt: Timestamp,
  })
  .openapi("ScopedToken");
export type ScopedToken = z.infer<typeof ScopedToken>;
