/** 50 MiB of binary through the client both ways, streamed, checked byte for byte by hash. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { prngStream, useHost } from "./helpers.ts";

const { client } = useHost();
const SIZE = 50 * 1024 * 1024;

/** Passes a stream through unchanged while hashing it. */
function hashing(stream: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; digest: () => string; size: () => number } {
  const hash = createHash("sha256");
  let size = 0;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      size += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream: stream.pipeThrough(tap), digest: () => hash.copy().digest("hex"), size: () => size };
}

describe("binary files", () => {
  it("round-trips 50 MiB streamed up and down", async () => {
    const sb = await client().sandboxes.create();
    const upload = hashing(prngStream(SIZE, 1024 * 1024 + 3, 0x5eed));
    const info = await sb.files.write("big/blob.bin", upload.stream);
    expect(upload.size()).toBe(SIZE);
    expect(info.size).toBe(SIZE);

    // the sandbox sees the same bytes
    const inside = await sb.exec("sha256sum big/blob.bin");
    expect(inside.stdout.split(" ")[0]).toBe(upload.digest());

    const download = hashing(await sb.files.read("big/blob.bin", { as: "stream" }));
    const reader = download.stream.getReader();
    let chunks = 0;
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
      chunks++;
    }
    expect(download.size()).toBe(SIZE);
    expect(download.digest()).toBe(upload.digest());
    expect(chunks).toBeGreaterThan(1);

    // and as one Uint8Array each way
    const bytes = await sb.files.read("big/blob.bin");
    expect(bytes.byteLength).toBe(SIZE);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(upload.digest());
    bytes[SIZE - 1] = (bytes[SIZE - 1] ?? 0) ^ 0xff;
    await sb.files.write("copy.bin", bytes);
    const copy = await sb.files.read("copy.bin");
    expect(createHash("sha256").update(copy).digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(createHash("sha256").update(copy).digest("hex")).not.toBe(upload.digest());
    await sb.delete();
  });
});
