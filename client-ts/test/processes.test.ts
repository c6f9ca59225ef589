/**
 * Background processes, their logs (buffered and followed across dropped connections), kill and the
 * waits, git checkout, sandbox env, scoped tokens and the port proxy, through the TypeScript client
 * against a real Node host (real bubblewrap sandboxes, real sockets).
 */
import { describe, expect, it } from "vitest";
import { type FetchLike, type ProcessLogEvent, type Sandbox, SandgateError, createSandgateClient } from "../src/index.ts";
import { TOKEN, expectSandgateError, useHost } from "./helpers.ts";

const { host, client } = useHost();

const IDENTITY = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
/** Prints `line 1` … `line <n>`, one every 50 ms (40 lines: about 2 s). */
const numbered = (n: number) => `for i in $(seq 1 ${n}); do echo "line $i"; sleep 0.05; done`;
const expectedLines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

async function fresh(): Promise<Sandbox> {
  return client().sandboxes.create({ labels: { suite: "client-ts-processes" } });
}

async function collect(events: AsyncIterable<ProcessLogEvent>): Promise<ProcessLogEvent[]> {
  const out: ProcessLogEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const outputOf = (events: ProcessLogEvent[]) =>
  events.map((e) => (e.type === "stdout" || e.type === "stderr" ? e.data : "")).join("");

/**
 * A fetch that cuts the body of the first `cuts.length` log streams after that many bytes, the way a
 * dropped connection does: the real connection is closed, and the reader sees the body end (`"end"`),
 * fail (`"error"`) or go silent without ending (`"stall"`, a dead peer). Records the `offset` of every
 * log stream request.
 */
function cuttingFetch(cuts: { bytes: number; how: "end" | "error" | "stall" }[]): { fetch: FetchLike; offsets: (string | null)[] } {
  const offsets: (string | null)[] = [];
  const fetchLike: FetchLike = async (request) => {
    const response = await fetch(request);
    const url = new URL(request.url);
    if (!url.pathname.endsWith("/logs/stream")) return response;
    offsets.push(url.searchParams.get("offset"));
    const cut = cuts.shift();
    if (!cut || !response.body) return response;
    const source = response.body.getReader();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await source.read();
        if (done) return controller.close();
        const room = cut.bytes - sent;
        if (value.byteLength < room) {
          sent += value.byteLength;
          return controller.enqueue(value);
        }
        if (room > 0) controller.enqueue(value.subarray(0, room));
        sent = cut.bytes;
        await source.cancel();
        if (cut.how === "end") controller.close();
        else if (cut.how === "error") controller.error(new TypeError("terminated: connection cut by the test"));
        else await new Promise(() => {}); // silent forever, like a peer that vanished
      },
      cancel: (reason) => source.cancel(reason),
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetch: fetchLike, offsets };
}

describe("processes", () => {
  it("starts, lists, gets, and reads a finished process's logs (tail and from an offset)", async () => {
    const sb = await fresh();
    // stdout and stderr are two pipes: pauses keep their interleaving in the log deterministic.
    const proc = await sb.startProcess("echo out; sleep 0.1; echo err >&2; sleep 0.1; echo done", { name: "short" });
    expect(proc.info).toMatchObject({ sandboxId: sb.id, name: "short", status: "running", cwd: "/workspace" });
    expect(proc.info.argv).toEqual(["/bin/sh", "-c", "echo out; sleep 0.1; echo err >&2; sleep 0.1; echo done"]);
    expect((await sb.listProcesses()).map((p) => p.id)).toContain(proc.id);

    const ended = await proc.wait();
    expect(ended).toMatchObject({ id: proc.id, status: "exited", exitCode: 0 });
    expect(ended.endedAt).not.toBeNull();
    expect(await sb.process(proc.id).get()).toEqual(ended);

    const logs = await proc.logs();
    expect(logs).toMatchObject({ processId: proc.id, status: "exited", stdout: "out\ndone\n", stderr: "err\n", firstOffset: 0, nextOffset: 13 });
    // Chunks tile the log: each starts where the one before ended.
    let at = 0;
    for (const chunk of logs.chunks) {
      expect(chunk.offset).toBe(at);
      at += new TextEncoder().encode(chunk.data).byteLength;
    }
    expect(at).toBe(13);

    const tail = await proc.logs({ limitBytes: 5 });
    expect(tail.chunks.map((c) => c.data).join("")).toBe("done\n");
    expect(tail.nextOffset).toBe(13);
    const rest = await proc.logs({ offset: 4 });
    expect(rest.chunks.map((c) => c.data).join("")).toBe("err\ndone\n");
    await sb.delete();
  });

  it("follows a running process's output to its exit event", async () => {
    const sb = await fresh();
    const proc = await sb.startProcess(numbered(10));
    const events = await collect(proc.follow());
    expect(events.at(-1)).toMatchObject({ type: "exit", status: "exited", exitCode: 0 });
    expect(outputOf(events).split("\n").filter(Boolean)).toEqual(expectedLines(10));
    // Offsets are contiguous: every event starts where the one before ended.
    let at = 0;
    for (const event of events) {
      if (event.type === "stdout" || event.type === "stderr") {
        expect(event.offset).toBe(at);
        at = event.nextOffset;
      }
    }
    expect(events.at(-1)).toMatchObject({ nextOffset: at });
    await sb.delete();
  });

  it("reconnects from the last nextOffset when the stream drops, yielding every line exactly once", async () => {
    const sb = await fresh();
    const proc = await sb.startProcess(numbered(40));
    // Cut three times mid-stream: a clean end and a failing read, each in the middle of an event.
    const cuts = cuttingFetch([
      { bytes: 200, how: "end" },
      { bytes: 333, how: "error" },
      { bytes: 250, how: "error" },
    ]);
    const cutting = createSandgateClient({ baseUrl: host().url, token: TOKEN, fetch: cuts.fetch });
    const events: ProcessLogEvent[] = [];
    const resumedAt: number[] = [];
    let last = 0;
    for await (const event of cutting.sandbox(sb.id).process(proc.id).follow({ backoffMs: 20 })) {
      if (event.type === "stdout" || event.type === "stderr") {
        // No gap and no overlap, across every reconnection.
        expect(event.offset).toBe(last);
        last = event.nextOffset;
      }
      events.push(event);
      resumedAt.push(last);
    }
    expect(cuts.offsets.length).toBe(4);
    expect(cuts.offsets[0]).toBe("0");
    // Each reconnection asked for the offset right after the last event it had yielded.
    for (const offset of cuts.offsets.slice(1)) expect(resumedAt).toContain(Number(offset));
    expect(new Set(cuts.offsets).size).toBe(4);
    expect(outputOf(events).split("\n").filter(Boolean)).toEqual(expectedLines(40));
    expect(events.filter((e) => e.type === "exit")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: "exit", exitCode: 0, nextOffset: last });
    await sb.delete();
  });

  it("reconnects when a stream goes silent past idleTimeoutMs", async () => {
    const sb = await fresh();
    const proc = await sb.startProcess(numbered(10));
    const cuts = cuttingFetch([{ bytes: 150, how: "stall" }]);
    const stalling = createSandgateClient({ baseUrl: host().url, token: TOKEN, fetch: cuts.fetch });
    const started = Date.now();
    const events = await collect(stalling.sandbox(sb.id).process(proc.id).follow({ idleTimeoutMs: 300, backoffMs: 10 }));
    expect(cuts.offsets).toHaveLength(2);
    expect(outputOf(events).split("\n").filter(Boolean)).toEqual(expectedLines(10));
    expect(events.at(-1)).toMatchObject({ type: "exit", exitCode: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
    await sb.delete();
  });

  it("resumes from a given offset, and gives up after maxRetries when every stream drops", async () => {
    const sb = await fresh();
    const proc = await sb.startProcess("echo one; echo two; echo three");
    await proc.wait();
    const resumed = await collect(proc.follow({ offset: 4 }));
    expect(outputOf(resumed)).toBe("two\nthree\n");

    const cuts = cuttingFetch(Array.from({ length: 10 }, () => ({ bytes: 0, how: "error" as const })));
    const failing = createSandgateClient({ baseUrl: host().url, token: TOKEN, fetch: cuts.fetch });
    await expect(collect(failing.sandbox(sb.id).process(proc.id).follow({ maxRetries: 2, backoffMs: 1 }))).rejects.toThrow(/connection cut/);
    expect(cuts.offsets).toEqual(["0", "0", "0"]);
    // A refusal is not retried.
    await expectSandgateError(collect(sb.process("p-missing").follow()), "not_found", 404);
    await sb.delete();
  });

  it("stops following when the loop ends, and the process keeps running", async () => {
    const sb = await fresh();
    const proc = await sb.startProcess(numbered(40));
    for await (const event of proc.follow()) {
      if (event.type === "stdout") break;
    }
    expect((await proc.get()).status).toBe("running");
    await proc.kill("KILL");
    await sb.delete();
  });

  it("kills a process and its descendants, with TERM or a chosen signal", async () => {
    const sb = await fresh();
    const term = await sb.startProcess("echo up; exec sleep 60");
    await term.waitForLog("^up$");
    const killed = await term.kill();
    expect(killed).toMatchObject({ status: "killed", exitCode: 143 });
    expect(term.info).toEqual(killed);

    const tree = await sb.startProcess("sleep 60 & sleep 60 & wait");
    expect(await tree.kill("KILL")).toMatchObject({ status: "killed", exitCode: 137 });
    const events = await collect(tree.follow());
    expect(events.at(-1)).toMatchObject({ type: "exit", status: "killed", exitCode: 137 });
    await sb.delete();
  });

  it("waits for a log line, and times out or conflicts when none comes", async () => {
    const sb = await fresh();
    const server = await sb.startProcess("echo starting; sleep 0.3; echo 'ready on 8080' >&2; sleep 30");
    const found = await server.waitForLog(/^ready on \d+$/, { timeoutMs: 10_000 });
    expect(found.line).toBe("ready on 8080");
    expect(found.offset).toBe("starting\n".length);
    expect(found.process.status).toBe("running");
    await expect(server.waitForLog(/ready/i)).rejects.toThrow(TypeError);

    const stdoutOnly = server.waitForLog("ready", { stream: "stdout", timeoutMs: 300 });
    await expectSandgateError(stdoutOnly, "timeout", 504);
    await server.kill("KILL");

    const quitter = await sb.startProcess("echo bye");
    await expectSandgateError(quitter.waitForLog("never printed", { timeoutMs: 10_000 }), "conflict", 409);
    await sb.delete();
  });
});

describe("sandbox env, tokens and git", () => {
  it("setEnv replaces the sandbox-wide environment for later commands and processes", async () => {
    const sb = await client().sandboxes.create({ env: { FIRST: "1" }, network: "none" });
    expect(sb.info.network).toBe("none");
    expect((await sb.exec("echo $FIRST")).stdout).toBe("1\n");
    await sb.setEnv({ SECOND: "2" });
    expect((await sb.exec("echo ${FIRST:-unset} $SECOND")).stdout).toBe("unset 2\n");
    const proc = await sb.startProcess("echo $SECOND $OWN", { env: { OWN: "mine" } });
    await proc.wait();
    expect((await proc.logs()).stdout).toBe("2 mine\n");
    await sb.delete();
  });

  it("createToken mints a token for one sandbox and some scopes", async () => {
    const sb = await fresh();
    const minted = await sb.createToken(["exec", "sandbox:read"], { ttlSeconds: 600 });
    expect(minted).toMatchObject({ sandboxId: sb.id, scopes: ["exec", "sandbox:read"] });
    const scoped = createSandgateClient({ baseUrl: host().url, token: minted.token }).sandbox(sb.id);
    expect((await scoped.get()).id).toBe(sb.id);
    const proc = await scoped.startProcess("echo scoped");
    await proc.wait();
    expect((await proc.logs()).stdout).toBe("scoped\n");
    await expectSandgateError(scoped.files.write("x", "y"), "forbidden", 403);
    await expectSandgateError(scoped.delete(), "forbidden", 403);
    const other = await client().createToken({ sandboxId: sb.id, scopes: ["files:read"] });
    await expectSandgateError(createSandgateClient({ baseUrl: host().url, token: other.token }).sandbox(sb.id).exec("true"), "forbidden", 403);
    await sb.delete();
  });

  it("gitCheckout clones a bare repository made in the sandbox, with a branch and depth 1", async () => {
    const sb = await fresh();
    const made = await sb.exec(
      [
        "set -e",
        "git init -q --bare -b main /workspace/origin.git",
        "git clone -q /workspace/origin.git work 2>/dev/null",
        "cd work && git checkout -q -b main",
        "for n in 1 2; do echo v$n > version.txt; git add version.txt; git commit -qm v$n; done",
        "git push -q origin main",
        "git rev-parse HEAD",
      ].join("\n"),
      { env: IDENTITY },
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const result = await sb.gitCheckout("file:///workspace/origin.git", { branch: "main", depth: 1, dir: "checkout" });
    expect(result).toEqual({ dir: "/workspace/checkout", branch: "main", commit: made.stdout.trim() });
    expect(await sb.files.read("checkout/version.txt", { as: "text" })).toBe("v2\n");
    expect((await sb.exec("git -C checkout rev-list --count HEAD")).stdout).toBe("1\n");
    await expectSandgateError(sb.gitCheckout("file:///workspace/origin.git", { dir: "checkout" }), "conflict", 409);
    await expectSandgateError(sb.gitCheckout("file:///workspace/origin.git", { branch: "nope", dir: "other" }), "not_found", 404);
    await sb.delete();
  });
});

describe("the port proxy", () => {
  it("reaches an HTTP server in the sandbox with the token, through a port link without one", async () => {
    const sb = await fresh();
    await sb.files.write("site/hello.txt", "hello through the proxy\n");
    const server = await sb.startProcess(["python3", "-m", "http.server", "8080"], { cwd: "site", name: "web" });
    const ready = await server.waitForPort(8080, { path: "/hello.txt", timeoutMs: 20_000 });
    expect(ready.process.status).toBe("running");

    const url = sb.portUrl(8080, "/hello.txt");
    expect(url).toBe(`${host().url}/v1/sandboxes/${sb.id}/ports/8080/hello.txt`);
    expect(sb.portUrl(8080, "ws", { websocket: true })).toBe(`${host().url.replace(/^http/, "ws")}/v1/sandboxes/${sb.id}/ports/8080/ws`);

    const response = await sb.fetchPort(8080, "/hello.txt");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hello through the proxy\n");
    const listing = await sb.fetchPort(8080, "/", { method: "GET", headers: { accept: "text/html" } });
    expect(await listing.text()).toContain("hello.txt");
    const missing = await sb.fetchPort(8080, "/nope.txt");
    expect(missing.status).toBe(404); // the app's own answer, passed through

    // Without the token the proxy refuses; a port link opens it.
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    const link = await sb.portLink(8080, { path: "/hello.txt", ttlSeconds: 60 });
    expect(link.port).toBe(8080);
    expect(link.url.startsWith(`${host().url}/v1/sandboxes/${sb.id}/ports/8080/hello.txt?`)).toBe(true);
    // As a browser does: the link answers a redirect to the same URL without it, setting a cookie for the port.
    const opened = await fetch(link.url, { redirect: "manual" });
    expect(opened.status).toBe(302);
    const location = new URL(opened.headers.get("location") ?? "", link.url);
    expect(location.pathname).toBe(`/v1/sandboxes/${sb.id}/ports/8080/hello.txt`);
    expect(location.search).toBe("");
    const cookie = (opened.headers.get("set-cookie") ?? "").split(";")[0]!;
    const viaLink = await fetch(location, { headers: { cookie } });
    expect(viaLink.status).toBe(200);
    expect(await viaLink.text()).toBe("hello through the proxy\n");

    // A scoped token with `ports` reaches the proxy too.
    const ports = await sb.createToken(["ports"]);
    const scoped = createSandgateClient({ baseUrl: host().url, token: ports.token }).sandbox(sb.id);
    expect(await (await scoped.fetchPort(8080, "/hello.txt")).text()).toBe("hello through the proxy\n");

    // A port nothing listens on: 502 upstream_unavailable, mapped like any error envelope.
    const closed = await sb.fetchPort(8081, "/");
    expect(closed.status).toBe(502);
    const error = await SandgateError.fromResponse(closed);
    expect(error.code).toBe("upstream_unavailable");
    await server.kill();
    await sb.delete();
  });

  it("maps a 502 without an envelope to upstream_unavailable", () => {
    expect(SandgateError.fromBody(502, "<html>bad gateway</html>").code).toBe("upstream_unavailable");
  });
});
