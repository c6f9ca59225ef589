import { z } from "@hono/zod-openapi";
import { MAX_ARG_BYTES, NO_NUL, ONE_ARGUMENT, SandboxId, SandboxPath, WELL_FORMED, base64WhenEncoded, fitsOneArgument, validBase64Content, wellFormed } from "./common.ts";

/**
 * The seed-001 wire format ("Cloudflare Sandbox Worker API"), served under /sandbox/... so Python
 * backends written against it keep working. snake_case, as that format has it. Unknown request
 * fields are ignored (its clients send some), which is why these objects are not strict.
 */

const KeepaliveSeconds = z.number().int().min(1).max(30 * 24 * 3600);

export const CompatIdParams = z.object({
  sandbox_id: SandboxId.openapi({ param: { name: "sandbox_id", in: "path" } }),
});

export const CompatCreateBody = z
  .object({
    sandbox_id: SandboxId,
    keepalive_seconds: KeepaliveSeconds.optional().openapi({ description: "Seconds until the sandbox expires." }),
    additional_configs: z.record(z.string(), z.unknown()).optional().openapi({ description: "Accepted and ignored." }),
  })
  .openapi("CompatCreateRequest");

export const CompatSandbox = z
  .object({
    sandbox_id: z.string(),
    sandbox_status: z.enum(["running", "sleeping", "unavailable"]),
    sandbox_created_at: z.string().openapi({ example: "2025-01-15T10:00:00.000Z" }),
    sandbox_expires_at: z.string().nullable().openapi({ example: "2025-01-15T10:30:00.000Z" }),
  })
  .openapi("CompatSandbox");

export const CompatGetQuery = z.object({
  keepalive_seconds: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .optional()
    .openapi({ param: { name: "keepalive_seconds", in: "query" }, description: "Keep the sandbox alive at least this many seconds from now." }),
});

export const CompatUpdateBody = z
  .object({ keepalive_longer_by_seconds: KeepaliveSeconds })
  .openapi("CompatUpdateRequest");

export const CompatSuccess = z.object({ success: z.literal(true) }).openapi("CompatSuccess");

export const CompatExecBody = z
  .object({
    command: z
      .string()
      .min(1)
      .max(MAX_ARG_BYTES)
      .regex(NO_NUL, "command may not contain NUL")
      .refine(wellFormed, `command ${WELL_FORMED}`)
      .refine(fitsOneArgument, `command must be ${ONE_ARGUMENT}`)
      .openapi({ description: `A shell command line: ${ONE_ARGUMENT}.` }),
    keepalive_seconds: KeepaliveSeconds.optional(),
  })
  .openapi("CompatExecRequest");

export const CompatExecResult = z
  .object({ stdout: z.string(), stderr: z.string(), exit_code: z.number().int() })
  .openapi("CompatExecResult");

const CompatEncoding = z.enum(["utf-8", "base64"]).default("utf-8");

export const CompatDownloadBody = z
  .object({ file_path: SandboxPath, encoding: CompatEncoding })
  .openapi("CompatDownloadRequest");

export const CompatDownloadResult = z
  .object({ content: z.string(), encoding: z.enum(["utf-8", "base64"]) })
  .openapi("CompatDownloadResult");

export const CompatUploadBody = z
  .object({ file_path: SandboxPath, content: z.string().refine(wellFormed, `content ${WELL_FORMED}`), encoding: CompatEncoding })
  .refine(validBase64Content, { message: "content is not valid base64", path: ["content"] })
  .openapi("CompatUploadRequest", base64WhenEncoded("content"));
