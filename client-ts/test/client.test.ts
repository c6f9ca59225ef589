/**
 * The ergonomic TypeScript client against a real Node host (real bubblewrap sandboxes): every method,
 * buffered and streamed exec, files in every body shape, and errors as typed SandgateErrors.
 */
import { describe, expect, it } from "vitest";
import { SandgateError, createSandgateClient, type ExecEvent, type Sandbox } from "../src/index.ts";
import { BEATER, TOKEN, UNTIL_STOPPED, expectSandgateError, useHost } from "./helpers.ts";

const { host, client } = useHost();

async function collect(events: AsyncIterable<ExecEvent>): Promise<ExecEvent[]> {
  const out: ExecEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

async function fresh(labels: Record<string, string> = {}): Promise<Sandbox> {
  return client().sandboxes.create({ labels });
}

describe("service", () => {
  it("health answers ok with version and backend", async () => {
    const health = await client().health();
    expect(health.ok).toBe(true);
    expect(health.backend).toBe("local");
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("sends the token, and a wrong one is unauthorized", async () => {
    const wrong = createSandgateClient({ baseUrl: host().url, token: "not-the-token" });
    const error = await expectSandgateError(wrong.sandboxes.list(), "unauthorized", 401);
    expect(error.details).toBeUndefined();
    const none = createSandgateClient({ baseUrl: host().url });
    await expectSandgateError(none.sandboxes.create(), "unauthorized", 401);
    // health is public: no token needed
    expect((await none.health()).ok).toBe(true);
  });

  it("calls through a custom fetch, with a trailing slash on the base URL", async () => {
    const seen: string[] = [];
    const custom = createSandgateClient({
      baseUrl: `${host().url}/`,
      token: TOKEN,
      headers: { "x-test": "1" },
      fetch: (request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("x-test")} ${request.headers.get("authorization")}`);
        return fetch(request);
      },
    });
    await custom.sandboxes.list({ limit: 1 });
    expect(seen).toEqual([`GET /v1/sandboxes 1 Bearer ${TOKEN}`]);
  });
});

describe("sandboxes", () => {
  it("create, get, list by label, update, delete", async () => {
    const id = `ts-${Date.now().toString(36)}`;
    const sb = await client().sandboxes.create({ id, ttlSeconds: 600, labels: { suite: "client-ts", run: id } });
    expect(sb.id).toBe(id);
    expect(sb.info).toMatchObject({ id, status: "ready", labels: { suite: "client-ts", run: id } });
    const expires = Date.parse(sb.info.expiresAt) - Date.parse(sb.info.createdAt);
    expect(expires).toBeGreaterThan(590_000);
    expect(expires).toBeLessThanOrEqual(600_000);

    const got = await client().sandboxes.get(id);
    expect(got).toEqual(sb.info);

    const listed = await client().sandboxes.list({ label: `run:${id}` });
    expect(listed.sandboxes.map((s) => s.id)).toEqual([id]);
    expect(listed.nextCursor).toBeNull();
    // several labels must all match
    expect((await client().sandboxes.list({ label: [`run:${id}`, "suite:other"] })).sandboxes).toEqual([]);

    const extended = await client().sandboxes.update(id, { extendBySeconds: 100 });
    expect(Date.parse(extended.expiresAt) - Date.parse(sb.info.expiresAt)).toBe(100_000);
    const relabelled = await client().sandboxes.update(id, { labels: { only: "this" } });
    expect(relabelled.labels).toEqual({ only: "this" });

    await client().sandboxes.delete(id);
    await expectSandgateError(client().sandboxes.get(id), "not_found", 404);
  });

  it("listAll walks every page", async () => {
    const run = `page-${Date.now().toString(36)}`;
    // Generated ids and chosen ones of every length mod 3: cursors carry ids as unpadded base64.
    const ids = await Promise.all([
      ...[1, 2, 3].map(async () => (await fresh({ run })).id),
      ...["a", "ab", "abc"].map(async (suffix) => (await client().sandboxes.create({ id: `${run}-${suffix}`, labels: { run } })).id),
    ]);
    const first = await client().sandboxes.list({ label: `run:${run}`, limit: 2 });
    expect(first.sandboxes).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const all: string[] = [];
    for await (const info of client().sandboxes.listAll({ label: `run:${run}`, limit: 2 })) all.push(info.id);
    expect(all.sort()).toEqual([...ids].sort());
    await Promise.all(ids.map((id) => client().sandboxes.delete(id)));
  });

  it("a handle gets, updates and deletes its sandbox and keeps the last info", async () => {
    const created = await fresh();
    const sb = client().sandbox(created.id);
    expect(sb.info).toBeUndefined();
    const info = await sb.get();
    expect(info.id).toBe(created.id);
    expect(sb.info).toEqual(info);
    const updated = await sb.update({ ttlSeconds: 60, labels: { a: "b" } });
    expect(updated.labels).toEqual({ a: "b" });
    expect(sb.info).toEqual(updated);
    await sb.delete();
    await expectSandgateError(sb.get(), "not_found", 404);
    await expectSandgateError(sb.delete(), "not_found", 404);
  });

  it("errors carry the envelope's code, status and details", async () => {
    const missing = await expectSandgateError(client().sandboxes.get("no-such-sandbox"), "not_found", 404);
    expect(missing.details).toEqual({ sandboxId: "no-such-sandbox" });
    expect(missing.message).toContain("no-such-sandbox");

    const taken = await fresh();
    await expectSandgateError(client().sandboxes.create({ id: taken.id }), "conflict", 409);

    const invalid = await expectSandgateError(client().sandboxes.create({ id: "Not Valid!" }), "invalid_request", 400);
    expect(invalid.details?.issues).toEqual([expect.objectContaining({ path: "id" })]);
    await expectSandgateError(client().sandboxes.update(taken.id, { ttlSeconds: 10, extendBySeconds: 10 }), "invalid_request", 400);
    await taken.delete();
  });
});

describe("exec", () => {
  it("runs a shell line, an argv array and a full request", async () => {
    const sb = await fresh();
    const shell = await sb.exec("echo hello from $(pwd); echo oops >&2; exit 3");
    expect(shell).toMatchObject({ exitCode: 3, stdout: "hello from /workspace\n", stderr: "oops\n", timedOut: false, truncated: false });
    expect(shell.durationMs).toBeGreaterThan(0);

    const argv = await sb.exec(["printf", "%s|", "a b", "$HOME", "*"]);
    expect(argv.stdout).toBe("a b|$HOME|*|");

    await sb.files.mkdir("sub");
    const full = await sb.exec({ command: "pwd; echo $GREETING; cat" }, { cwd: "sub", env: { GREETING: "hi" }, stdin: "from stdin" });
    expect(full.stdout).toBe("/workspace/sub\nhi\nfrom stdin");
    expect(full.exitCode).toBe(0);

    const timed = await sb.exec("sleep 5", { timeoutMs: 300 });
    expect(timed).toMatchObject({ timedOut: true, exitCode: 137 });

    await expectSandgateError(sb.exec({ command: "true", argv: ["true"] }), "invalid_request", 400);
    await sb.delete();
    await expectSandgateError(sb.exec("true"), "not_found", 404);
  });

  it("execStream yields typed stdout, stderr and exit events in order", async () => {
    const sb = await fresh();
    const events = await collect(sb.execStream("for i in 1 2 3; do echo out $i; sleep 0.05; done; echo err >&2; exit 4"));
    const last = events.at(-1);
    expect(last?.type).toBe("exit");
    if (last?.type !== "exit") throw new Error("no exit event");
    expect(last.exitCode).toBe(4);
    expect(last.timedOut).toBe(false);
    const stdout = events.flatMap((e) => (e.type === "stdout" ? [e.data] : [])).join("");
    const stderr = events.flatMap((e) => (e.type === "stderr" ? [e.data] : [])).join("");
    expect(stdout).toBe("out 1\nout 2\nout 3\n");
    expect(stderr).toBe("err\n");
    // output arrived as it happened, in several events
    expect(events.filter((e) => e.type === "stdout").length).toBeGreaterThanOrEqual(3);

    const argv = await collect(sb.execStream(["sh", "-c", "echo $X"], { env: { X: "from env" } }));
    expect(argv).toEqual([{ type: "stdout", data: "from env\n" }, expect.objectContaining({ type: "exit", exitCode: 0 })]);
    await sb.delete();
  });

  it("leaving an execStream loop early kills the command", async () => {
    const sb = await fresh();
    const seen: ExecEvent[] = [];
    for await (const event of sb.execStream(BEATER)) {
      seen.push(event);
      break;
    }
    expect(seen).toEqual([{ type: "stdout", data: "started\n" }]);
    expect((await sb.exec(UNTIL_STOPPED)).stdout).toBe("stopped\n");
    await sb.delete();
  });

  it("execStream errors before the stream starts are thrown, not yielded", async () => {
    const gone = client().sandbox("no-such-sandbox");
    const error = await expectSandgateError(collect(gone.execStream("true")), "not_found", 404);
    expect(error.details).toEqual({ sandboxId: "no-such-sandbox" });
    const sb = await fresh();
    await expectSandgateError(collect(sb.execStream({ argv: [] })), "invalid_request", 400);
    await sb.delete();
  });

  it("an aborted signal stops execStream", async () => {
    const sb = await fresh();
    const controller = new AbortController();
    const seen: ExecEvent[] = [];
    let caught: unknown;
    try {
      for await (const event of sb.execStream(BEATER.replace("started", "one"), { signal: controller.signal })) {
        seen.push(event);
        controller.abort();
      }
    } catch (err) {
      caught = err;
    }
    expect(seen).toEqual([{ type: "stdout", data: "one\n" }]);
    expect((caught as Error | undefined)?.name).toBe("AbortError");
    expect((await sb.exec(UNTIL_STOPPED)).stdout).toBe("stopped\n");
    await sb.delete();
  });
});

describe("files", () => {
  it("writes strings, bytes, ArrayBuffers, Blobs and streams, and reads bytes, text and streams", async () => {
    const sb = await fresh();
    const text = "héllo wörld ✓\n";
    const info = await sb.files.write("text.txt", text);
    expect(info).toMatchObject({ path: "/workspace/text.txt", name: "text.txt", type: "file", size: new TextEncoder().encode(text).length });
    expect(await sb.files.read("text.txt", { as: "text" })).toBe(text);

    const bytes = new Uint8Array(256).map((_, i) => i);
    await sb.files.write("/workspace/dir/deep/bytes.bin", bytes);
    expect(await sb.files.read("dir/deep/bytes.bin")).toEqual(bytes);
    await sb.files.write("buffer.bin", bytes.buffer);
    expect(await sb.files.read("buffer.bin", { as: "bytes" })).toEqual(bytes);
    await sb.files.write("blob.bin", new Blob([bytes, bytes]));
    expect((await sb.files.read("blob.bin")).length).toBe(512);

    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of ["one ", "two ", "three"]) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    expect((await sb.files.write("streamed.txt", stream)).size).toBe(13);
    const body = await sb.files.read("streamed.txt", { as: "stream" });
    expect(body).toBeInstanceOf(ReadableStream);
    expect(await new Response(body).text()).toBe("one two three");

    // the sandbox's commands see what the client wrote
    expect((await sb.exec("cat streamed.txt")).stdout).toBe("one two three");

    // empty files round-trip in every shape
    await sb.files.write("empty", "");
    expect(await sb.files.read("empty")).toEqual(new Uint8Array(0));
    expect(await sb.files.read("empty", { as: "text" })).toBe("");
    expect(await new Response(await sb.files.read("empty", { as: "stream" })).text()).toBe("");
    await sb.delete();
  });

  it("readJson and writeJson in utf-8 and base64", async () => {
    const sb = await fresh();
    const written = await sb.files.writeJson("j.txt", "plain text");
    expect(written.size).toBe(10);
    expect(await sb.files.readJson("j.txt")).toEqual({ path: "/workspace/j.txt", content: "plain text", encoding: "utf-8", size: 10 });
    await sb.files.writeJson("b.bin", "AAEC/w==", { encoding: "base64" });
    expect(await sb.files.read("b.bin")).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect((await sb.files.readJson("b.bin", { encoding: "base64" })).content).toBe("AAEC/w==");
    await sb.delete();
  });

  it("list, stat, mkdir, move and delete", async () => {
    const sb = await fresh();
    const dir = await sb.files.mkdir("a/b/c", { recursive: true });
    expect(dir).toMatchObject({ path: "/workspace/a/b/c", type: "directory" });
    await expectSandgateError(sb.files.mkdir("a/b/c"), "conflict", 409);
    await sb.files.write("a/one.txt", "1");
    await sb.files.write("a/b/two.txt", "22");

    const top = await sb.files.list();
    expect(top.entries.map((e) => e.name)).toEqual(["a"]);
    expect(top.truncated).toBe(false);
    const shallow = await sb.files.list("a");
    expect(shallow.entries.map((e) => e.name).sort()).toEqual(["b", "one.txt"]);
    const deep = await sb.files.list("/workspace/a", { recursive: true });
    expect(deep.entries.map((e) => e.path).sort()).toEqual(["/workspace/a/b", "/workspace/a/b/c", "/workspace/a/b/two.txt", "/workspace/a/one.txt"]);

    const stat = await sb.files.stat("a/b/two.txt");
    expect(stat).toMatchObject({ type: "file", size: 2, name: "two.txt" });
    expect(Number.isNaN(Date.parse(stat.modifiedAt))).toBe(false);

    const moved = await sb.files.move("a/one.txt", "a/b/two.txt", { overwrite: true });
    expect(moved).toMatchObject({ path: "/workspace/a/b/two.txt", size: 1 });
    await sb.files.write("x", "x");
    await expectSandgateError(sb.files.move("x", "a/b/two.txt"), "conflict", 409);

    await expectSandgateError(sb.files.delete("a"), "conflict", 409);
    await sb.files.delete("a", { recursive: true });
    await sb.files.delete("x");
    expect((await sb.files.list()).entries).toEqual([]);
    await expectSandgateError(sb.files.stat("a"), "not_found", 404);
    await sb.delete();
  });

  it("file errors: escapes are forbidden, missing files not found, missing sandboxes too", async () => {
    const sb = await fresh();
    await expectSandgateError(sb.files.read("../../etc/passwd"), "forbidden", 403);
    await expectSandgateError(sb.files.write("/etc/evil", "x"), "forbidden", 403);
    await expectSandgateError(sb.files.read("nope.txt"), "not_found", 404);
    await expectSandgateError(sb.files.read("nope.txt", { as: "stream" }), "not_found", 404);
    await expectSandgateError(sb.files.readJson("nope.txt"), "not_found", 404);
    await expectSandgateError(sb.files.stat(""), "invalid_request", 400);
    await sb.delete();
    const error = await expectSandgateError(sb.files.write("x", "x"), "not_found", 404);
    expect(error).toBeInstanceOf(SandgateError);
  });
});

describe("snapshots", () => {
  it("saves a workspace, carries it as tar to a new snapshot, and restores it into another sandbox", async () => {
    const source = await fresh();
    const target = await fresh();
    try {
      await source.files.write("/workspace/keep/a.txt", "kept");
      await source.files.write("/workspace/node_modules/big.js", "left out");
      const snapshot = await source.snapshot({ name: "client-round-trip", excludes: ["node_modules"] });
      expect(snapshot).toMatchObject({ sandboxId: source.id, name: "client-round-trip" });
      expect(snapshot.digest).toMatch(/^sha256:/);
      expect((await client().snapshots.get(snapshot.id)).id).toBe(snapshot.id);

      const received: number[] = [];
      const archive = new Uint8Array(await new Response(await client().snapshots.export(snapshot.id, { onProgress: (n) => received.push(n) })).arrayBuffer());
      expect(received.at(-1)).toBe(archive.byteLength);
      expect(received).toEqual([...received].sort((a, b) => a - b));
      const sent: number[] = [];
      const imported = await client().snapshots.import(archive, { name: "from-tar" }, { onProgress: (n) => sent.push(n) });
      expect(sent.at(-1)).toBe(archive.byteLength);
      expect(imported.digest).toBe(snapshot.digest);
      // Compressed as asked (the magic bytes say which), and each imports to the same digest.
      for (const [compression, magic] of [["zstd", [0x28, 0xb5, 0x2f, 0xfd]], ["gzip", [0x1f, 0x8b]]] as const) {
        const packed = new Uint8Array(await new Response(await client().snapshots.export(snapshot.id, { compression })).arrayBuffer());
        expect([...packed.subarray(0, magic.length)]).toEqual([...magic]);
        expect((await client().snapshots.import(packed)).digest).toBe(snapshot.digest);
      }

      await target.files.write("/workspace/stale.txt", "goes away");
      const restored = await target.restore(imported.id);
      expect(restored.snapshot.id).toBe(imported.id);
      expect(await target.files.read("/workspace/keep/a.txt", { as: "text" })).toBe("kept");
      await expectSandgateError(target.files.stat("/workspace/stale.txt"), "not_found", 404);
      await expectSandgateError(target.files.stat("/workspace/node_modules/big.js"), "not_found", 404);

      const relabeled = await client().snapshots.update(snapshot.id, { labels: { v: "2" }, ttlSeconds: 3600 });
      expect(relabeled.labels).toEqual({ v: "2" });
      expect(relabeled.expiresAt).not.toBeNull();
      expect((await client().snapshots.update(snapshot.id, { ttlSeconds: null })).expiresAt).toBeNull();

      const ids: string[] = [];
      for await (const s of client().snapshots.listAll({ limit: 1 })) ids.push(s.id);
      expect(ids).toEqual(expect.arrayContaining([snapshot.id, imported.id]));
      await client().snapshots.delete(imported.id);
      await expectSandgateError(client().snapshots.get(imported.id), "not_found", 404);
    } finally {
      await source.delete();
      await target.delete();
    }
  });

  it("forks a sandbox into handles on new sandboxes, each with the workspace", async () => {
    const source = await fresh();
    try {
      await source.files.write("/workspace/app.txt", "forked");
      const { sandboxes, snapshot } = await source.fork(2, { labels: { fork: "yes" } });
      expect(snapshot).toBeNull();
      expect(sandboxes).toHaveLength(2);
      try {
        for (const copy of sandboxes) {
          expect(copy.info.labels).toEqual({ fork: "yes" });
          expect((await copy.exec("cat app.txt")).stdout).toBe("forked");
        }
      } finally {
        await Promise.all(sandboxes.map((copy) => copy.delete()));
      }
      await expectSandgateError(source.fork(0), "invalid_request", 400);
    } finally {
      await source.delete();
    }
  });
});
