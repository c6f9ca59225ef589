/**
 * Checks on the raw request that no schema can make, shared by the REST and compat routes: the URL's
 * percent-encoding and the bytes of JSON bodies. Each failure is an `invalid_request` like any other.
 */
import type { MiddlewareHandler } from "hono";
import { SandgateError } from "../core/errors.ts";

/**
 * Percent-encoding in the URL must decode to UTF-8. Left alone, `?path=%FF` would stay the three
 * characters `%FF` and name the same file as `?path=%25FF`.
 */
export const strictUrl: MiddlewareHandler = async (c, next) => {
  const url = c.req.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start >= 0 && url.includes("%", start)) {
    const hash = url.indexOf("#", start);
    for (const part of url.slice(start, hash < 0 ? url.length : hash).split(/[/?&=]/)) {
      if (!part.includes("%")) continue;
      try {
        decodeURIComponent(part);
      } catch {
        throw new SandgateError("invalid_request", "the URL's percent-encoding does not decode to UTF-8", { part: part.slice(0, 256) });
      }
    }
  }
  await next();
};

/** How deep a JSON body may nest objects and arrays; none of Sandgate's bodies needs more than a few levels. */
export const MAX_JSON_DEPTH = 64;

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Wraps the size limit of JSON bodies with two checks on what passes it: the body is UTF-8 (RFC 8259),
 * not silently repaired with U+FFFD, and nests at most MAX_JSON_DEPTH levels. The checked text is what
 * the route's validator then parses (hono caches it), so the body is read once.
 */
export function jsonBodyGuard(limit: MiddlewareHandler): MiddlewareHandler {
  return (c, next) =>
    limit(c, async () => {
      const contentType = c.req.header("content-type");
      // The document says these routes require a body; with none at all the validator would see nothing to check.
      if (contentType === undefined && c.req.header("transfer-encoding") === undefined && (c.req.header("content-length") ?? "0") === "0") {
        throw new SandgateError("invalid_request", "this route takes a JSON body (Content-Type: application/json)");
      }
      if (JSON_MEDIA_TYPE.test((contentType ?? "").split(";")[0]!.trim())) {
        const bytes = await c.req.arrayBuffer();
        let text: string;
        try {
          text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
        } catch {
          throw new SandgateError("invalid_request", "the request body is not valid UTF-8");
        }
        if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw new SandgateError("invalid_request", `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`);
        (c.req as unknown as { bodyCache: { text?: Promise<string> } }).bodyCache.text = Promise.resolve(text);
      }
      await next();
    });
}

/** Whether `[` and `{` nest deeper than `limit` in JSON text (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      // A string: jump to its closing quote (indexOf is far faster than a loop over long contents).
      for (let from = i + 1; ; ) {
        const quote = text.indexOf('"', from);
        if (quote < 0) return false; // unterminated: the parser will say so
        let backslashes = 0;
        while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) {
          i = quote;
          break;
        }
        from = quote + 1;
      }
    } else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > limit) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}
