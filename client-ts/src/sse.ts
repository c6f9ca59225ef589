/**
 * A small parser for `text/event-stream` bodies, following the WHATWG "server-sent events"
 * interpretation rules: lines end in CRLF, LF or CR; `event`, `data` (joined with "\n" when
 * repeated) and `id` fields; lines starting with ':' are comments (keep-alives); an event is
 * dispatched at a blank line. Web streams and TextDecoder only, so it runs in Node, browsers and Workers.
 */

export interface ServerSentEvent {
  /** The `event` field; "message" when the server sent none. */
  event: string;
  data: string;
  id?: string;
}

export async function* parseServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  let finished = false;

  /** Handles one complete line; returns an event when the line is blank and data was collected. */
  const line = (text: string): ServerSentEvent | undefined => {
    if (text === "") {
      const out = data.length > 0 ? { event: event || "message", data: data.join("\n"), ...(id !== undefined ? { id } : {}) } : undefined;
      event = "";
      data = [];
      return out;
    }
    if (text.startsWith(":")) return undefined;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\0")) id = value;
    return undefined;
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // Split off every complete line. A trailing CR may be the first half of a CRLF: keep it.
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const ch = buffer.charCodeAt(i);
        if (ch !== 10 && ch !== 13) continue;
        if (ch === 13 && i === buffer.length - 1 && !done) break;
        const out = line(buffer.slice(start, i));
        if (ch === 13 && buffer.charCodeAt(i + 1) === 10) i++;
        start = i + 1;
        if (out) yield out;
      }
      buffer = buffer.slice(start);
      if (done) {
        finished = true;
        // An event not followed by a blank line is incomplete and, per the spec, dropped.
        return;
      }
    }
  } finally {
    // Stopping early (break, return, throw) cancels the body, which closes the connection.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
