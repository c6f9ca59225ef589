import { z } from "@hono/zod-openapi";

/** Every error Sandgate reports carries one of these codes, on every surface. */
export const ErrorCode = z
  .enum([
    "invalid_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "timeout",
    "payload_too_large",
    "unsupported_media_type",
    "sandbox_unavailable",
    "internal",
  ])
  .openapi("ErrorCode", { description: "Machine-readable error code; the HTTP status follows from it." });
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: ErrorCode,
      message: z.string().openapi({ example: "sandbox 'demo' not found" }),
      details: z.record(z.string(), z.unknown()).optional().openapi({
        description: "Extra, code-specific information (validation issues, limits, retry hints).",
      }),
    }),
  })
  .openapi("Error", { description: "The one error shape of every Sandgate response that is not a success." });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

export const SandboxId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and '-', 1 to 63 characters, not starting with '-'")
  .openapi({ description: "Sandbox id: lowercase letters, digits and '-'.", example: "demo" });

export const SandboxIdParams = z.object({
  id: SandboxId.openapi({ param: { name: "id", in: "path" } }),
});

/** Env var names as POSIX shells accept them; values may not contain NUL. */
export const EnvMap = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, "environment variable names are letters, digits and '_', not starting with a digit"),
    z.string().max(131_072).refine((v) => !v.includes("\0"), "environment values may not contain NUL"),
  )
  .openapi({ description: "Environment variables.", example: { GREETING: "hello" } });

/** A path inside the sandbox: absolute under /workspace, or relative to it. */
export const SandboxPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((v) => !v.includes("\0"), "paths may not contain NUL")
  .openapi({ description: "A path in the sandbox: absolute under /workspace, or relative to /workspace.", example: "/workspace/hello.txt" });

/** Booleans in query strings: only `true`/`false`/`1`/`0`, never JavaScript truthiness. */
export const QueryBoolean = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
  .transform((v) => v === true || v === "true" || v === "1")
  .openapi({ type: "boolean" });

export const Timestamp = z.iso.datetime().openapi({ example: "2026-11-22T19:30:00.000Z" });
