/** An operation's event stream as a Server-Sent Events response. */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { toSandgateError } from "../core/errors.ts";
import { jsonTextOf } from "../core/json-text.ts";

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
        const text = jsonTextOf(event);
        if (text) await stream.write(textFrame(event.type, text));
        else await stream.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
    } catch (err) {
      const error = toSandgateError(err);
      await stream.writeSSE({ event: "error", data: JSON.stringify({ type: "error", code: error.code, message: error.message }) });
    } finally {
      clearInterval(heartbeat);
    }
  });
}

const encoder = new TextEncoder();
const frameEnds = new Map<string, [Uint8Array, Uint8Array]>();

/** The frame of an output event kept as JSON text: the bytes the JSON.stringify path writes, without a string. */
function textFrame(type: string, pieces: readonly Uint8Array[]): Uint8Array {
  let ends = frameEnds.get(type);
  if (!ends) {
    ends = [encoder.encode(`event: ${type}\ndata: {"type":${JSON.stringify(type)},"data":"`), encoder.encode(`"}\n\n`)];
    frameEnds.set(type, ends);
  }
  let size = ends[0].length + ends[1].length;
  for (const piece of pieces) size += piece.length;
  const frame = new Uint8Array(size);
  frame.set(ends[0], 0);
  let at = ends[0].length;
  for (const piece of pieces) {
    frame.set(piece, at);
    at += piece.length;
  }
  frame.set(ends[1], at);
  return frame;
}
