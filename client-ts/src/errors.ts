import type { components } from "./schema.js";

/** Every error code Sandgate answers with (the `ErrorCode` enum of the OpenAPI document). */
export type ErrorCode = components["schemas"]["ErrorCode"];

/** Codes the client raises itself, with `status` 0 (there was no response): the host could not be reached. */
export type ClientErrorCode = "unreachable";

/** The code each status carries (the server's own mapping), for error responses without the envelope. */
export const codeOfStatus: Record<number, ErrorCode> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  431: "headers_too_large",
  500: "internal",
  501: "not_implemented",
  502: "upstream_unavailable",
  503: "sandbox_unavailable",
  504: "timeout",
};

/**
 * A failed call: the `{"error": {"code", "message", "details"?}}` envelope of the response, with its
 * HTTP status. Responses without the envelope (a proxy's error page, say) get the code that fits their
 * status, or `internal`. Failures with no response have `status` 0: `unreachable` (refused, reset, cut
 * short) and `timeout` (the client's `timeoutMs` passed); the underlying error is the `cause`.
 */
export class SandgateError extends Error {
  override readonly name = "SandgateError";
  readonly code: ErrorCode | ClientErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode | ClientErrorCode, message: string, status: number, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = status;
    this.details = details;
  }

  /** Builds the error from a response's status and its body (already parsed as JSON, or text). */
  static fromBody(status: number, body: unknown): SandgateError {
    const envelope = isRecord(body) && isRecord(body.error) ? body.error : undefined;
    if (envelope && typeof envelope.code === "string" && typeof envelope.message === "string") {
      const details = isRecord(envelope.details) ? envelope.details : undefined;
      return new SandgateError(envelope.code as ErrorCode, envelope.message, status, details);
    }
    const text = typeof body === "string" && body.length > 0 ? `: ${body.slice(0, 200)}` : "";
    return new SandgateError(codeOfStatus[status] ?? "internal", `HTTP ${status}${text}`, status);
  }

  /** A call that got no response: `timeout` when it was the client's timeout, else `unreachable`. */
  static fromFailure(error: unknown): SandgateError {
    if (error instanceof SandgateError) return error;
    const name = (error as { name?: unknown } | null)?.name;
    if (name === "TimeoutError") return new SandgateError("timeout", "no answer in time", 0, undefined, { cause: error });
    // Node's fetch says "fetch failed" and keeps the reason (ECONNREFUSED, …) in `cause`.
    const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
    const why = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : String((error as Error)?.message ?? error);
    return new SandgateError("unreachable", `cannot reach the host (${why})`, 0, undefined, { cause: error });
  }

  /** Reads an error response's body and builds the error from it. */
  static async fromResponse(response: Response): Promise<SandgateError> {
    const text = await response.text().catch(() => "");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return SandgateError.fromBody(response.status, body);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
