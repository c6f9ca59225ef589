/**
 * A streamed exec's output is escaped to JSON text by the agent while it is UTF-8 (and decoded by the
 * host once it is not). From outside, whatever the bytes: each stream's events carry the text that
 * decoding its whole output gives, and every `data:` line is exactly what JSON.stringify writes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonTextEvent } from "../src/core/json-text.ts";
import { type TestHost, startHost } from "./host.ts";

let host: TestHost;
beforeAll(async () => {
  host = await startHost();
  expect((await host.json("POST", "/v1/sandboxes", { id: "tx" })).status).toBe(201);
});
afterAll(async () => {
  await host.stop();
});

/** Runs `command` streamed; answers the raw `data:` lines, each stream's text joined, and the exit event. */
async function stream(command: string) {
  const res = await host.call("POST", "/v1/sandboxes/tx/exec/stream", { command });
  expect(res.status).toBe(200);
  const wire = await res.text();
  const lines = wire.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6));
  const events = lines.map((line) => JSON.parse(line) as { type: string; data?: string; exitCode?: number });
  const text = (type: string) => events.filter((e) => e.type === type).map((e) => e.data).join("");
  return { lines, events, stdout: text("stdout"), stderr: text("stderr"), exit: events.at(-1) };
}

async function upload(path: string, bytes: Buffer): Promise<void> {
  const res = await host.call("PUT", `/v1/sandboxes/tx/files/content?path=${path}`, new Uint8Array(bytes), { "content-type": "application/octet-stream" });
  expect(res.status).toBe(200);
}

const repeat = (piece: Buffer, size: number) => Buffer.concat(Array.from({ length: Math.ceil(size / piece.length) }, () => piece)).subarray(0, size);
const allAscii = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
const multibyte = Buffer.from("é✓😀 \"q\" \\ line\n", "utf8");

const cases: [string, Buffer][] = [
  // A period of 131 bytes: each byte lands at every offset of the agent's 8-byte words.
  ["every ASCII byte (controls, quote, backslash, DEL)", repeat(Buffer.concat([allAscii, Buffer.from("abc")]), 300 * 1024)],
  // 600 KiB of 1- to 4-byte characters: the agent's reads end inside characters.
  ["multi-byte characters across reads", repeat(multibyte, 600 * 1024 + 1)],
  ["a byte-order mark first", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("x")])],
  ["valid text ending inside a character", Buffer.concat([Buffer.from("abc"), Buffer.from([0xe2, 0x82])])],
  ["invalid bytes after valid text", Buffer.concat([repeat(multibyte, 300 * 1024), Buffer.from([0xff, 0xc0, 0x80, 0xed, 0xa0, 0x80]), repeat(multibyte, 300 * 1024), Buffer.from([0xf0, 0x9f])])],
  ["invalid from the first byte", Buffer.concat([Buffer.from([0x80, 0x80]), Buffer.from("tail é")])],
];

describe("exec/stream output as JSON text", () => {
  for (const [name, bytes] of cases) {
    it(`${name}: the decoded text, in canonical JSON`, async () => {
      await upload("payload.bin", bytes);
      const run = await stream("cat payload.bin; cat payload.bin >&2");
      expect(run.exit).toMatchObject({ type: "exit", exitCode: 0 });
      const expected = bytes.toString("utf8");
      // Positive control: the bytes went through (lengths first, for a readable failure).
      expect(run.stdout.length).toBe(expected.length);
      expect(run.stdout === expected).toBe(true);
      expect(run.stderr === expected).toBe(true);
      for (const line of run.lines) expect(line === JSON.stringify(JSON.parse(line))).toBe(true);
    });
  }

  it("a command that fails to start still reports on stderr, then its exit", async () => {
    const res = await host.call("POST", "/v1/sandboxes/tx/exec/stream", { argv: ["/no/such/program"] });
    const lines = (await res.text()).split("\n").filter((line) => line.startsWith("data: ")).map((line) => JSON.parse(line.slice(6)) as { type: string; data?: string; exitCode?: number });
    expect(lines.filter((e) => e.type === "stderr").map((e) => e.data).join("")).toContain("/no/such/program");
    expect(lines.at(-1)).toMatchObject({ type: "exit", exitCode: 127 });
  });
});

describe("an event made of JSON text", () => {
  it("reads as the text JSON.stringify escaped, whatever its pieces split (a mark first included)", () => {
    const text = "\ufeffé✓😀 \"q\" \\ \u0001\n";
    const json = Buffer.from(JSON.stringify(text).slice(1, -1));
    for (let cut = 0; cut <= json.length; cut++) {
      const event = jsonTextEvent("stdout", [json.subarray(0, cut), json.subarray(cut)]);
      expect(event.data).toBe(text);
      expect(JSON.stringify(event)).toBe(JSON.stringify({ type: "stdout", data: text }));
    }
  });
});
