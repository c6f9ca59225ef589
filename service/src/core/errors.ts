import type { ErrorCode } from "../schemas/common.ts";

/** The one error type core and backends throw; every surface renders it with the same code. */
export class SandgateError extends Error {
  override readonly name = "SandgateError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toEnvelope(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export const httpStatusOf: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  timeout: 504,
  sandbox_unavailable: 503,
  upstream_unavailable: 502,
  internal: 500,
  not_implemented: 501,
};

export const errors = {
  invalid: (message: string, details?: Record<string, unknown>) => new SandgateError("invalid_request", message, details),
  notFound: (message: string) => new SandgateError("not_found", message),
  sandboxNotFound: (id: string) => new SandgateError("not_found", `sandbox '${id}' not found`, { sandboxId: id }),
  conflict: (message: string) => new SandgateError("conflict", message),
  forbidden: (message: string) => new SandgateError("forbidden", message),
  tooLarge: (message: string, limitBytes: number) => new SandgateError("payload_too_large", message, { limitBytes }),
  internal: (message = "internal error") => new SandgateError("internal", message),
};

/** A schema's complaints about an input, as one `invalid_request` naming each field. */
export function invalidInput(where: string, issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): SandgateError {
  const list = issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  return new SandgateError("invalid_request", `invalid request ${where}: ${list.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`, { issues: list });
}

/** Anything that is not already a SandgateError becomes `internal`, with no detail leaked to callers. */
export function toSandgateError(err: unknown): SandgateError {
  if (err instanceof SandgateError) return err;
  // The same class loaded twice (bundles, test runners) fails instanceof; its shape does not.
  const like = err as { name?: unknown; code?: unknown; message?: unknown; details?: unknown } | null;
  if (like?.name === "SandgateError" && typeof like.code === "string" && like.code in httpStatusOf) {
    return new SandgateError(like.code as ErrorCode, String(like.message), like.details as Record<string, unknown> | undefined);
  }
  // The schemas keep commands within execve's limits; should one still be too large for the kernel
  // (a runtime's own arguments grew, a smaller stack limit), that is the request's size, not a fault.
  if (like?.code === "E2BIG") return errors.invalid("the command's arguments and environment are too large to start it (E2BIG)");
  return errors.internal();
}
