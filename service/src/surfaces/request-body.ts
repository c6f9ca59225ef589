/**
 * Request bodies on the REST surface: the size limit of JSON bodies and the raw byte stream that
 * uploads hand to the backend.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { SandgateError } from "../core/errors.ts";

/** The largest JSON body: a file of `maxJsonFileBytes` in base64 plus room for the rest of the body. */
export function maxJsonBodyBytes(maxJsonFileBytes: number): number {
  return Math.ceil((maxJsonFileBytes * 4) / 3) + 64 * 1024;
}

/** Refuses JSON bodies over `maxBytes` with 413, pointing larger files at the raw upload route. */
export function jsonBodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new SandgateError("payload_too_large", `JSON bodies are limited to ${maxBytes} bytes (to write a larger file, PUT its raw bytes to /v1/sandboxes/{id}/files/content?path=...)`, { limitBytes: maxBytes });
  };
  const streamedBodyLimit = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  // hono's bodyLimit starts by asking for c.req.raw.body, which makes the Node adapter build a whole
  // web Request and then read the JSON through streams: ~0.5 ms of every JSON call. The same check by
  // Content-Length (what bodyLimit does too when there is one) leaves the adapter's fast path alone.
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (length === undefined || c.req.header("transfer-encoding") !== undefined) return streamedBodyLimit(c, next);
    if (Number.parseInt(length, 10) > maxBytes) tooLarge();
    await next();
  };
}

/** What rawBody needs of Node's IncomingMessage (duck-typed: this file also runs in the Worker). */
interface NodeBody {
  readableEnded: boolean;
  readableDidRead: boolean;
  on(event: string, listener: (arg: never) => void): unknown;
  off(event: string, listener: (arg: never) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** Bytes of request body a raw upload buffers ahead of the backend before pausing the socket. */
const RAW_BODY_HIGH_WATER = 1024 * 1024;

/**
 * A raw request body. On the Node host it is read straight from the IncomingMessage that
 * @hono/node-server passes as `c.env.incoming`: the generic path behind `c.req.raw.body` copies
 * every chunk and stacks two web streams, about half the CPU an upload costs the host.
 */
export function rawBody(c: Context): ReadableStream<Uint8Array> {
  const incoming = (c.env as { incoming?: Partial<NodeBody> } | undefined)?.incoming;
  if (typeof incoming?.pause === "function" && incoming.readableEnded === false && incoming.readableDidRead === false) {
    const source = incoming as NodeBody;
    let detach = () => {};
    return new ReadableStream<Uint8Array>(
      {
        start(controller) {
          const onData = (chunk: Uint8Array) => {
            controller.enqueue(chunk);
            if ((controller.desiredSize ?? 0) <= 0) source.pause();
          };
          const onEnd = () => {
            detach();
            controller.close();
          };
          const onError = (err: unknown) => {
            detach();
            controller.error(err);
          };
          const onClose = () => onError(new Error("the request body ended early"));
          detach = () => {
            source.off("data", onData);
            source.off("end", onEnd);
            source.off("error", onError);
            source.off("close", onClose);
          };
          source.on("data", onData);
          source.on("end", onEnd);
          source.on("error", onError);
          source.on("close", onClose);
        },
        pull() {
          source.resume();
        },
        cancel() {
          // Left paused: the node server drains or closes what remains once the response is out.
          detach();
          source.pause();
        },
      },
      { highWaterMark: RAW_BODY_HIGH_WATER, size: (chunk) => chunk.byteLength },
    );
  }
  return c.req.raw.body ?? new ReadableStream({ start: (controller) => controller.close() });
}
