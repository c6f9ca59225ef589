/**
 * What an error that ends a request answers: its status and the error envelope. Errors that are not
 * Sandgate's own become `internal` and go to the host's log. Shared by the REST app and the Node
 * host's port proxy (hosts/node/port-proxy.ts), so both answer alike.
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { SandgateError, httpStatusOf, toSandgateError } from "../core/errors.ts";
import type { ErrorCode } from "../schemas/common.ts";
import { challengeHeaders } from "./auth-challenge.ts";

export function errorAnswer(err: unknown, onInternalError?: (err: unknown) => void): { status: number; envelope: ReturnType<SandgateError["toEnvelope"]> } {
  const error = fromHttpError(err) ?? toSandgateError(err);
  if (!(err instanceof SandgateError) && error.code === "internal") onInternalError?.(err);
  return { status: httpStatusOf[error.code], envelope: error.toEnvelope() };
}

/** The REST app's error handler: the envelope with its status, and the auth challenge on 401. */
export function restErrorHandler(onInternalError?: (err: unknown) => void): ErrorHandler {
  return (err, c) => {
    // A request whose client went away (an upload cut off, a connection reset) failed on the client's
    // side: nobody reads the answer, and it is not the host's error to log.
    if (clientGone(c)) return c.json(new SandgateError("invalid_request", "the client closed the connection").toEnvelope(), 400);
    const { status, envelope } = errorAnswer(err, onInternalError);
    return c.json(envelope, status as ContentfulStatusCode, challengeHeaders(status));
  };
}

/** Errors hono's own middleware throws (body limit, content type, ...) as Sandgate's codes. */
function fromHttpError(err: unknown): SandgateError | undefined {
  if (!(err instanceof HTTPException)) return undefined;
  const code: ErrorCode =
    err.status === 413 ? "payload_too_large" : err.status === 415 ? "unsupported_media_type" : err.status === 401 ? "unauthorized" : "invalid_request";
  const message = err.status === 415 ? "this route takes application/json" : err.message || "invalid request";
  return new SandgateError(code, message);
}

/** Whether the client of this request is gone: its request aborted, or (Node) its socket closed or failed. */
function clientGone(c: Context): boolean {
  const incoming = (c.env as { incoming?: { aborted?: boolean; errored?: unknown; socket?: { destroyed?: boolean } | null } } | undefined)?.incoming;
  if (incoming && (incoming.aborted || incoming.errored || incoming.socket?.destroyed)) return true;
  return c.req.raw.signal.aborted;
}
