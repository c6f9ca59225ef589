/** An operation's event stream as a Server-Sent Events response. */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { toSandgateError } from "../core/errors.ts";

/** SSE comment lines keep proxies and clients from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/** One SSE event per item (named by its `type`); an error ends the stream with an `error` event. */
export function streamEvents(c: Context, events: AsyncIterable<{ type: string }>): Response {
  return streamSSE(c, async (stream) => {
    const heartbeat = setInterval(() => void stream.write(": keep-alive\n\n").catch(() => {}), HEARTBEAT_MS);
    try {
      for await (const event of events) {
        if (stream.aborted || stream.closed) break;
        // One write per event, framed here: JSON has no raw line breaks, so the data is one `data:` line
        // (writeSSE would split every event's text on line breaks, a regex pass over all output).
        await stream.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
    } catch (err) {
      const error = toSandgateError(err);
      await stream.writeSSE({ event: "error", data: JSON.stringify({ type: "error", code: error.code, message: error.message }) });
    } finally {
      clearInterval(heartbeat);
    }
  });
}
