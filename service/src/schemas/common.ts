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
    "headers_too_large",
    "sandbox_unavailable",
    "upstream_unavailable",
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

/** A UTF-16 surrogate without its other half: JSON can carry one (`"\ud800"`), UTF-8 cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text that becomes UTF-8 (a file name, an argument, a file's content) must be well-formed Unicode.
 * String.prototype.isWellFormed (ES2024: Node 20+, workerd) is native and fast; the regex is a fallback.
 */
export const wellFormed = (v: string): boolean => {
  const native = (v as string & { isWellFormed?: () => boolean }).isWellFormed;
  return native ? native.call(v) : !LONE_SURROGATE.test(v);
};
export const WELL_FORMED = "must be well-formed Unicode (no lone surrogates)";

/** Text handed to a process or the filesystem cannot hold NUL: argv, env and file names are C strings. */
export const NO_NUL = /^[^\u0000]*$/;

/** JSON Schema's `propertyNames` for a record's keys (zod-to-openapi neither emits nor types it). */
export const keysMatching = (pattern: RegExp) => ({ propertyNames: { pattern: pattern.source } }) as object;

/** Env var names as POSIX shells accept them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/** Environment variables: POSIX names; values without NUL, well-formed. */
export const EnvMap = z
  .record(
    z.string().regex(ENV_NAME, "environment variable names are letters, digits and '_', not starting with a digit"),
    z.string().max(131_072).regex(NO_NUL, "environment values may not contain NUL").refine(wellFormed, `environment values ${WELL_FORMED}`),
  )
  .openapi({ description: "Environment variables.", example: { GREETING: "hello" }, ...keysMatching(ENV_NAME) });

/** A path inside the sandbox: absolute under /workspace, or relative to it. */
export const SandboxPath = z
  .string()
  .min(1)
  .max(4096)
  .regex(NO_NUL, "paths may not contain NUL")
  .refine(wellFormed, `paths ${WELL_FORMED}`)
  .openapi({ description: "A path in the sandbox: absolute under /workspace, or relative to /workspace.", example: "/workspace/hello.txt" });

/** Booleans in query strings: only `true`/`false`/`1`/`0`, never JavaScript truthiness. */
export const QueryBoolean = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
  .transform((v) => v === true || v === "true" || v === "1")
  .openapi({ type: "boolean" });

export const Timestamp = z.iso.datetime().openapi({ example: "2026-11-22T19:30:00.000Z" });
