/**
 * What Node's HTTP server answers itself, before any route runs: requests it cannot parse or whose
 * headers pass its limit. By default Node writes a bare status line; here it is the error envelope.
 */
import { AUTH_CHALLENGE } from "../../surfaces/auth-challenge.ts";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { SandgateError, httpStatusOf } from "../../core/errors.ts";

/**
 * The request line and headers together (Node's `maxHeaderSize`; its default is 16 KiB). Large enough
 * for any request the schemas allow, such as a 4096-character non-ASCII path percent-encoded in the URL.
 */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Answers the parse errors of `server` with the error envelope, then closes the connection. */
export function answerClientErrors(server: { on(event: "clientError", listener: (err: Error, socket: Duplex) => void): unknown }): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === "ECONNRESET" || !socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, error] = describe(err);
    endWithError(socket, error, status);
  });
}

/**
 * Writes `error` as a whole HTTP/1.1 answer (the envelope, its status) on a raw socket and closes it:
 * for what is answered before or outside the HTTP server's own responses (parse errors, upgrades).
 */
export function endWithError(socket: Duplex, error: SandgateError, status = httpStatusOf[error.code]): void {
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  const body = JSON.stringify(error.toEnvelope());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "Content-Type: application/json\r\n" +
      (status === 401 ? `WWW-Authenticate: ${AUTH_CHALLENGE}\r\n` : "") +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}

function describe(err: NodeJS.ErrnoException): [number, SandgateError] {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, new SandgateError("headers_too_large", `the request line and headers are limited to ${MAX_HEADER_BYTES} bytes`, { limitBytes: MAX_HEADER_BYTES })];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return [413, new SandgateError("payload_too_large", "chunk extensions too large")];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      // Node's own status for a request that did not arrive in time; the code says what happened.
      return [408, new SandgateError("timeout", "the request did not arrive in time")];
    default: {
      const error = new SandgateError("invalid_request", "malformed HTTP request", err.code ? { parserError: err.code } : undefined);
      return [httpStatusOf.invalid_request, error];
    }
  }
}

/** Node's raw header list (name, value, name, value...) as web Headers, repeated headers joined as fetch joins them. */
export function headersFromRaw(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    // HTTP/2 pseudo-headers (":path") are not headers.
    if (raw[i]!.charCodeAt(0) !== 58) headers.append(raw[i]!, raw[i + 1]!);
  }
  return headers;
}
