/**
 * The documented error answers of an operation: one response per status, each with an example of
 * its own code (so /docs shows a 401 that reads `unauthorized`, not one shared sample), shared by
 * the REST routes and the compat routes.
 */
import { httpStatusOf } from "../core/errors.ts";
import { ErrorEnvelope, type ErrorCode } from "../schemas/common.ts";

const samples: Record<ErrorCode, { message: string; details?: Record<string, unknown> }> = {
  invalid_request: {
    message: "invalid request body: timeoutMs: Too small: expected number to be >=1",
    details: { issues: [{ path: "timeoutMs", message: "Too small: expected number to be >=1" }] },
  },
  unauthorized: { message: "missing or invalid token" },
  forbidden: { message: "this token may not use scope 'exec' on sandbox 'demo'" },
  not_found: { message: "sandbox 'demo' not found", details: { sandboxId: "demo" } },
  method_not_allowed: { message: "GET is not allowed on /v1/sandboxes/demo/exec; allowed: POST", details: { allow: ["POST"] } },
  conflict: { message: "sandbox 'demo' already exists" },
  timeout: { message: "no line matched within 30000 ms" },
  payload_too_large: { message: "JSON bodies are limited to 44805461 bytes", details: { limitBytes: 44805461 } },
  unsupported_media_type: { message: "this route takes application/json" },
  headers_too_large: { message: "the request line and headers are limited to 16384 bytes", details: { limitBytes: 16384 } },
  sandbox_unavailable: { message: "sandbox 'demo' cannot be reached right now; retry" },
  upstream_unavailable: { message: "nothing answers on port 8080 in sandbox 'demo'" },
  internal: { message: "internal error" },
  not_implemented: { message: "snapshots are not available on this backend yet" },
};

/** An error envelope as the given code's example. */
export function errorExample(code: ErrorCode): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
  const { message, details } = samples[code];
  return { error: { code, message, ...(details ? { details } : {}) } };
}

interface ErrorResponse {
  description: string;
  content: { "application/json": { schema: typeof ErrorEnvelope; examples: Record<string, { summary: string; value: unknown }> } };
}

/** The responses for these codes, keyed by status; codes that share a status share its response, each with its example. */
export function errorResponses(codes: Iterable<ErrorCode>): Record<number, ErrorResponse> {
  const out: Record<number, ErrorResponse> = {};
  for (const code of new Set(codes)) {
    const status = httpStatusOf[code];
    const existing = out[status];
    const example = { summary: code, value: errorExample(code) };
    if (existing) {
      existing.description += `, ${code}`;
      existing.content["application/json"].examples[code] = example;
    } else {
      out[status] = { description: `Error: ${code}`, content: { "application/json": { schema: ErrorEnvelope, examples: { [code]: example } } } };
    }
  }
  return out;
}
