import { splitTextStream } from "../core/text-stream.ts";

/** Reads a text/event-stream body as the JSON `data` of its events; comments (heartbeats) are skipped. */
export async function* parseServerSentEvents<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  for await (const block of splitTextStream(body, "\n\n", (text) => text.replaceAll("\r\n", "\n"))) {
    const data = block
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
      .join("\n");
    if (data) yield JSON.parse(data) as T;
  }
}
