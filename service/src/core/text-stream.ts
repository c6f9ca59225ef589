/**
 * Splits a UTF-8 byte stream into the pieces between `separator`s (the last piece even without one),
 * as they arrive; cancels the stream when the reader stops early. Web APIs only.
 */
export async function* splitTextStream(stream: ReadableStream<Uint8Array>, separator: string, normalize?: (text: string) => string): AsyncGenerator<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      buffer += normalize ? normalize(text) : text;
      let end: number;
      while ((end = buffer.indexOf(separator)) >= 0) {
        yield buffer.slice(0, end);
        buffer = buffer.slice(end + separator.length);
      }
    }
    if (buffer) yield buffer;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
