/**
 * The contract every Backend keeps, as seen through core. Run against the LocalBackend and the
 * RemoteBackend in Node, and against the RemoteBackend and the CloudflareBackend (over the SDK
 * stand-in) inside workerd, so the backends cannot drift apart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../src/core/backend.ts";
import { SandgateCore, defaultLimits } from "../src/core/core.ts";
import type { ExecEvent } from "../src/schemas/exec.ts";
import type { ProcessInfo, ProcessLogEvent } from "../src/schemas/processes.ts";

export interface ContractOptions {
  /** A fresh backend for this suite; closed after it. */
  open(): Promise<Backend>;
  /** Prefix for sandbox ids, so suites sharing one host never collide. */
  prefix: string;
  /** The source of test/fixtures/port-app.mjs (an HTTP and WebSocket app run with node in a sandbox). */
  portApp: string;
  /** fetchPort takes WebSocket upgrades and answers 101 with the socket (backends that run in Workers). */
  webSockets?: boolean;
  /** `network: "none"` is refused with invalid_request instead of honoured. */
  noNetworkNone?: boolean;
  /** Only TERM and KILL end processes; other signals are refused with invalid_request. */
  terminateOnly?: boolean;
  /** Ports fetchPort and waitForPort refuse with invalid_request. */
  reservedPorts?: number[];
}

/** Polls until the process has ended. */
async function ended(core: SandgateCore, id: string, processId: string, timeoutMs = 20_000): Promise<ProcessInfo> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const info = await core.getProcess({ id, processId });
    if (info.status !== "running") return info;
    if (Date.now() > end) throw new Error(`process ${processId} still runs after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).byteLength;

/** A request as core/proxy.ts hands it to fetchPort. */
const toPort = (port: number, path: string, init: RequestInit = {}) =>
  new Request(`http://localhost:${port}${path}`, { redirect: "manual", ...init, headers: { host: `localhost:${port}`, ...(init.headers as Record<string, string>) } });

/** A streamed body of `size` bytes of a fixed pattern, and its SHA-256 (hex). */
export async function patternBody(size: number): Promise<{ body: () => ReadableStream<Uint8Array>; sha256: string }> {
  const block = new Uint8Array(64 * 1024).map((_, i) => (i * 13 + 5) & 255);
  const whole = new Uint8Array(size);
  for (let at = 0; at < size; at += block.length) whole.set(block.subarray(0, Math.min(block.length, size - at)), at);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", whole));
  const sha256 = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  const body = () => {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) return controller.close();
        const n = Math.min(block.length, size - sent);
        controller.enqueue(block.slice(0, n));
        sent += n;
      },
    });
  };
  return { body, sha256 };
}

/** The bytes port-app.mjs answers to GET /bytes?n=: byte i is (i % 65536) * 7 + 3, mod 256. */
export function checkAppBytes(bytes: Uint8Array, size: number): number {
  let bad = bytes.length === size ? 0 : 1;
  for (let i = 0; i < bytes.length; i += 997) if (bytes[i] !== (((i % 65536) * 7 + 3) & 255)) bad++;
  return bad;
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

async function collect(events: AsyncIterable<ExecEvent>): Promise<ExecEvent[]> {
  const out: ExecEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

export function backendContract(name: string, options: ContractOptions): void {
  describe(`backend contract: ${name}`, () => {
    let backend: Backend;
    let core: SandgateCore;
    const id = (suffix: string) => `${options.prefix}-${suffix}`;

    beforeAll(async () => {
      backend = await options.open();
      core = new SandgateCore(backend, { ...defaultLimits, maxOutputBytes: 1024 });
    });
    afterAll(async () => {
      await backend.close();
    });

    it("creates, finds, lists, updates and deletes sandboxes", async () => {
      const created = await core.createSandbox({ id: id("life"), ttlSeconds: 300, labels: { suite: options.prefix, n: "1" }, env: { A: "1" } });
      expect(created).toMatchObject({ id: id("life"), labels: { suite: options.prefix, n: "1" } });
      expect(created.status).toBe("ready"); // every backend, the Cloudflare one over the SDK stand-in too
      await expect(core.createSandbox({ id: id("life") })).rejects.toMatchObject({ code: "conflict" });
      expect((await core.getSandbox({ id: id("life") })).id).toBe(id("life"));

      await core.createSandbox({ id: id("life2"), labels: { suite: options.prefix, n: "2" } });
      const listed = await core.listSandboxes({ label: `suite:${options.prefix}` });
      expect(listed.sandboxes.map((s) => s.id)).toEqual([id("life"), id("life2")]);
      const page = await core.listSandboxes({ label: `suite:${options.prefix}`, limit: 1 });
      expect(page.sandboxes.map((s) => s.id)).toEqual([id("life")]);
      const next = await core.listSandboxes({ label: `suite:${options.prefix}`, limit: 1, cursor: page.nextCursor ?? undefined });
      expect(next.sandboxes.map((s) => s.id)).toEqual([id("life2")]);

      const before = Date.parse(created.expiresAt);
      const extended = await core.updateSandbox({ id: id("life"), extendBySeconds: 60, labels: { suite: options.prefix, n: "x" } });
      expect(Math.abs(Date.parse(extended.expiresAt) - before - 60_000)).toBeLessThan(2000);
      expect(extended.labels.n).toBe("x");

      // The instance is the sandbox's for life, through every read and update; the id re-created has a new one.
      expect(created.instance).toMatch(/^i-[a-z2-7]{20}$/);
      expect(extended.instance).toBe(created.instance);
      expect((await core.getSandbox({ id: id("life") })).instance).toBe(created.instance);
      expect(listed.sandboxes[0]!.instance).toBe(created.instance);
      expect(await core.sandboxInstance(id("life"))).toBe(created.instance);

      await core.deleteSandbox({ id: id("life") });
      await core.deleteSandbox({ id: id("life2") });
      await expect(core.getSandbox({ id: id("life") })).rejects.toMatchObject({ code: "not_found" });
      await expect(core.deleteSandbox({ id: id("life") })).rejects.toMatchObject({ code: "not_found" });
      expect(await core.sandboxInstance(id("life"))).toBeUndefined();
      const again = await core.createSandbox({ id: id("life") });
      expect(again.instance).toMatch(/^i-[a-z2-7]{20}$/);
      expect(again.instance).not.toBe(created.instance);
      await core.deleteSandbox({ id: id("life") });
    });

    it("runs commands with env, cwd, stdin, argv, exit codes, output caps and timeouts", async () => {
      await core.createSandbox({ id: id("exec"), env: { FROM_SANDBOX: "yes", SHARED: "sandbox" } });
      const shell = await core.exec({ id: id("exec"), command: 'echo "$FROM_SANDBOX $SHARED"; pwd; echo e >&2; exit 3', env: { SHARED: "exec" } });
      expect(shell).toMatchObject({ exitCode: 3, stdout: "yes exec\n/workspace\n", stderr: "e\n", timedOut: false, truncated: false });
      await core.exec({ id: id("exec"), command: "mkdir -p sub" });
      const argv = await core.exec({ id: id("exec"), argv: ["sh", "-c", 'pwd; cat; echo "$0"', "it's quoted"], cwd: "sub", stdin: "input\n" });
      expect(argv.stdout).toBe("/workspace/sub\ninput\nit's quoted\n");
      const big = await core.exec({ id: id("exec"), command: "head -c 5000 /dev/zero | tr '\\0' x" });
      expect(big).toMatchObject({ truncated: true });
      expect(big.stdout.length).toBe(1024);
      const slow = await core.exec({ id: id("exec"), command: "sleep 20", timeoutMs: 500 });
      expect(slow.timedOut).toBe(true);
      expect(slow.exitCode).not.toBe(0);
      await expect(core.exec({ id: id("missing"), command: "true" })).rejects.toMatchObject({ code: "not_found" });
    });

    it("streams a command's output and ends with exit", async () => {
      const events = await collect(await core.execStream({ id: id("exec"), command: "echo out; echo err >&2; exit 4" }, new AbortController().signal));
      expect(events.filter((e) => e.type === "stdout").map((e) => (e as { data: string }).data).join("")).toBe("out\n");
      expect(events.filter((e) => e.type === "stderr").map((e) => (e as { data: string }).data).join("")).toBe("err\n");
      expect(events.at(-1)).toMatchObject({ type: "exit", exitCode: 4 });
    });

    it("writes, reads, lists, stats, moves and deletes files", async () => {
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) % 256);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 100_000));
          controller.enqueue(bytes.subarray(100_000));
          controller.close();
        },
      });
      const written = await core.writeFile({ id: id("exec"), path: "dir/blob.bin", body });
      expect(written).toMatchObject({ path: "/workspace/dir/blob.bin", name: "blob.bin", type: "file", size: bytes.length });
      const read = await core.readFile({ id: id("exec"), path: "/workspace/dir/blob.bin" });
      expect(read.size).toBe(bytes.length);
      expect(new Uint8Array(await new Response(read.body).arrayBuffer())).toEqual(bytes);

      await core.writeFileJson({ id: id("exec"), path: "dir/note.txt", content: "héllo", encoding: "utf-8" });
      expect(await core.readFileJson({ id: id("exec"), path: "dir/note.txt", encoding: "utf-8" })).toMatchObject({ content: "héllo", size: 6 });
      expect((await core.readFileJson({ id: id("exec"), path: "dir/note.txt", encoding: "base64" })).content).toBe("aMOpbGxv");

      const listing = await core.listFiles({ id: id("exec"), path: "dir" });
      expect(listing.entries.map((e) => [e.name, e.type])).toEqual([
        ["blob.bin", "file"],
        ["note.txt", "file"],
      ]);
      expect(await core.statFile({ id: id("exec"), path: "dir" })).toMatchObject({ type: "directory", path: "/workspace/dir" });

      await core.mkdir({ id: id("exec"), path: "made/deep", recursive: true });
      await expect(core.mkdir({ id: id("exec"), path: "made", recursive: false })).rejects.toMatchObject({ code: "conflict" });
      await core.moveFile({ id: id("exec"), from: "dir/note.txt", to: "made/note.txt", overwrite: false });
      await expect(core.statFile({ id: id("exec"), path: "dir/note.txt" })).rejects.toMatchObject({ code: "not_found" });
      await core.writeFileJson({ id: id("exec"), path: "made/other.txt", content: "x", encoding: "utf-8" });
      await expect(core.moveFile({ id: id("exec"), from: "made/other.txt", to: "made/note.txt", overwrite: false })).rejects.toMatchObject({ code: "conflict" });
      await core.moveFile({ id: id("exec"), from: "made/other.txt", to: "made/note.txt", overwrite: true });
      expect(await text((await core.readFile({ id: id("exec"), path: "made/note.txt" })).body)).toBe("x");

      await expect(core.deleteFile({ id: id("exec"), path: "made", recursive: false })).rejects.toMatchObject({ code: "conflict" });
      await core.deleteFile({ id: id("exec"), path: "made", recursive: true });
      await core.deleteFile({ id: id("exec"), path: "dir/blob.bin" });
      await expect(core.readFile({ id: id("exec"), path: "dir/blob.bin" })).rejects.toMatchObject({ code: "not_found" });
      await expect(core.readFile({ id: id("exec"), path: "../etc/passwd" })).rejects.toMatchObject({ code: "forbidden" });
      await core.deleteSandbox({ id: id("exec") });
    });

    it("runs background processes: start, list, get, logs by offset, how they ended", async () => {
      await core.createSandbox({ id: id("proc"), env: { FROM_SANDBOX: "sb" } });
      const started = await core.startProcess({ id: id("proc"), command: 'echo "out $FROM_SANDBOX $X"; echo err >&2; sleep 0.2; exit 3', env: { X: "x" }, name: "first" });
      expect(started).toMatchObject({ sandboxId: id("proc"), name: "first", cwd: "/workspace", status: "running", exitCode: null, endedAt: null });
      expect(started.argv).toEqual(["/bin/sh", "-c", 'echo "out $FROM_SANDBOX $X"; echo err >&2; sleep 0.2; exit 3']);
      expect((await core.listProcesses({ id: id("proc") })).processes.map((p) => p.id)).toContain(started.id);
      const done = await ended(core, id("proc"), started.id);
      expect(done).toMatchObject({ id: started.id, status: "exited", exitCode: 3, name: "first" });
      expect(done.endedAt).not.toBeNull();
      expect((await core.listProcesses({ id: id("proc") })).processes.find((p) => p.id === started.id)).toMatchObject({ status: "exited", exitCode: 3 });

      const logs = await core.getProcessLogs({ id: id("proc"), processId: started.id });
      expect(logs).toMatchObject({ processId: started.id, status: "exited", stdout: "out sb x\n", stderr: "err\n", firstOffset: 0, nextOffset: 13 });
      let at = 0;
      for (const chunk of logs.chunks) {
        expect(chunk.offset).toBe(at);
        at += byteLength(chunk.data);
      }
      expect(at).toBe(13);
      // The same offsets on every read: from 4 on is the rest of what the first read gave.
      const rest = await core.getProcessLogs({ id: id("proc"), processId: started.id, offset: 4 });
      expect(rest.chunks[0]?.offset).toBe(4);
      expect(rest.chunks.map((c) => c.data).join("")).toBe(logs.chunks.map((c) => c.data).join("").slice(4));
      expect(await core.getProcessLogs({ id: id("proc"), processId: started.id, limitBytes: 4 })).toMatchObject({ nextOffset: 13 });

      // Pages of 7 bytes through 2- and 3-byte characters: never inside one, every byte once.
      const wide = await core.startProcess({ id: id("proc"), command: 'for i in 1 2 3 4 5 6; do echo "é€ $i"; done' });
      await ended(core, id("proc"), wide.id);
      const expected = [1, 2, 3, 4, 5, 6].map((i) => `é€ ${i}\n`).join("");
      let paged = "";
      for (let offset = 0, pages = 0; offset < byteLength(expected); pages++) {
        expect(pages).toBeLessThan(50);
        const page = await core.getProcessLogs({ id: id("proc"), processId: wide.id, offset, limitBytes: 7 });
        expect(byteLength(page.stdout)).toBeLessThanOrEqual(7);
        expect(page.nextOffset).toBeGreaterThan(offset);
        paged += page.stdout;
        offset = page.nextOffset;
      }
      expect(paged).toBe(expected);
      const tail = await core.getProcessLogs({ id: id("proc"), processId: wide.id, limitBytes: 10 });
      expect(expected.endsWith(tail.stdout)).toBe(true);
      expect(byteLength(tail.stdout)).toBeLessThanOrEqual(10);
      expect(tail.nextOffset).toBe(byteLength(expected));

      const argv = await core.startProcess({ id: id("proc"), argv: ["sh", "-c", 'pwd; echo "$0"', "it's one"], cwd: "/workspace" });
      await ended(core, id("proc"), argv.id);
      expect((await core.getProcessLogs({ id: id("proc"), processId: argv.id })).stdout).toBe("/workspace\nit's one\n");

      await expect(core.getProcess({ id: id("proc"), processId: "p-unknown" })).rejects.toMatchObject({ code: "not_found" });
      await expect(core.getProcessLogs({ id: id("proc"), processId: "p-unknown" })).rejects.toMatchObject({ code: "not_found" });
      await expect(core.killProcess({ id: id("proc"), processId: "p-unknown" })).rejects.toMatchObject({ code: "not_found" });
      await expect(core.startProcess({ id: id("missing"), command: "true" })).rejects.toMatchObject({ code: "not_found" });
      await expect(core.startProcess({ id: id("proc"), command: "true", cwd: "not/here" })).rejects.toMatchObject({ code: "invalid_request" });
      await expect(core.getProcessLogs({ id: id("proc"), processId: started.id, offset: 14 })).rejects.toMatchObject({ code: "invalid_request" });
      await expect(core.streamProcessLogs({ id: id("proc"), processId: started.id, offset: 14 }, new AbortController().signal)).rejects.toMatchObject({
        code: "invalid_request",
      });
    });

    it("waits for a line of a process's log: the line, its offset, and the process as it is then", async () => {
      await core.createSandbox({ id: id("waitlog") });
      const signal = new AbortController().signal;
      const proc = await core.startProcess({ id: id("waitlog"), command: "echo starting; echo 'ready on 7' >&2; exec sleep 30" });
      const found = await core.waitForLog({ id: id("waitlog"), processId: proc.id, pattern: "ready on \\d+", timeoutMs: 20_000 }, signal);
      expect(found).toMatchObject({ line: "ready on 7", offset: 9, process: { id: proc.id, status: "running" } });
      // Only the stream asked for is searched: stdout never says it, so the wait runs out.
      await expect(core.waitForLog({ id: id("waitlog"), processId: proc.id, pattern: "ready", stream: "stdout", timeoutMs: 500 }, signal)).rejects.toMatchObject({ code: "timeout" });
      await core.killProcess({ id: id("waitlog"), processId: proc.id, signal: "KILL" });
      await expect(core.waitForLog({ id: id("waitlog"), processId: proc.id, pattern: "never", timeoutMs: 20_000 }, signal)).rejects.toMatchObject({ code: "conflict" });
      await core.deleteSandbox({ id: id("waitlog") });
    });

    it("follows a process's output across reconnects: every line exactly once, then exit", async () => {
      const command = 'for i in $(seq 1 60); do echo "line $i"; [ $((i % 10)) = 0 ] && echo "warn $i" >&2; sleep 0.02; done; true';
      const { id: processId } = await core.startProcess({ id: id("proc"), command });
      const received: ProcessLogEvent[] = [];
      let offset = 0;
      let connections = 0;
      for (let done = false; !done; ) {
        expect(++connections).toBeLessThan(200);
        const stop = new AbortController();
        const events = await core.streamProcessLogs({ id: id("proc"), processId, offset }, stop.signal);
        let seen = 0;
        for await (const event of events) {
          received.push(event);
          if (event.type === "exit") {
            done = true;
            break;
          }
          if (event.type === "stdout" || event.type === "stderr") {
            expect(event.offset).toBe(offset);
            expect(event.nextOffset - event.offset).toBe(byteLength(event.data));
            offset = event.nextOffset;
          }
          // Hang up after a few events (the process keeps running), and come back where we left off.
          if (++seen >= 4 && connections < 6) {
            stop.abort();
            break;
          }
        }
      }
      expect(connections).toBeGreaterThan(1);
      const output = received.filter((e) => e.type === "stdout" || e.type === "stderr");
      const stdout = output.filter((e) => e.type === "stdout").map((e) => e.data).join("");
      const stderr = output.filter((e) => e.type === "stderr").map((e) => e.data).join("");
      expect(stdout).toBe(Array.from({ length: 60 }, (_, i) => `line ${i + 1}\n`).join(""));
      expect(stderr).toBe("warn 10\nwarn 20\nwarn 30\nwarn 40\nwarn 50\nwarn 60\n");
      expect(received.filter((e) => e.type === "exit")).toEqual([{ type: "exit", status: "exited", exitCode: 0, nextOffset: offset }]);
      // Once it ended, following from 0 replays the same log and ends; reading it gives the same bytes.
      const replay: ProcessLogEvent[] = [];
      for await (const event of await core.streamProcessLogs({ id: id("proc"), processId }, new AbortController().signal)) replay.push(event);
      expect(replay.filter((e) => e.type === "stdout").map((e) => (e as { data: string }).data).join("")).toBe(stdout);
      expect(replay.at(-1)).toEqual(received.at(-1));
      const read = await core.getProcessLogs({ id: id("proc"), processId, offset: 0, limitBytes: 1 << 20 });
      expect(read.chunks.map((c) => c.data).join("")).toBe(output.map((e) => e.data).join(""));
    });

    it("kills a process and everything it started", async () => {
      // A child that beats into a file (renamed into place: a read never meets half a write); once the tree is gone, it stops changing.
      const command = "(while true; do date +%s%N > beat.new; mv beat.new beat; sleep 0.05; done) & while true; do sleep 0.05; done";
      const { id: processId } = await core.startProcess({ id: id("proc"), command });
      const beat = async (file = "beat") => (await core.readFileJson({ id: id("proc"), path: file, encoding: "utf-8" }).catch(() => ({ content: "" }))).content;
      /** Resolves once `file`'s beat has changed `times` times (the beating child really runs); fails after 20 s. */
      const beats = async (file: string, times: number) => {
        let last = await beat(file);
        for (let seen = 0, end = Date.now() + 20_000; seen < times; ) {
          if (Date.now() > end) throw new Error(`${file} changed ${seen} of ${times} times in 20 s: its process does not run`);
          await new Promise((r) => setTimeout(r, 50));
          const now = await beat(file);
          if (now !== "" && now !== last) seen++;
          last = now;
        }
      };
      await beats("beat", 2);
      if (options.terminateOnly) {
        await expect(core.killProcess({ id: id("proc"), processId, signal: "HUP" })).rejects.toMatchObject({ code: "invalid_request" });
      }
      const killed = await core.killProcess({ id: id("proc"), processId });
      expect(killed).toMatchObject({ id: processId, status: "killed" });
      expect(killed.endedAt).not.toBeNull();
      // A control beating the same way in the same sandbox, not killed: once it has beaten 3 times after
      // the kill, the killed tree would have too, had anything of it survived.
      const first = await beat();
      const control = await core.startProcess({ id: id("proc"), command: command.replaceAll("beat", "control") });
      await beats("control", 3);
      expect(await beat()).toBe(first);
      await core.killProcess({ id: id("proc"), processId: control.id, signal: "KILL" });
      // Killing it again answers how it ended.
      expect(await core.killProcess({ id: id("proc"), processId, signal: "KILL" })).toMatchObject({ status: "killed" });
    });

    it("waits for a port and forwards HTTP to it; one port number in two sandboxes answers apart", async () => {
      for (const name of ["a", "b"]) {
        await core.createSandbox({ id: id(`port-${name}`) });
        await core.writeFileJson({ id: id(`port-${name}`), path: "app.mjs", content: options.portApp, encoding: "utf-8" });
      }
      const apps = await Promise.all(["a", "b"].map((name) => core.startProcess({ id: id(`port-${name}`), argv: ["node", "app.mjs", "8080", name] })));
      for (const [i, name] of ["a", "b"].entries()) {
        const ready = await core.waitForPort({ id: id(`port-${name}`), processId: apps[i]!.id, port: 8080, path: "/", timeoutMs: 20_000 }, new AbortController().signal);
        expect(ready.process.status).toBe("running");
      }
      for (const name of ["a", "b"]) {
        const res = await backend.fetchPort(id(`port-${name}`), 8080, toPort(8080, "/hello?x=1"));
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ name, method: "GET", url: "/hello?x=1" });
      }
      const size = 3 * 1024 * 1024 + 17;
      const { body, sha256 } = await patternBody(size);
      const posted = await backend.fetchPort(id("port-a"), 8080, toPort(8080, "/sha256", { method: "POST", body: body(), duplex: "half" } as RequestInit));
      expect(await posted.json()).toMatchObject({ name: "a", method: "POST", bytes: size, sha256 });
      const got = await backend.fetchPort(id("port-b"), 8080, toPort(8080, `/bytes?n=${size}`));
      expect(got.status).toBe(200);
      expect(checkAppBytes(new Uint8Array(await got.arrayBuffer()), size)).toBe(0);
      const redirect = await backend.fetchPort(id("port-a"), 8080, toPort(8080, "/redirect"));
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get("location")).toMatch(/\/hello\?from=redirect$/);
      await redirect.body?.cancel();

      await expect(backend.fetchPort(id("port-a"), 8099, toPort(8099, "/"))).rejects.toMatchObject({ code: "upstream_unavailable" });
      await expect(backend.fetchPort(id("missing"), 8080, toPort(8080, "/"))).rejects.toMatchObject({ code: "not_found" });
      for (const port of options.reservedPorts ?? []) {
        await expect(backend.fetchPort(id("port-a"), port, toPort(port, "/"))).rejects.toMatchObject({ code: "invalid_request" });
        await expect(core.waitForPort({ id: id("port-a"), processId: apps[0]!.id, port, timeoutMs: 1000 }, new AbortController().signal)).rejects.toMatchObject({
          code: "invalid_request",
        });
      }
      await expect(core.waitForPort({ id: id("port-a"), processId: apps[0]!.id, port: 8099, timeoutMs: 700 }, new AbortController().signal)).rejects.toMatchObject({
        code: "timeout",
      });
      const quick = await core.startProcess({ id: id("port-a"), command: "sleep 0.2; exit 4" });
      await expect(core.waitForPort({ id: id("port-a"), processId: quick.id, port: 8098, timeoutMs: 20_000 }, new AbortController().signal)).rejects.toMatchObject({
        code: "conflict",
      });

      if (options.webSockets) {
        const res = await backend.fetchPort(id("port-b"), 8080, toPort(8080, "/ws", { headers: { upgrade: "websocket", connection: "Upgrade" } }));
        expect(res.status).toBe(101);
        const socket = (res as Response & { webSocket: WebSocket | null }).webSocket!;
        (socket as WebSocket & { accept(): void }).accept();
        const echoed: string[] = [];
        const closed = new Promise<void>((resolve) => {
          socket.addEventListener("message", (e) => {
            echoed.push(String(e.data));
            if (echoed.length === 100) resolve();
          });
        });
        for (let i = 0; i < 100; i++) socket.send(`message ${i}`);
        await closed;
        expect(echoed).toEqual(Array.from({ length: 100 }, (_, i) => `message ${i}`));
        socket.close(1000, "done");
      }
      for (const name of ["a", "b"]) await core.deleteSandbox({ id: id(`port-${name}`) });
    });

    it("ends a sandbox's processes when the sandbox is deleted", async () => {
      await core.createSandbox({ id: id("gone") });
      await core.writeFileJson({ id: id("gone"), path: "app.mjs", content: options.portApp, encoding: "utf-8" });
      const app = await core.startProcess({ id: id("gone"), argv: ["node", "app.mjs", "8090", "gone"] });
      await core.waitForPort({ id: id("gone"), processId: app.id, port: 8090, timeoutMs: 20_000 }, new AbortController().signal);
      expect((await backend.fetchPort(id("gone"), 8090, toPort(8090, "/"))).status).toBe(200);
      await core.deleteSandbox({ id: id("gone") });
      await expect(core.getProcess({ id: id("gone"), processId: app.id })).rejects.toMatchObject({ code: "not_found" });
      await core.createSandbox({ id: id("gone") });
      expect((await core.listProcesses({ id: id("gone") })).processes).toEqual([]);
      await expect(backend.fetchPort(id("gone"), 8090, toPort(8090, "/"))).rejects.toMatchObject({ code: "upstream_unavailable" });
      await core.deleteSandbox({ id: id("gone") });
    });

    it("replaces the sandbox-wide env for what starts next, and keeps the network mode", async () => {
      const created = await core.createSandbox({ id: id("env"), env: { A: "1", B: "2" } });
      expect(created.network).toBe("egress");
      const updated = await core.updateSandbox({ id: id("env"), env: { A: "changed" } });
      expect(updated.id).toBe(id("env"));
      expect((await core.exec({ id: id("env"), command: 'echo "$A-$B"' })).stdout).toBe("changed-\n");
      const proc = await core.startProcess({ id: id("env"), command: 'echo "$A-$B-$C"', env: { C: "3" } });
      await ended(core, id("env"), proc.id);
      expect((await core.getProcessLogs({ id: id("env"), processId: proc.id })).stdout).toBe("changed--3\n");
      await core.deleteSandbox({ id: id("env") });

      if (options.noNetworkNone) {
        await expect(core.createSandbox({ id: id("nonet"), network: "none" })).rejects.toMatchObject({ code: "invalid_request" });
        await expect(core.getSandbox({ id: id("nonet") })).rejects.toMatchObject({ code: "not_found" });
      } else {
        const none = await core.createSandbox({ id: id("nonet"), network: "none" });
        expect(none.network).toBe("none");
        expect((await core.getSandbox({ id: id("nonet") })).network).toBe("none");
        // No network beyond its own ports, which the port proxy still reaches.
        await core.writeFileJson({ id: id("nonet"), path: "app.mjs", content: options.portApp, encoding: "utf-8" });
        const app = await core.startProcess({ id: id("nonet"), argv: ["node", "app.mjs", "8080", "quiet"] });
        await core.waitForPort({ id: id("nonet"), processId: app.id, port: 8080, timeoutMs: 20_000 }, new AbortController().signal);
        expect(await (await backend.fetchPort(id("nonet"), 8080, toPort(8080, "/"))).json()).toMatchObject({ name: "quiet" });
        await core.deleteSandbox({ id: id("nonet") });
      }
    });

    it("clones a bare repository with git (through exec)", async () => {
      await core.createSandbox({ id: id("git") });
      const setup = await core.exec({
        id: id("git"),
        command:
          "set -e; git init -q -b trunk src; cd src; echo hello > README; git add README; git -c user.name=t -c user.email=t@example.com commit -q -m first; cd ..; git clone -q --bare src origin.git",
      });
      expect(setup).toMatchObject({ exitCode: 0 });
      const cloned = await core.gitCheckout({ id: id("git"), url: "file:///workspace/origin.git", dir: "clone" });
      expect(cloned).toMatchObject({ dir: "/workspace/clone", branch: "trunk" });
      expect(cloned.commit).toMatch(/^[0-9a-f]{40}$/);
      expect((await core.readFileJson({ id: id("git"), path: "clone/README", encoding: "utf-8" })).content).toBe("hello\n");
      await expect(core.gitCheckout({ id: id("git"), url: "file:///workspace/origin.git", dir: "clone" })).rejects.toMatchObject({ code: "conflict" });
      await core.deleteSandbox({ id: id("git") });
      await core.deleteSandbox({ id: id("proc") });
    });
  });
}
