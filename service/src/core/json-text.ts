/**
 * Command output that arrives already escaped as JSON text (the local agent escapes it: a streamed
 * exec's output costs the host no decode, JSON.stringify or encode). An event made here is an ordinary
 * `{ type, data }` to any reader (`data` parsed once, when first read), and a byte-level writer (the
 * SSE surface) takes its JSON text as it is. Web APIs only.
 */

const JSON_TEXT = Symbol("sandgate.jsonText");
/** ignoreBOM: a U+FEFF the command printed first is text like any other (not a mark to strip). */
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

export interface TextEvent {
  type: "stdout" | "stderr";
  data: string;
}

/**
 * An output event from pieces of JSON text: together, the bytes between a JSON string's quotes (UTF-8)
 * as JSON.stringify writes them (a piece alone may end inside a character or an escape).
 */
export function jsonTextEvent(type: TextEvent["type"], pieces: Uint8Array[]): TextEvent {
  let parsed: string | undefined;
  const event = { type } as TextEvent;
  Object.defineProperty(event, "data", {
    enumerable: true,
    get: () => (parsed ??= parseJsonText(pieces)),
  });
  Object.defineProperty(event, JSON_TEXT, { value: pieces });
  return event;
}

/** The string that pieces of JSON text stand for. */
export function parseJsonText(pieces: readonly Uint8Array[]): string {
  let text = "";
  for (const piece of pieces) text += decoder.decode(piece, { stream: true });
  return JSON.parse(`"${text + decoder.decode()}"`) as string;
}

/** The JSON text of an event made by jsonTextEvent; undefined for any other. */
export function jsonTextOf(event: object): readonly Uint8Array[] | undefined {
  return (event as { [JSON_TEXT]?: Uint8Array[] })[JSON_TEXT];
}
