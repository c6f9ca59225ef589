/** The SSE parser on its own: line endings, chunk boundaries anywhere, comments, multi-line data. */
import { describe, expect, it } from "vitest";
import { parseServerSentEvents, type ServerSentEvent } from "../src/index.ts";

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function parse(chunks: (string | Uint8Array)[]): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(streamOf(chunks))) out.push(event);
  return out;
}

describe("parseServerSentEvents", () => {
  const text = ': keep-alive\n\nevent: stdout\ndata: {"a":1}\n\nevent: exit\r\ndata: line one\r\ndata:line two\r\nid: 7\r\n\r\ndata: no name\r\r: trailing comment\n\nevent: cut\ndata: never finished';
  const expected: ServerSentEvent[] = [
    { event: "stdout", data: '{"a":1}' },
    { event: "exit", data: "line one\nline two", id: "7" },
    { event: "message", data: "no name", id: "7" },
  ];

  it("parses whole bodies with LF, CRLF and CR line ends, comments and multi-line data", async () => {
    expect(await parse([text])).toEqual(expected);
  });

  it("gives the same events however the body is split, even inside CRLF and UTF-8 sequences", async () => {
    const bytes = new TextEncoder().encode(text.replace("line one", "líne ✓ one"));
    const want = expected.map((e) => (e.event === "exit" ? { ...e, data: "líne ✓ one\nline two" } : e));
    for (let size = 1; size <= 7; size++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(await parse(chunks), `chunks of ${size}`).toEqual(want);
    }
  });

  it("cancels the body when the consumer stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("data: x\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    let count = 0;
    for await (const _ of parseServerSentEvents(body)) if (++count === 3) break;
    expect(count).toBe(3);
    expect(cancelled).toBe(true);
  });
});
