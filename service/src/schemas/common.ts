import { z } from "@hono/zod-openapi";
import { BASE64_PATTERN, base64ToBytes } from "./base64.ts";

/** Every error Sandgate reports carries one of these codes, on every surface. */
export const ErrorCode = z
  .enum([
    "invalid_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "timeout",
    "payload_too_large",
    "unsupported_media_type",
    "headers_too_large",
    "sandbox_unavailable",
    "upstream_unavailable",
    "internal",
    "not_implemented",
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

/**
 * JSON Schema for a body whose `content` is base64 when its `encoding` says so: the document states
 * what writeFileJson and the compat upload check (schemas/base64.ts), so generators send valid base64.
 */
export const base64WhenEncoded = (contentKey: string) =>
  ({
    if: { properties: { encoding: { const: "base64" } }, required: ["encoding"] },
    then: { properties: { [contentKey]: { pattern: BASE64_PATTERN, contentEncoding: "base64" } } },
  }) as object;

/** Whether a body's base64 `content` decodes (the check the document states with base64WhenEncoded). */
export const validBase64Content = (v: { content: string; encoding?: string }): boolean => v.encoding !== "base64" || base64ToBytes(v.content) !== undefined;

/** JSON Schema's `propertyNames` for a record's keys (zod-to-openapi neither emits nor types it). */
export const keysMatching = (pattern: RegExp) => ({ propertyNames: { pattern: pattern.source } }) as object;

/**
 * What a command may be started with, from Linux's execve: one argument or `NAME=value` string is at
 * most MAX_ARG_STRLEN (131,072 bytes with its NUL), and all of them with their pointers at most a
 * quarter of the stack limit (2 MiB by default), or the start fails with E2BIG. The totals leave
 * room beside a command's argv and env for its sandbox's env and the runtime's own arguments.
 */
export const MAX_ARG_BYTES = 131_071;
/** All of argv: each argument's UTF-8 bytes plus one (its NUL). */
export const MAX_ARGV_BYTES = 1024 * 1024;
/** All of one env map: each `NAME=value` in UTF-8 plus one. */
export const MAX_ENV_BYTES = 256 * 1024;
export const MAX_ENV_VARS = 1024;

/** The length of `text` in UTF-8, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // 2 bytes below U+0800, 3 above; a surrogate pair is 2 units of 2 bytes each.
    if (unit >= 0x80) bytes += unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

/** An argument string (or a whole command line, which is one argument of `sh -c`): at most MAX_ARG_BYTES of UTF-8. */
export const fitsOneArgument = (v: string): boolean => v.length <= MAX_ARG_BYTES && utf8Length(v) <= MAX_ARG_BYTES;
export const ONE_ARGUMENT = `at most ${MAX_ARG_BYTES} bytes of UTF-8 (Linux's limit on one argument)`;

/** What EnvMap allows, for the descriptions of the fields that use it. */
export const ENV_LIMITS = `At most ${MAX_ENV_VARS} variables, each \`NAME=value\` ${ONE_ARGUMENT}, and ${MAX_ENV_BYTES} bytes in all (each \`NAME=value\` in UTF-8 plus one byte).`;

/** Env var names as POSIX shells accept them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/** Environment variables: POSIX names; values without NUL, well-formed; sized so a command can start with them. */
export const EnvMap = z
  .record(
    z.string().regex(ENV_NAME, "environment variable names are letters, digits and '_', not starting with a digit"),
    z.string().max(MAX_ARG_BYTES).regex(NO_NUL, "environment values may not contain NUL").refine(wellFormed, `environment values ${WELL_FORMED}`),
  )
  .superRefine((env, ctx) => {
    const names = Object.keys(env);
    if (names.length > MAX_ENV_VARS) ctx.addIssue({ code: "custom", message: `at most ${MAX_ENV_VARS} environment variables` });
    let total = 0;
    for (const name of names) {
      const size = name.length + 1 + utf8Length(env[name]!);
      if (size > MAX_ARG_BYTES) ctx.addIssue({ code: "custom", path: [name], message: `NAME=value must be ${ONE_ARGUMENT}` });
      total += size + 1;
    }
    if (total > MAX_ENV_BYTES) ctx.addIssue({ code: "custom", message: `environment variables may take at most ${MAX_ENV_BYTES} bytes in all (each NAME=value in UTF-8, plus one)` });
  })
  .openapi({
    description: `Environment variables. ${ENV_LIMITS}`,
    example: { GREETING: "hello" },
    ...keysMatching(ENV_NAME),
    maxProperties: MAX_ENV_VARS,
  });

/** A path inside the sandbox: absolute under /workspace, or relative to it. */
export const SandboxPath = z
  .string()
  .min(1)
  .max(4096)
  .regex(NO_NUL, "paths may not contain NUL")
  .refine(wellFormed, `paths ${WELL_FORMED}`)
  .openapi({
    description:
      "A path in the sandbox: absolute under /workspace, or relative to /workspace. One that names the wrong kind of file for the operation (a directory to read or write, a file to list) answers 400 `invalid_request`.",
    example: "/workspace/hello.txt",
  });

/** Booleans in query strings: only `true`/`false`/`1`/`0`, never JavaScript truthiness. */
export const QueryBoolean = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
  .transform((v) => v === true || v === "true" || v === "1")
  .openapi({ type: "boolean" });

export const Timestamp = z.iso.datetime().openapi({ example: "2026-11-22T19:30:00.000Z" });

/** A label filter or assignment in a query: `key:value` (the value may be empty or hold more colons). */
export const LabelSelector = z.string().max(512).regex(/^[^:]+:/, "labels are key:value");
