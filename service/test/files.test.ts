/**
 * The file routes (/v1/sandboxes/{id}/files...) against a real Node host with real bubblewrap sandboxes:
 * every success path, every error in the common envelope, traversal and symlink escapes (checked on
 * the host's own filesystem), size limits, and a 100 MiB streamed round trip under a memory bound.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestHost, eventually, removeDir, startHost, workspaceOnHost } from "./host.ts";

const UPLOAD_PREFIX = ".sandgate-upload-";
const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// helpers

async function newSandbox(host: TestHost): Promise<string> {
  const created = await host.json("POST", "/v1/sandboxes", {});
  expect(created.status).toBe(201);
  return created.body.id as string;
}

/** The host directory bound at /workspace for sandbox `id`. */
function hostWorkspace(host: TestHost, id: string): string {
  return workspaceOnHost(host.dataDir, id);
}

async function sh(host: TestHost, id: string, command: string): Promise<string> {
  const res = await host.json("POST", `/v1/sandboxes/${id}/exec`, { command });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.exitCode, `${command}\n${res.body.stderr}`).toBe(0);
  return res.body.stdout as string;
}

/** Asserts the common error envelope, exactly: `{"error": {"code", "message", "details"?}}`. */
async function expectError(res: Response, status: number, code: string, what = ""): Promise<{ code: string; message: string; details?: any }> {
  const text = await res.text();
  expect(res.status, `${what} -> ${res.status} ${text}`).toBe(status);
  expect(res.headers.get("content-type") ?? "", what).toMatch(/^application\/json/);
  const body = JSON.parse(text);
  expect(Object.keys(body), what).toEqual(["error"]);
  expect(body.error.code, `${what}: ${text}`).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(body.error)) expect(["code", "message", "details"], what).toContain(key);
  return body.error;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function hashHostFile(path: string): Promise<{ hash: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { hash: hash.digest("hex"), size };
}

function uploadTemps(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith(UPLOAD_PREFIX)) : [];
}

/** Every upload temp file anywhere under `dir`, never following symlinks (a sandbox may link to /). */
function uploadTempsDeep(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(UPLOAD_PREFIX)) out.push(join(dir, entry.name));
    else if (entry.isDirectory()) out.push(...uploadTempsDeep(join(dir, entry.name)));
  }
  return out;
}

/** A body of `chunks` chunks of `chunkSize` bytes from a deterministic xorshift32 PRNG; hashes what it hands out. */
function prngStream(chunks: number, chunkSize: number, seed: number) {
  let state = seed >>> 0 || 1;
  let sent = 0;
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === chunks) {
        controller.close();
        return;
      }
      const words = new Uint32Array(chunkSize / 4);
      for (let i = 0; i < words.length; i++) {
        state ^= state << 13;
        state >>>= 0;
        state ^= state >>> 17;
        state ^= state << 5;
        state >>>= 0;
        words[i] = state;
      }
      const chunk = new Uint8Array(words.buffer);
      hash.update(chunk);
      bytes += chunk.byteLength;
      sent++;
      controller.enqueue(chunk);
    },
  });
  return { stream, digest: () => hash.digest("hex"), bytes: () => bytes };
}

/**
 * Samples a process's RSS every `intervalMs` from a worker thread, so the cadence holds even while the
 * test's own thread is busy generating and hashing data.
 */
function rssSampler(pid: number, intervalMs = 50) {
  const shared = new Int32Array(new SharedArrayBuffer(12)); // peak KiB, samples, stop flag
  const worker = new Worker(
    `const { workerData } = require("node:worker_threads");
     const { readFileSync } = require("node:fs");
     const s = workerData.shared;
     const tick = () => {
       try {
         const kib = Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync("/proc/" + workerData.pid + "/status", "utf8"))[1]);
         if (kib > Atomics.load(s, 0)) Atomics.store(s, 0, kib);
         Atomics.add(s, 1, 1);
       } catch {}
       if (Atomics.load(s, 2) === 0) setTimeout(tick, workerData.intervalMs);
     };
     tick();`,
    { eval: true, workerData: { pid, shared, intervalMs } },
  );
  return {
    async stop(): Promise<{ peak: number; samples: number }> {
      Atomics.store(shared, 2, 1);
      await worker.terminate();
      return { peak: Atomics.load(shared, 0) * 1024, samples: Atomics.load(shared, 1) };
    },
  };
}

/** A stream that hands out `bytes` in `pieces` chunks, each only when pulled. */
function streamOf(bytes: Uint8Array, pieces = 4): ReadableStream<Uint8Array> {
  const size = Math.ceil(bytes.byteLength / pieces);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// the main host

let host: TestHost;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host?.stop();
  if (host) removeDir(host.dataDir);
});

describe("raw write (PUT files/content)", () => {
  it("creates missing parents, renames atomically into place and answers a correct FileInfo", async () => {
    const id = await newSandbox(host);
    const bytes = randomBytes(300_000);
    const before = Date.now();
    const res = await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc("deep/er/still/file.bin")}`, bytes);
    expect(res.status).toBe(200);
    const info = await res.json();
    expect(info).toEqual({
      path: "/workspace/deep/er/still/file.bin",
      name: "file.bin",
      type: "file",
      size: 300_000,
      mode: 0o644,
      modifiedAt: expect.any(String),
    });
    expect(Date.parse(info.modifiedAt)).toBeGreaterThanOrEqual(before - 2000);
    expect(Date.parse(info.modifiedAt)).toBeLessThanOrEqual(Date.now() + 2000);

    const ws = hostWorkspace(host, id);
    const onHost = join(ws, "deep/er/still/file.bin");
    expect(sha256(readFileSync(onHost))).toBe(sha256(bytes));
    expect(lstatSync(join(ws, "deep/er")).isDirectory()).toBe(true);
    expect(uploadTempsDeep(ws)).toEqual([]);

    // The sandbox sees the same file at the same path.
    expect((await sh(host, id, "sha256sum /workspace/deep/er/still/file.bin")).split(" ")[0]).toBe(sha256(bytes));
  });

  it("accepts absolute /workspace paths and an empty body, and replaces an existing file", async () => {
    const id = await newSandbox(host);
    const empty = await host.json("PUT", `/v1/sandboxes/${id}/files/content?path=${enc("/workspace/empty.txt")}`, "");
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ path: "/workspace/empty.txt", name: "empty.txt", type: "file", size: 0 });
    expect(readFileSync(join(hostWorkspace(host, id), "empty.txt")).byteLength).toBe(0);

    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=r.txt`, "first version, longer");
    const second = await host.json("PUT", `/v1/sandboxes/${id}/files/content?path=${enc("./r.txt")}`, "second");
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ path: "/workspace/r.txt", size: 6 });
    expect(readFileSync(join(hostWorkspace(host, id), "r.txt"), "utf8")).toBe("second");
  });

  it("streams a body of unknown length", async () => {
    const id = await newSandbox(host);
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const res = await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=streamed.bin`, streamOf(bytes, 7));
    expect(res.status).toBe(200);
    expect((await res.json()).size).toBe(bytes.byteLength);
    expect(sha256(readFileSync(join(hostWorkspace(host, id), "streamed.bin")))).toBe(sha256(bytes));
  });

  it("never shows a half-written file: readers see the old one, listings hide the temp file", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    expect((await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=atomic.txt`, "old content")).status).toBe(200);

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = new Uint8Array(256 * 1024).fill(0x6e);
    const rest = new Uint8Array(256 * 1024).fill(0x6f);
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (step === 0) controller.enqueue(first);
        else if (step === 1) {
          await gate;
          controller.enqueue(rest);
        } else controller.close();
        step++;
      },
    });
    const pending = host.call("PUT", `/v1/sandboxes/${id}/files/content?path=atomic.txt`, body);
    try {
      await eventually(() => uploadTemps(ws).length === 1);
      // Mid-upload: the old file is intact, and neither the API nor the sandbox sees the temp file.
      const read = await host.call("GET", `/v1/sandboxes/${id}/files/content?path=atomic.txt`);
      expect(await read.text()).toBe("old content");
      const list = await host.json("GET", `/v1/sandboxes/${id}/files?path=/workspace`);
      expect(list.body.entries.map((e: any) => e.name)).toEqual(["atomic.txt"]);
      expect((await host.json("GET", `/v1/sandboxes/${id}/files/stat?path=atomic.txt`)).body.size).toBe(11);
    } finally {
      release();
    }
    const res = await pending;
    expect(res.status).toBe(200);
    expect((await res.json()).size).toBe(512 * 1024);
    const after = readFileSync(join(ws, "atomic.txt"));
    expect(after.byteLength).toBe(512 * 1024);
    expect(after[0]).toBe(0x6e);
    expect(after[after.byteLength - 1]).toBe(0x6f);
    expect(uploadTemps(ws)).toEqual([]);
  });

  it("removes the temp file when the client aborts an upload", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    const abort = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent++ < 2) controller.enqueue(new Uint8Array(128 * 1024).fill(1));
        else await new Promise(() => {}); // stall until aborted
      },
    });
    const pending = fetch(`${host.url}/v1/sandboxes/${id}/files/content?path=aborted.bin`, {
      method: "PUT",
      body,
      duplex: "half",
      signal: abort.signal,
    } as RequestInit).catch((err: unknown) => err);
    await eventually(() => uploadTemps(ws).length === 1);
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    await eventually(() => uploadTemps(ws).length === 0);
    expect(existsSync(join(ws, "aborted.bin"))).toBe(false);
    expect((await host.json("GET", `/v1/sandboxes/${id}/files/stat?path=aborted.bin`)).status).toBe(404);
  });

  it("refuses to write over a directory or /workspace itself", async () => {
    const id = await newSandbox(host);
    await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "adir" });
    await expectError(await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=adir`, "x"), 400, "invalid_request", "PUT dir");
    expect(lstatSync(join(hostWorkspace(host, id), "adir")).isDirectory()).toBe(true);
    await expectError(await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=/workspace`, "x"), 400, "invalid_request", "PUT /workspace");
    await expectError(await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=`, "x"), 400, "invalid_request", "PUT empty path");
    expect(uploadTempsDeep(hostWorkspace(host, id))).toEqual([]);
  });
});

describe("raw read (GET files/content)", () => {
  it("returns identical bytes with Content-Length and a Content-Type from the extension", async () => {
    const id = await newSandbox(host);
    const cases: [string, Uint8Array | string, RegExp][] = [
      ["data.json", '{"a":[1,2,3],"b":"ü"}', /^application\/json(;|$)/],
      ["notes.txt", "hello\nworld\n", /^text\/plain(;|$)/],
      ["page.html", "<p>hi</p>", /^text\/html(;|$)/],
      ["blob.unknownext", randomBytes(5000), /^application\/octet-stream$/],
      ["sub/noext", randomBytes(70_000), /^application\/octet-stream$/],
    ];
    for (const [path, content] of cases) {
      expect((await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc(path)}`, content)).status).toBe(200);
    }
    for (const [path, content, type] of cases) {
      const res = await host.call("GET", `/v1/sandboxes/${id}/files/content?path=${enc(path)}`);
      expect(res.status, path).toBe(200);
      const expected = typeof content === "string" ? Buffer.from(content) : content;
      expect(res.headers.get("content-type"), path).toMatch(type);
      expect(res.headers.get("content-length"), path).toBe(String(expected.byteLength));
      // Served as data, never as a page of this origin: no scripts, no type sniffing.
      expect(res.headers.get("content-security-policy"), path).toBe("sandbox");
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      const got = new Uint8Array(await res.arrayBuffer());
      expect(got.byteLength, path).toBe(expected.byteLength);
      expect(sha256(got), path).toBe(sha256(expected));
    }
    // A file the sandbox wrote reads the same through the API.
    await sh(host, id, "printf 'from inside\\n' > /workspace/inside.txt");
    const inside = await host.call("GET", `/v1/sandboxes/${id}/files/content?path=${enc("/workspace/inside.txt")}`);
    expect(await inside.text()).toBe("from inside\n");
  });

  it("answers 404 for a missing file and 400 for a directory", async () => {
    const id = await newSandbox(host);
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/content?path=missing.txt`), 404, "not_found", "missing");
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/content?path=${enc("no/such/dir/f")}`), 404, "not_found", "missing parents");
    await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "d" });
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/content?path=d`), 400, "invalid_request", "dir");
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/content?path=/workspace`), 400, "invalid_request", "/workspace");
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/content`), 400, "invalid_request", "no path");
  });

  it("refuses a FIFO made in the sandbox with 400 instead of hanging", async () => {
    const id = await newSandbox(host);
    await sh(host, id, "mkfifo /workspace/fifo");
    const started = Date.now();
    const res = await fetch(`${host.url}/v1/sandboxes/${id}/files/content?path=fifo`, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e);
    expect(res).toBeInstanceOf(Response);
    await expectError(res as Response, 400, "invalid_request", "fifo");
    expect(Date.now() - started).toBeLessThan(5000);
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/read`, { path: "fifo" }), 400, "invalid_request", "fifo json");
    // The file API still answers afterwards (no worker thread is stuck in open()).
    expect((await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=ok.txt`, "ok")).status).toBe(200);
  }, 20_000);
});

describe("JSON read and write (POST files/read, files/write)", () => {
  it("round-trips UTF-8 text", async () => {
    const id = await newSandbox(host);
    const text = "héllo wörld ✓ 🚀\nline two\n";
    const written = await host.json("POST", `/v1/sandboxes/${id}/files/write`, { path: "t/hello.txt", content: text, encoding: "utf-8" });
    expect(written.status).toBe(200);
    expect(written.body).toMatchObject({ path: "/workspace/t/hello.txt", name: "hello.txt", type: "file", size: Buffer.byteLength(text), mode: 0o644 });
    expect(readFileSync(join(hostWorkspace(host, id), "t/hello.txt"), "utf8")).toBe(text);

    const read = await host.json("POST", `/v1/sandboxes/${id}/files/read`, { path: "/workspace/t/hello.txt", encoding: "utf-8" });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ path: "/workspace/t/hello.txt", content: text, encoding: "utf-8", size: Buffer.byteLength(text) });

    // encoding defaults to utf-8 on both routes
    expect((await host.json("POST", `/v1/sandboxes/${id}/files/write`, { path: "d.txt", content: "plain" })).body.size).toBe(5);
    expect((await host.json("POST", `/v1/sandboxes/${id}/files/read`, { path: "d.txt" })).body).toEqual({
      path: "/workspace/d.txt",
      content: "plain",
      encoding: "utf-8",
      size: 5,
    });
  });

  it("round-trips every byte value with base64", async () => {
    const id = await newSandbox(host);
    const bytes = new Uint8Array(1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
    const b64 = Buffer.from(bytes).toString("base64");
    const written = await host.json("POST", `/v1/sandboxes/${id}/files/write`, { path: "bin/all.bin", content: b64, encoding: "base64" });
    expect(written.status).toBe(200);
    expect(written.body).toMatchObject({ path: "/workspace/bin/all.bin", type: "file", size: 1024 });
    expect(sha256(readFileSync(join(hostWorkspace(host, id), "bin/all.bin")))).toBe(sha256(bytes));

    const raw = await host.call("GET", `/v1/sandboxes/${id}/files/content?path=${enc("bin/all.bin")}`);
    expect(sha256(new Uint8Array(await raw.arrayBuffer()))).toBe(sha256(bytes));

    const read = await host.json("POST", `/v1/sandboxes/${id}/files/read`, { path: "bin/all.bin", encoding: "base64" });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ path: "/workspace/bin/all.bin", content: b64, encoding: "base64", size: 1024 });

    // A raw upload reads back through JSON as the same base64.
    const upload = randomBytes(777);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=up.bin`, upload);
    expect((await host.json("POST", `/v1/sandboxes/${id}/files/read`, { path: "up.bin", encoding: "base64" })).body.content).toBe(
      upload.toString("base64"),
    );
  });

  it("rejects invalid base64 and writes nothing", async () => {
    const id = await newSandbox(host);
    for (const content of ["not base64!", "abc", "a===", "Zm9v=YmFy"]) {
      const res = await host.call("POST", `/v1/sandboxes/${id}/files/write`, { path: "bad.bin", content, encoding: "base64" });
      const error = await expectError(res, 400, "invalid_request", `base64 ${content}`);
      expect(error.message).toMatch(/base64/);
    }
    expect(existsSync(join(hostWorkspace(host, id), "bad.bin"))).toBe(false);
    await expectError(
      await host.call("POST", `/v1/sandboxes/${id}/files/write`, { path: "x", content: "x", encoding: "latin1" }),
      400,
      "invalid_request",
      "bad encoding",
    );
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/write`, { path: "x" }), 400, "invalid_request", "no content");
  });

  it("refuses to decode non-UTF-8 bytes as text and points to base64", async () => {
    const id = await newSandbox(host);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=latin.txt`, new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0xff, 0xfe]));
    const error = await expectError(
      await host.call("POST", `/v1/sandboxes/${id}/files/read`, { path: "latin.txt", encoding: "utf-8" }),
      400,
      "invalid_request",
      "non-utf8",
    );
    expect(error.message).toMatch(/base64/);
    expect(error.message).toContain("/workspace/latin.txt");
    const b64 = await host.json("POST", `/v1/sandboxes/${id}/files/read`, { path: "latin.txt", encoding: "base64" });
    expect(b64.body.content).toBe(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff, 0xfe]).toString("base64"));
  });

  it("answers 404 for a missing file and 400 for a directory", async () => {
    const id = await newSandbox(host);
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/read`, { path: "nope.txt" }), 404, "not_found", "missing");
    await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "dir" });
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/read`, { path: "dir" }), 400, "invalid_request", "read dir");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/write`, { path: "dir", content: "x" }), 400, "invalid_request", "write dir");
    expect(lstatSync(join(hostWorkspace(host, id), "dir")).isDirectory()).toBe(true);
  });
});

describe("list (GET files)", () => {
  it("lists one level sorted, or the whole tree with paths", async () => {
    const id = await newSandbox(host);
    for (const [path, content] of [
      ["b.txt", "bb"],
      ["a.txt", "a"],
      ["dir/c.txt", "ccc"],
      ["dir/sub/d.txt", "dddd"],
      ["Z.txt", "Z"],
    ]) {
      expect((await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc(path!)}`, content)).status).toBe(200);
    }
    await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "empty" });

    const top = await host.json("GET", `/v1/sandboxes/${id}/files?path=${enc("/workspace")}`);
    expect(top.status).toBe(200);
    expect(top.body.truncated).toBe(false);
    expect(top.body.entries.map((e: any) => [e.path, e.name, e.type])).toEqual([
      ["/workspace/Z.txt", "Z.txt", "file"],
      ["/workspace/a.txt", "a.txt", "file"],
      ["/workspace/b.txt", "b.txt", "file"],
      ["/workspace/dir", "dir", "directory"],
      ["/workspace/empty", "empty", "directory"],
    ]);
    expect(top.body.entries.find((e: any) => e.name === "b.txt")).toMatchObject({ size: 2, mode: 0o644, modifiedAt: expect.any(String) });

    // path defaults to /workspace
    expect((await host.json("GET", `/v1/sandboxes/${id}/files`)).body).toEqual(top.body);

    const all = await host.json("GET", `/v1/sandboxes/${id}/files?path=/workspace&recursive=true`);
    expect(all.status).toBe(200);
    expect(all.body.entries.map((e: any) => `${e.type}:${e.path}:${e.type === "file" ? e.size : "-"}`)).toEqual([
      "file:/workspace/Z.txt:1",
      "file:/workspace/a.txt:1",
      "file:/workspace/b.txt:2",
      "directory:/workspace/dir:-",
      "directory:/workspace/empty:-",
      "file:/workspace/dir/c.txt:3",
      "directory:/workspace/dir/sub:-",
      "file:/workspace/dir/sub/d.txt:4",
    ]);

    const sub = await host.json("GET", `/v1/sandboxes/${id}/files?path=dir&recursive=1`);
    expect(sub.body.entries.map((e: any) => e.path)).toEqual(["/workspace/dir/c.txt", "/workspace/dir/sub", "/workspace/dir/sub/d.txt"]);
    const flat = await host.json("GET", `/v1/sandboxes/${id}/files?path=dir&recursive=false`);
    expect(flat.body.entries.map((e: any) => e.path)).toEqual(["/workspace/dir/c.txt", "/workspace/dir/sub"]);
    expect((await host.json("GET", `/v1/sandboxes/${id}/files?path=empty`)).body).toEqual({ entries: [], truncated: false });
  });

  it("answers 404 for a missing directory and 400 for a file or a bad flag", async () => {
    const id = await newSandbox(host);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=f.txt`, "f");
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files?path=nodir`), 404, "not_found", "missing");
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files?path=f.txt`), 400, "invalid_request", "file");
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files?path=/workspace&recursive=yes`), 400, "invalid_request", "flag");
  });
});

describe("stat (GET files/stat)", () => {
  it("describes files, directories, symlinks and /workspace", async () => {
    const id = await newSandbox(host);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc("s/f.txt")}`, "12345");
    await sh(host, id, "chmod 600 /workspace/s/f.txt && ln -s s/f.txt /workspace/lnk");
    const file = await host.json("GET", `/v1/sandboxes/${id}/files/stat?path=${enc("s/f.txt")}`);
    expect(file.status).toBe(200);
    expect(file.body).toEqual({ path: "/workspace/s/f.txt", name: "f.txt", type: "file", size: 5, mode: 0o600, modifiedAt: expect.any(String) });
    const hostMtime = lstatSync(join(hostWorkspace(host, id), "s/f.txt")).mtime.toISOString();
    expect(file.body.modifiedAt).toBe(hostMtime);

    const dir = await host.json("GET", `/v1/sandboxes/${id}/files/stat?path=s`);
    expect(dir.body).toMatchObject({ path: "/workspace/s", name: "s", type: "directory" });
    const root = await host.json("GET", `/v1/sandboxes/${id}/files/stat?path=/workspace`);
    expect(root.body).toMatchObject({ path: "/workspace", name: "workspace", type: "directory" });
    const link = await host.json("GET", `/v1/sandboxes/${id}/files/stat?path=lnk`);
    expect(link.body).toMatchObject({ path: "/workspace/lnk", name: "lnk", type: "symlink", size: "s/f.txt".length });
  });

  it("answers 404 for a missing path", async () => {
    const id = await newSandbox(host);
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/stat?path=ghost`), 404, "not_found", "missing");
    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/stat?path=${enc("ghost/deeper")}`), 404, "not_found", "missing parent");
  });
});

describe("mkdir (POST files/mkdir)", () => {
  it("creates one directory, or a whole chain with recursive", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    const one = await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "one" });
    expect(one.status).toBe(201);
    expect(one.body).toMatchObject({ path: "/workspace/one", name: "one", type: "directory" });
    expect(lstatSync(join(ws, "one")).isDirectory()).toBe(true);

    const chain = await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "/workspace/a/b/c", recursive: true });
    expect(chain.status).toBe(201);
    expect(chain.body).toMatchObject({ path: "/workspace/a/b/c", name: "c", type: "directory" });
    expect(lstatSync(join(ws, "a/b/c")).isDirectory()).toBe(true);

    // recursive: no error when it exists
    const again = await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "a/b", recursive: true });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ path: "/workspace/a/b", type: "directory" });
    expect(readdirSync(join(ws, "a/b"))).toEqual(["c"]);
    expect((await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "/workspace", recursive: true })).body).toMatchObject({
      path: "/workspace",
      type: "directory",
    });
  });

  it("answers 409 for an existing path and 404 for a missing parent without recursive", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "exists" });
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=file.txt`, "keep");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "exists", recursive: false }), 409, "conflict", "dir exists");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "file.txt" }), 409, "conflict", "file exists");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "/workspace" }), 409, "conflict", "/workspace");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "no/parent" }), 404, "not_found", "missing parent");
    expect(existsSync(join(ws, "no"))).toBe(false);
    expect(readFileSync(join(ws, "file.txt"), "utf8")).toBe("keep");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "x", recursive: "yes" }), 400, "invalid_request", "bad flag");
  });
});

describe("move (POST files/move)", () => {
  it("renames a file into new parents and answers its FileInfo", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=src.txt`, "payload");
    const moved = await host.json("POST", `/v1/sandboxes/${id}/files/move`, { from: "src.txt", to: "/workspace/new/parent/dst.txt" });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ path: "/workspace/new/parent/dst.txt", name: "dst.txt", type: "file", size: 7 });
    expect(existsSync(join(ws, "src.txt"))).toBe(false);
    expect(readFileSync(join(ws, "new/parent/dst.txt"), "utf8")).toBe("payload");

    // a directory moves with its contents
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc("tree/leaf.txt")}`, "leaf");
    const dir = await host.json("POST", `/v1/sandboxes/${id}/files/move`, { from: "tree", to: "moved-tree" });
    expect(dir.status).toBe(200);
    expect(dir.body).toMatchObject({ path: "/workspace/moved-tree", type: "directory" });
    expect(readFileSync(join(ws, "moved-tree/leaf.txt"), "utf8")).toBe("leaf");
    expect(existsSync(join(ws, "tree"))).toBe(false);
  });

  it("answers 409 when the target exists unless overwrite is true", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=a.txt`, "AAA");
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=b.txt`, "B");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "a.txt", to: "b.txt" }), 409, "conflict", "default");
    await expectError(
      await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "a.txt", to: "b.txt", overwrite: false }),
      409,
      "conflict",
      "overwrite false",
    );
    expect(readFileSync(join(ws, "a.txt"), "utf8")).toBe("AAA");
    expect(readFileSync(join(ws, "b.txt"), "utf8")).toBe("B");

    const replaced = await host.json("POST", `/v1/sandboxes/${id}/files/move`, { from: "a.txt", to: "b.txt", overwrite: true });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ path: "/workspace/b.txt", size: 3 });
    expect(readFileSync(join(ws, "b.txt"), "utf8")).toBe("AAA");
    expect(existsSync(join(ws, "a.txt"))).toBe(false);
  });

  it("answers 400 for moving a directory into itself, 404 for a missing source, 403 for /workspace", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc("d/sub/f.txt")}`, "f");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "d", to: "d/sub/inner" }), 400, "invalid_request", "into itself");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "d", to: "d/x" }), 400, "invalid_request", "into itself 2");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "d", to: "/workspace/d", overwrite: true }), 400, "invalid_request", "onto itself");
    expect(readFileSync(join(ws, "d/sub/f.txt"), "utf8")).toBe("f");
    expect(existsSync(join(ws, "d/sub/inner"))).toBe(false);

    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "ghost", to: "x" }), 404, "not_found", "missing");
    expect(existsSync(join(ws, "x"))).toBe(false);
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "/workspace", to: "w2" }), 403, "forbidden", "move root");
    await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "d", to: "/workspace", overwrite: true }), 403, "forbidden", "onto root");
    expect(readFileSync(join(ws, "d/sub/f.txt"), "utf8")).toBe("f");
  });
});

describe("delete (DELETE files)", () => {
  it("deletes files, empty directories and, with recursive, whole trees", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=f.txt`, "f");
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc("full/a/b.txt")}`, "b");
    await host.json("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: "empty" });

    const file = await host.call("DELETE", `/v1/sandboxes/${id}/files?path=f.txt`);
    expect(file.status).toBe(204);
    expect(await file.text()).toBe("");
    expect(existsSync(join(ws, "f.txt"))).toBe(false);

    expect((await host.call("DELETE", `/v1/sandboxes/${id}/files?path=${enc("/workspace/empty")}`)).status).toBe(204);
    expect(existsSync(join(ws, "empty"))).toBe(false);

    await expectError(await host.call("DELETE", `/v1/sandboxes/${id}/files?path=full`), 409, "conflict", "non-empty");
    await expectError(await host.call("DELETE", `/v1/sandboxes/${id}/files?path=full&recursive=false`), 409, "conflict", "non-empty false");
    expect(readFileSync(join(ws, "full/a/b.txt"), "utf8")).toBe("b");
    expect((await host.call("DELETE", `/v1/sandboxes/${id}/files?path=full&recursive=true`)).status).toBe(204);
    expect(existsSync(join(ws, "full"))).toBe(false);
    expect(readdirSync(ws)).toEqual([]);
  });

  it("answers 404 for a missing path and 403 for /workspace itself", async () => {
    const id = await newSandbox(host);
    const ws = hostWorkspace(host, id);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=keep.txt`, "keep");
    await expectError(await host.call("DELETE", `/v1/sandboxes/${id}/files?path=ghost`), 404, "not_found", "missing");
    for (const path of ["/workspace", "/workspace/", ".", "/workspace/sub/..", "./"]) {
      await expectError(await host.call("DELETE", `/v1/sandboxes/${id}/files?path=${enc(path)}&recursive=true`), 403, "forbidden", `delete ${path}`);
    }
    expect(readFileSync(join(ws, "keep.txt"), "utf8")).toBe("keep");
    await expectError(await host.call("DELETE", `/v1/sandboxes/${id}/files`), 400, "invalid_request", "no path");
  });
});

describe("unknown sandbox", () => {
  it("answers 404 not_found on every file route", async () => {
    const base = "/v1/sandboxes/sb-doesnotexist/files";
    const calls: [string, string, unknown?][] = [
      ["GET", `${base}/content?path=a.txt`],
      ["PUT", `${base}/content?path=a.txt`, "data"],
      ["POST", `${base}/read`, { path: "a.txt" }],
      ["POST", `${base}/write`, { path: "a.txt", content: "x" }],
      ["GET", `${base}?path=/workspace`],
      ["GET", `${base}/stat?path=a.txt`],
      ["POST", `${base}/mkdir`, { path: "d" }],
      ["POST", `${base}/move`, { from: "a", to: "b" }],
      ["DELETE", `${base}?path=a.txt`],
    ];
    for (const [method, path, body] of calls) {
      const error = await expectError(await host.call(method, path, body), 404, "not_found", `${method} ${path}`);
      expect(error.message).toContain("sb-doesnotexist");
    }
    expect(existsSync(join(realpathSync(host.dataDir), "sandboxes", "sb-doesnotexist"))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// escapes

describe("traversal outside /workspace", () => {
  const tag = randomBytes(6).toString("hex");
  const victimDir = `/tmp/sandgate-victim-${tag}`;
  const victimFile = `${victimDir}/file.txt`;
  let passwdHash: string;
  let id: string;
  let ws: string;
  let bad: string[];

  beforeAll(async () => {
    mkdirSync(victimDir);
    writeFileSync(victimFile, "victim");
    passwdHash = sha256(readFileSync("/etc/passwd"));
    id = await newSandbox(host);
    ws = hostWorkspace(host, id);
    await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=src.txt`, "source");
    // `..` enough times that a naive join with the host's workspace directory lands on the victim.
    const up = "../".repeat(ws.split("/").filter(Boolean).length);
    bad = [
      "/etc/passwd",
      "../../x",
      "/workspace/../etc",
      "/workspace/../etc/passwd",
      "..",
      "/",
      "/workspacex/a",
      victimFile,
      `${up}${victimFile.slice(1)}`,
      `/workspace/${up}${victimFile.slice(1)}`,
      `sub/../../${up}${victimFile.slice(1)}`,
    ];
  });
  afterAll(() => rmSync(victimDir, { recursive: true, force: true }));

  function untouched() {
    expect(sha256(readFileSync("/etc/passwd"))).toBe(passwdHash);
    expect(readdirSync(victimDir)).toEqual(["file.txt"]);
    expect(readFileSync(victimFile, "utf8")).toBe("victim");
    // where a naive join of the workspace with `../../x` or `../etc` would land
    expect(existsSync(resolve(ws, "../../x"))).toBe(false);
    expect(existsSync(resolve(ws, "../etc"))).toBe(false);
    expect(existsSync(resolve(ws, "../../../x"))).toBe(false);
    expect(readdirSync(ws).sort()).toEqual(["src.txt"]);
    expect(readFileSync(join(ws, "src.txt"), "utf8")).toBe("source");
  }

  async function refused(what: string, res: Response) {
    const error = await expectError(res, 403, "forbidden", what);
    expect(error.message).not.toContain("root:");
  }

  it("read raw", async () => {
    for (const p of bad) await refused(`GET content ${p}`, await host.call("GET", `/v1/sandboxes/${id}/files/content?path=${enc(p)}`));
    untouched();
  });

  it("write raw", async () => {
    for (const p of bad) await refused(`PUT content ${p}`, await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc(p)}`, "pwned"));
    for (const p of bad) {
      await refused(`PUT new ${p}`, await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc(`${p}/new-${tag}`)}`, "pwned"));
    }
    untouched();
    expect(existsSync(`/tmp/new-${tag}`)).toBe(false);
  });

  it("read json", async () => {
    for (const p of bad) await refused(`read ${p}`, await host.call("POST", `/v1/sandboxes/${id}/files/read`, { path: p }));
    for (const p of bad) await refused(`read b64 ${p}`, await host.call("POST", `/v1/sandboxes/${id}/files/read`, { path: p, encoding: "base64" }));
    untouched();
  });

  it("write json", async () => {
    for (const p of bad) await refused(`write ${p}`, await host.call("POST", `/v1/sandboxes/${id}/files/write`, { path: p, content: "pwned" }));
    untouched();
  });

  it("list", async () => {
    for (const p of [...bad, victimDir]) {
      await refused(`list ${p}`, await host.call("GET", `/v1/sandboxes/${id}/files?path=${enc(p)}&recursive=true`));
    }
    untouched();
  });

  it("stat", async () => {
    for (const p of [...bad, victimDir]) await refused(`stat ${p}`, await host.call("GET", `/v1/sandboxes/${id}/files/stat?path=${enc(p)}`));
    untouched();
  });

  it("mkdir", async () => {
    for (const p of bad) {
      await refused(`mkdir ${p}`, await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: p, recursive: true }));
      await refused(`mkdir sub ${p}`, await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: `${p}/made-${tag}`, recursive: true }));
    }
    untouched();
    expect(existsSync(`/tmp/made-${tag}`)).toBe(false);
  });

  it("move from", async () => {
    for (const p of [...bad, victimDir]) {
      await refused(`move from ${p}`, await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: p, to: `moved-${tag}`, overwrite: true }));
    }
    untouched();
  });

  it("move to", async () => {
    for (const p of bad) {
      await refused(`move to ${p}`, await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "src.txt", to: p, overwrite: true }));
      await refused(`move to new ${p}`, await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "src.txt", to: `${p}/m-${tag}` }));
    }
    untouched();
  });

  it("delete", async () => {
    for (const p of [...bad, victimDir]) {
      await refused(`delete ${p}`, await host.call("DELETE", `/v1/sandboxes/${id}/files?path=${enc(p)}&recursive=true`));
    }
    untouched();
  });
});

describe("symlinks made inside the sandbox", () => {
  const tag = randomBytes(6).toString("hex");
  const victimDir = `/tmp/sandgate-victim-${tag}`;
  const escape = `sandgate-escape-${tag}`;
  let passwdHash: string;
  let id: string;
  let ws: string;
  let sandboxTmp: string;

  beforeAll(async () => {
    mkdirSync(victimDir);
    writeFileSync(join(victimDir, "file.txt"), "victim");
    passwdHash = sha256(readFileSync("/etc/passwd"));
    id = await newSandbox(host);
    ws = hostWorkspace(host, id);
    sandboxTmp = join(ws, "..", "tmp");
    const up = "../".repeat(12);
    await sh(
      host,
      id,
      [
        "ln -s /etc/passwd /workspace/link",
        "ln -s ../../../etc/passwd /workspace/rel",
        "ln -s / /workspace/rootlink",
        "ln -s /tmp /workspace/t",
        // relative: followed naively on the host it would reach the host's victim directory
        `ln -s ${up}${victimDir.slice(1)} /workspace/relvictim`,
        `ln -s ${victimDir} /workspace/absvictim`,
        "mkdir -p /workspace/sub/deeper",
        "printf 'inside\\n' > /workspace/sub/real.txt",
        "ln -s /workspace/sub/real.txt /workspace/inabs",
        "ln -s sub/real.txt /workspace/inrel",
        "ln -s sub /workspace/insub",
        "ln -s ../real.txt /workspace/sub/deeper/up",
        "ln -s ../../.. /workspace/sub/deeper/escape",
        "ln -s loop1 /workspace/loop2 && ln -s loop2 /workspace/loop1",
        "printf 'source\\n' > /workspace/src.txt",
      ].join(" && "),
    );
  });
  afterAll(() => rmSync(victimDir, { recursive: true, force: true }));

  const outside = [
    "link",
    "rel",
    "rootlink/etc/passwd",
    "/workspace/rootlink/etc/passwd",
    "t/anything",
    "relvictim/file.txt",
    "absvictim/file.txt",
    "insub/deeper/escape/etc/passwd",
    "sub/deeper/escape/etc/passwd",
  ];

  function untouched() {
    expect(sha256(readFileSync("/etc/passwd"))).toBe(passwdHash);
    expect(readdirSync(victimDir)).toEqual(["file.txt"]);
    expect(readFileSync(join(victimDir, "file.txt"), "utf8")).toBe("victim");
    expect(existsSync(`/tmp/${escape}`)).toBe(false);
    expect(existsSync(join(sandboxTmp, escape))).toBe(false);
    expect(existsSync(`/${escape}`)).toBe(false);
    expect(lstatSync(join(ws, "link")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(ws, "rootlink")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(ws, "src.txt"), "utf8")).toBe("source\n");
  }

  it("refuses reads through links that leave /workspace", async () => {
    for (const p of outside) {
      const raw = await host.call("GET", `/v1/sandboxes/${id}/files/content?path=${enc(p)}`);
      const error = await expectError(raw, 403, "forbidden", `GET ${p}`);
      expect(error.message).not.toContain("root:");
      await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/read`, { path: p }), 403, "forbidden", `read ${p}`);
      await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/read`, { path: p, encoding: "base64" }), 403, "forbidden", `read64 ${p}`);
    }
    untouched();
  });

  it("refuses writes through links, and never creates a file outside the data dir", async () => {
    const targets = [...outside, `t/${escape}`, `rootlink/tmp/${escape}`, `rootlink/${escape}`, `relvictim/${escape}`, `absvictim/file.txt`];
    for (const p of targets) {
      await expectError(await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc(p)}`, "pwned"), 403, "forbidden", `PUT ${p}`);
      await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/write`, { path: p, content: "pwned" }), 403, "forbidden", `write ${p}`);
    }
    untouched();
    expect(existsSync(join(victimDir, escape))).toBe(false);
    expect(uploadTempsDeep(ws)).toEqual([]);
    expect(uploadTemps("/tmp")).toEqual([]);
    expect(uploadTemps(victimDir)).toEqual([]);
  });

  it("refuses list, stat-through, mkdir, move and delete through links", async () => {
    for (const p of ["rootlink", "rootlink/etc", "t", "relvictim", "absvictim", "sub/deeper/escape", "insub/deeper/escape/tmp"]) {
      await expectError(await host.call("GET", `/v1/sandboxes/${id}/files?path=${enc(p)}`), 403, "forbidden", `list ${p}`);
    }
    for (const p of ["rootlink/etc/passwd", "t/x", "relvictim/file.txt", "absvictim/file.txt", "sub/deeper/escape/etc"]) {
      await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/stat?path=${enc(p)}`), 403, "forbidden", `stat ${p}`);
    }
    for (const p of [`t/${escape}`, `rootlink/tmp/${escape}`, `relvictim/${escape}`]) {
      await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: p, recursive: true }), 403, "forbidden", `mkdir ${p}`);
      await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/mkdir`, { path: p }), 403, "forbidden", `mkdir1 ${p}`);
    }
    for (const p of ["rootlink/etc/passwd", "relvictim/file.txt", "absvictim/file.txt", "sub/deeper/escape/etc/passwd"]) {
      await expectError(await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: p, to: "stolen" }), 403, "forbidden", `move from ${p}`);
    }
    expect(existsSync(join(ws, "stolen"))).toBe(false);
    for (const p of ["link", "rel", `t/${escape}`, `rootlink/tmp/${escape}`, "relvictim/file.txt", "absvictim/file.txt"]) {
      await expectError(
        await host.call("POST", `/v1/sandboxes/${id}/files/move`, { from: "src.txt", to: p, overwrite: true }),
        403,
        "forbidden",
        `move to ${p}`,
      );
    }
    for (const p of ["rootlink/etc/passwd", "relvictim/file.txt", "absvictim/file.txt", "rootlink/tmp", `t/${escape}`, "sub/deeper/escape/tmp"]) {
      await expectError(await host.call("DELETE", `/v1/sandboxes/${id}/files?path=${enc(p)}&recursive=true`), 403, "forbidden", `delete ${p}`);
    }
    untouched();
  });

  it("treats the links themselves as entries: listed and stat'd unfollowed", async () => {
    const list = await host.json("GET", `/v1/sandboxes/${id}/files?path=/workspace&recursive=true`);
    expect(list.status).toBe(200);
    const byPath = new Map<string, any>(list.body.entries.map((e: any) => [e.path, e]));
    expect(byPath.get("/workspace/link")).toMatchObject({ type: "symlink", size: "/etc/passwd".length });
    expect(byPath.get("/workspace/rootlink")).toMatchObject({ type: "symlink", size: 1 });
    // symlinked directories are not entered
    expect([...byPath.keys()].filter((p) => p.startsWith("/workspace/rootlink/") || p.startsWith("/workspace/insub/"))).toEqual([]);
    const stat = await host.json("GET", `/v1/sandboxes/${id}/files/stat?path=link`);
    expect(stat.body).toMatchObject({ path: "/workspace/link", type: "symlink", size: "/etc/passwd".length });
    untouched();
  });

  it("follows links that stay inside /workspace", async () => {
    for (const p of ["inabs", "inrel", "insub/real.txt", "sub/deeper/up", "/workspace/insub/deeper/up"]) {
      const res = await host.call("GET", `/v1/sandboxes/${id}/files/content?path=${enc(p)}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get("content-length"), p).toBe("7");
      expect(await res.text(), p).toBe("inside\n");
      const json = await host.json("POST", `/v1/sandboxes/${id}/files/read`, { path: p });
      expect(json.body, p).toMatchObject({ content: "inside\n", size: 7 });
    }
    const list = await host.json("GET", `/v1/sandboxes/${id}/files?path=insub`);
    expect(list.body.entries.map((e: any) => e.path)).toEqual(["/workspace/insub/deeper", "/workspace/insub/real.txt"]);

    // A write through an inside link replaces the target and keeps the link.
    const written = await host.json("PUT", `/v1/sandboxes/${id}/files/content?path=inrel`, "updated");
    expect(written.status).toBe(200);
    expect(readFileSync(join(ws, "sub/real.txt"), "utf8")).toBe("updated");
    expect(lstatSync(join(ws, "inrel")).isSymbolicLink()).toBe(true);
    expect(await sh(host, id, "cat /workspace/inabs")).toBe("updated");

    await expectError(await host.call("GET", `/v1/sandboxes/${id}/files/content?path=loop1`), 400, "invalid_request", "loop");
    untouched();
  });

  it("deletes a link itself, not what it points at", async () => {
    expect((await host.call("DELETE", `/v1/sandboxes/${id}/files?path=link`)).status).toBe(204);
    expect(existsSync(join(ws, "link"))).toBe(false);
    expect(sha256(readFileSync("/etc/passwd"))).toBe(passwdHash);
    expect((await host.call("DELETE", `/v1/sandboxes/${id}/files?path=absvictim`)).status).toBe(204);
    expect(readFileSync(join(victimDir, "file.txt"), "utf8")).toBe("victim");
  });
});

// ---------------------------------------------------------------------------------------------
// limits and large files

describe("size limits", () => {
  let small: TestHost;
  let id: string;
  let ws: string;
  beforeAll(async () => {
    small = await startHost({ env: { SANDGATE_MAX_FILE_BYTES: "1048576", SANDGATE_MAX_JSON_FILE_BYTES: "65536" } });
    id = await newSandbox(small);
    ws = hostWorkspace(small, id);
  });
  afterAll(async () => {
    await small?.stop();
    if (small) removeDir(small.dataDir);
  });

  it("accepts exactly the limit", async () => {
    const res = await small.call("PUT", `/v1/sandboxes/${id}/files/content?path=exact.bin`, new Uint8Array(1048576).fill(7));
    expect(res.status).toBe(200);
    expect((await res.json()).size).toBe(1048576);
    expect(lstatSync(join(ws, "exact.bin")).size).toBe(1048576);
  });

  it("answers 413 for a 2 MiB body with Content-Length", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await small.call("PUT", `/v1/sandboxes/${id}/files/content?path=${enc("big/with-length.bin")}`, new Uint8Array(2 * 1048576).fill(1));
      const error = await expectError(res, 413, "payload_too_large", `content-length #${i}`);
      expect(error.details).toEqual({ limitBytes: 1048576 });
    }
    expect(existsSync(join(ws, "big/with-length.bin"))).toBe(false);
    expect(uploadTempsDeep(ws)).toEqual([]);
  });

  it("answers 413 for a streamed body of unknown length", async () => {
    // Several times over one keep-alive connection: the client must get the 413, never a reset.
    for (let i = 0; i < 10; i++) {
      const body = streamOf(new Uint8Array(2 * 1048576).fill(2), 32);
      const res = await small.call("PUT", `/v1/sandboxes/${id}/files/content?path=streamed.bin`, body);
      const error = await expectError(res, 413, "payload_too_large", `streamed #${i}`);
      expect(error.details).toEqual({ limitBytes: 1048576 });
      expect(existsSync(join(ws, "streamed.bin"))).toBe(false);
    }
    await eventually(() => uploadTempsDeep(ws).length === 0);
    // one byte over, streamed, also fails; the old file at that path stays
    await small.call("PUT", `/v1/sandboxes/${id}/files/content?path=keep.bin`, "keep");
    const over = await small.call("PUT", `/v1/sandboxes/${id}/files/content?path=keep.bin`, streamOf(new Uint8Array(1048577), 3));
    await expectError(over, 413, "payload_too_large", "one over");
    expect(readFileSync(join(ws, "keep.bin"), "utf8")).toBe("keep");
    await eventually(() => uploadTempsDeep(ws).length === 0);
    // and the host still serves
    expect((await small.json("GET", `/v1/sandboxes/${id}/files/stat?path=exact.bin`)).body.size).toBe(1048576);
  });

  it("limits the JSON routes to SANDGATE_MAX_JSON_FILE_BYTES", async () => {
    await small.call("PUT", `/v1/sandboxes/${id}/files/content?path=medium.txt`, "m".repeat(100_000));
    await expectError(await small.call("POST", `/v1/sandboxes/${id}/files/read`, { path: "medium.txt" }), 413, "payload_too_large", "json read");
    await expectError(
      await small.call("POST", `/v1/sandboxes/${id}/files/write`, { path: "jw.txt", content: "w".repeat(70_000) }),
      413,
      "payload_too_large",
      "json write",
    );
    expect(existsSync(join(ws, "jw.txt"))).toBe(false);
    const fits = await small.json("POST", `/v1/sandboxes/${id}/files/write`, { path: "jw.txt", content: "w".repeat(60_000) });
    expect(fits.status).toBe(200);
    expect(fits.body.size).toBe(60_000);
  });
});

describe("large files", () => {
  it("round-trips 100 MiB byte for byte while the host's memory stays flat", async () => {
    const big = await startHost();
    try {
      const id = await newSandbox(big);
      const path = `/v1/sandboxes/${id}/files/content?path=${enc("large/big.bin")}`;
      // warm up the routes so their one-time allocations are not counted
      const warm = prngStream(4, 1024 * 1024, 7);
      expect((await big.call("PUT", `/v1/sandboxes/${id}/files/content?path=warm.bin`, warm.stream)).status).toBe(200);
      await (await big.call("GET", `/v1/sandboxes/${id}/files/content?path=warm.bin`)).arrayBuffer();

      const baseline = big.rss();
      let peak = baseline;
      const sampler = rssSampler(big.pid, 50);
      const timer = setInterval(() => (peak = Math.max(peak, big.rss())), 50);
      let upHash: string;
      let downHash: string;
      let downBytes = 0;
      let response: Response;
      const started = Date.now();
      try {
        const upload = prngStream(100, 1024 * 1024, 0x5eed);
        const put = await big.call("PUT", path, upload.stream);
        const putBody = await put.text();
        expect(put.status, putBody).toBe(200);
        expect(JSON.parse(putBody)).toMatchObject({ path: "/workspace/large/big.bin", type: "file", size: 100 * 1024 * 1024 });
        expect(upload.bytes()).toBe(100 * 1024 * 1024);
        upHash = upload.digest();

        response = await big.call("GET", path);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-length")).toBe(String(100 * 1024 * 1024));
        expect(response.headers.get("content-type")).toBe("application/octet-stream");
        const hash = createHash("sha256");
        const reader = response.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          hash.update(value);
          downBytes += value.byteLength;
        }
        downHash = hash.digest("hex");
      } finally {
        clearInterval(timer);
      }
      const elapsed = Date.now() - started;
      const sampled = await sampler.stop();
      peak = Math.max(peak, sampled.peak, big.rss());

      expect(downBytes).toBe(100 * 1024 * 1024);
      expect(downHash).toBe(upHash);
      const onHost = await hashHostFile(join(hostWorkspace(big, id), "large/big.bin"));
      expect(onHost).toEqual({ hash: upHash, size: 100 * 1024 * 1024 });
      expect(uploadTempsDeep(hostWorkspace(big, id))).toEqual([]);
      expect(sampled.samples, `only ${sampled.samples} RSS samples in ${elapsed} ms`).toBeGreaterThanOrEqual(Math.floor(elapsed / 100));
      expect(sampled.peak).toBeGreaterThan(0);
      const growth = peak - baseline;
      expect(growth, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB (baseline ${(baseline / 1048576).toFixed(1)} MiB)`).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await big.stop();
      removeDir(big.dataDir);
    }
  }, 180_000);
});
