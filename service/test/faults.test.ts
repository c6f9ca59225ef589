/**
 * Issue 6, "Load, faults, restarts": racing creates, SIGKILL mid-write and mid-exec, a client that
 * goes away mid-stream, and sustained mixed load (autocannon) against real Node hosts.
 * Each fault injected is counted for `npm run reliability` (test/attempts.ts): attempts made, and how
 * many got through (a duplicate create admitted, a torn file, a surviving process, a failed request).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import autocannon from "autocannon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Attempts } from "./attempts.ts";
import { type TestHost, descendants, eventually, readEvents, removeDir, startHost, tempDir, workspaceOnHost } from "./host.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const figures = new Attempts("faults");
afterAll(() => figures.save());

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

/** Descendants of the host, leaving out the one idle pre-forked launcher shell (it ends after 2 s idle). */
function workers(pid: number): number[] {
  return descendants(pid).filter((p) => cmdline(p) !== "/bin/sh");
}

/** Live processes whose command line mentions `text` (after a SIGKILL, survivors are reparented: found by what they run). */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    if (cmdline(Number(name)).includes(text)) out.push(Number(name));
  }
  return out;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe("concurrent creates", () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startHost();
  });
  afterAll(async () => {
    await host?.stop();
    if (host) removeDir(host.dataDir);
  });

  it("100 creates over 20 colliding ids: one winner per id, the rest 409, no orphans", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    const attempts = ids.flatMap((id) => Array.from({ length: 5 }, () => id));
    const results = await Promise.all(
      attempts.map(async (id) => {
        const res = await host.call("POST", "/v1/sandboxes", { id, labels: { race: "yes" } });
        const body = (await res.json()) as any;
        return { id, status: res.status, body };
      }),
    );
    // Every create beyond the first for an id is a duplicate; one that is not a 409 conflict got through.
    const duplicates = ids.flatMap((id) => results.filter((r) => r.id === id).slice(1));
    const winners = ids.map((id) => results.filter((r) => r.id === id && r.status === 201).length);
    figures.record("colliding creates admitted twice", duplicates.length, winners.filter((w) => w !== 1).length + results.filter((r) => r.status !== 201 && r.status !== 409).length, "creates");
    for (const id of ids) {
      const mine = results.filter((r) => r.id === id);
      expect(mine.filter((r) => r.status === 201), id).toHaveLength(1);
      const losers = mine.filter((r) => r.status !== 201);
      expect(losers.map((r) => r.status)).toEqual([409, 409, 409, 409]);
      for (const l of losers) expect(l.body.error?.code ?? l.body.code).toBe("conflict");
    }
    const dirs = readdirSync(join(host.dataDir, "sandboxes")).sort();
    expect(dirs).toEqual([...ids].sort());
    for (const id of ids) expect(existsSync(join(host.dataDir, "sandboxes", id, "sandbox.json"))).toBe(true);
    const listed = await host.json("GET", "/v1/sandboxes?label.race=yes&limit=100");
    expect(listed.status).toBe(200);
    expect((listed.body.sandboxes as { id: string }[]).map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(workers(host.pid)).toEqual([]);
    // And each works.
    const exec = await host.json("POST", "/v1/sandboxes/race-7/exec", { command: "echo ok" });
    expect(exec.body.stdout).toBe("ok\n");
  });
});

describe("SIGKILL mid-write and mid-exec, then restart", () => {
  it("keeps the registry, shows no half-written file, reaps expired sandboxes, serves again", async () => {
    const dataDir = tempDir();
    const first = await startHost({ dataDir });
    let second: TestHost | undefined;
    try {
      expect((await first.json("POST", "/v1/sandboxes", { id: "victim", labels: { k: "v" }, ttlSeconds: 3600 })).status).toBe(201);
      expect((await first.json("POST", "/v1/sandboxes", { id: "other" })).status).toBe(201);
      expect((await first.json("POST", "/v1/sandboxes", { id: "short", ttlSeconds: 2 })).status).toBe(201);
      const old = "old complete content\n".repeat(1000);
      for (let i = 0; i < 4; i++) {
        expect((await first.call("PUT", `/v1/sandboxes/victim/files/content?path=big-${i}.bin`, old)).status).toBe(200);
      }
      const before = {
        victim: (await first.json("GET", "/v1/sandboxes/victim")).body,
        other: (await first.json("GET", "/v1/sandboxes/other")).body,
      };
      const shortExpires = Date.parse(((await first.json("GET", "/v1/sandboxes/short")).body as { expiresAt: string }).expiresAt);

      // Large streamed uploads: replacing 4 files and creating 4 new ones, each sending slowly.
      const chunk = new Uint8Array(256 * 1024).fill(120);
      let sent = 0;
      const uploads = Array.from({ length: 8 }, (_, i) => {
        const path = i < 4 ? `big-${i}.bin` : `new-${i}.bin`;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            await sleep(20);
            sent += chunk.byteLength;
            controller.enqueue(chunk);
          },
        });
        return first.call("PUT", `/v1/sandboxes/victim/files/content?path=${path}`, body).catch((e: unknown) => e);
      });
      // Long execs, in both sandboxes, one streamed; the marker finds their shells wherever they are reparented.
      const marker = `faults-marker-${process.pid}-${Date.now()}`;
      const execs = [
        first.call("POST", "/v1/sandboxes/victim/exec", { command: `: ${marker}; sleep 60`, timeoutMs: 120000 }).catch((e: unknown) => e),
        first.call("POST", "/v1/sandboxes/other/exec", { command: `: ${marker}; while true; do echo x >> log.txt; sleep 0.01; done`, timeoutMs: 120000 }).catch((e: unknown) => e),
        first.call("POST", "/v1/sandboxes/other/exec/stream", { command: `: ${marker}; yes | head -c 100000000 | cat > /dev/null; sleep 60`, timeoutMs: 120000 }).catch((e: unknown) => e),
      ];
      // Mid-way for real: uploads under way, the execs running, and the loop in "other" has written.
      const logged = () => {
        try {
          return readFileSync(join(workspaceOnHost(dataDir, "other"), "log.txt")).length > 0;
        } catch {
          return false;
        }
      };
      await eventually(() => sent > 8 * 1024 * 1024 && workers(first.pid).length >= 3 && logged(), 15_000);
      const running = workers(first.pid);
      const uploadTemps = readdirSync(workspaceOnHost(dataDir, "victim")).filter((n) => n.startsWith(".sandgate-upload-"));
      expect(uploadTemps.length).toBeGreaterThan(0); // the uploads really are mid-way

      await first.stop("SIGKILL");
      await Promise.all([...uploads, ...execs]);
      expect(running.length).toBeGreaterThanOrEqual(3);
      // Nothing the killed host started survives it (bwrap --die-with-parent, the prefork shell's stdin closes).
      const survivors = () => [...new Set([...running.filter((p) => existsSync(`/proc/${p}`)), ...processesMentioning(dataDir), ...processesMentioning(marker)])];
      await eventually(() => survivors().length === 0, 10_000).catch((err: Error) => {
        figures.record("processes surviving a SIGKILLed host", running.length, survivors().length, "processes");
        // Say which, so a failure here can be diagnosed from the CI log alone.
        throw new Error(`${err.message}: still running after the host's SIGKILL: ${JSON.stringify(survivors().map((p) => `${p}: ${cmdline(p).slice(0, 300)}`))}`);
      });

      figures.record("processes surviving a SIGKILLed host", running.length, 0, "processes");
      // "short" expires while the host is down: wait until its expiry time has passed (bounded by its 2 s TTL).
      expect(shortExpires).toBeGreaterThan(0);
      await eventually(() => Date.now() > shortExpires + 100, 10_000);
      second = await startHost({ dataDir });
      expect((await second.json("GET", "/v1/sandboxes/victim")).body).toEqual(before.victim);
      expect((await second.json("GET", "/v1/sandboxes/other")).body).toEqual(before.other);
      expect((await second.json("GET", "/v1/sandboxes/short")).status).toBe(404);
      expect(second.logs()).toContain("sandbox 'short' expired");
      expect(existsSync(join(dataDir, "sandboxes", "short"))).toBe(false);

      // Replaced files hold their old full content; new ones do not exist; no temp file is listed.
      const replaced: { status: number; text: string }[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await second.call("GET", `/v1/sandboxes/victim/files/content?path=big-${i}.bin`);
        replaced.push({ status: res.status, text: await res.text() });
      }
      const created: number[] = [];
      for (let i = 4; i < 8; i++) created.push((await second.call("GET", `/v1/sandboxes/victim/files/content?path=new-${i}.bin`)).status);
      figures.record("uploads cut by a SIGKILL that left a torn or partial file", replaced.length + created.length, replaced.filter((r) => r.status !== 200 || r.text !== old).length + created.filter((s) => s !== 404).length, "uploads");
      for (const r of replaced) {
        expect(r.status).toBe(200);
        expect(r.text).toBe(old);
      }
      expect(created).toEqual([404, 404, 404, 404]);
      const list = await second.json("GET", "/v1/sandboxes/victim/files?path=/workspace&recursive=true");
      expect(list.status).toBe(200);
      const names = (list.body.entries as { path: string }[]).map((e) => e.path);
      expect(names.some((n) => n.includes(".sandgate-upload-"))).toBe(false);
      expect(names.filter((n) => /big-\d\.bin$/.test(n))).toHaveLength(4);

      // Serves execs normally.
      const exec = await second.json("POST", "/v1/sandboxes/victim/exec", { command: "cat big-0.bin | wc -c" });
      expect(exec.status).toBe(200);
      expect(exec.body.stdout.trim()).toBe(String(old.length));
      const other = await second.json("POST", "/v1/sandboxes/other/exec", { command: "test -s log.txt && echo ok" });
      expect(other.body.stdout).toBe("ok\n");
    } finally {
      await first.stop("SIGKILL");
      await second?.stop();
      removeDir(dataDir);
    }
  });
});

describe("client disconnects mid-stream", () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startHost();
    expect((await host.json("POST", "/v1/sandboxes", { id: "s" })).status).toBe(201);
  });
  afterAll(async () => {
    await host?.stop();
    if (host) removeDir(host.dataDir);
  });

  it("kills the streamed process and keeps serving", async () => {
    /** One disconnect tried: it got through when the streamed process still runs 10 s later. */
    const disconnected = async () => {
      const left = await eventually(() => workers(host.pid).length === 0, 10_000).then(
        () => 0,
        () => 1,
      );
      figures.record("streamed processes left running after the client went away", 1, left, "disconnects");
      expect(left).toBe(0);
    };
    for (let round = 0; round < 3; round++) {
      const controller = new AbortController();
      const res = await fetch(`${host.url}/v1/sandboxes/s/exec/stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ command: "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done", timeoutMs: 120000 }),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      let ticks = 0;
      let runningWhileStreaming = 0;
      // Returning true cancels the body: the client goes away mid-stream.
      await readEvents(res, (e) => {
        if (e.event !== "stdout" || ++ticks < 3) return false;
        runningWhileStreaming = workers(host.pid).length;
        return true;
      });
      controller.abort();
      expect(runningWhileStreaming).toBeGreaterThan(0);
      await disconnected();
    }
    // Also a raw socket that is destroyed without reading anything.
    const runningWhileStreaming = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${host.url}/v1/sandboxes/s/exec/stream`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.once("data", () => {
          const running = workers(host.pid).length;
          req.destroy();
          resolve(running);
        });
      });
      req.on("error", () => {});
      req.once("error", reject);
      req.end(JSON.stringify({ command: "while true; do echo x; sleep 0.05; done", timeoutMs: 120000 }));
    });
    expect(runningWhileStreaming).toBeGreaterThan(0);
    await disconnected();
    const exec = await host.json("POST", "/v1/sandboxes/s/exec", { command: "echo still here" });
    expect(exec.body.stdout).toBe("still here\n");
    expect((await host.json("GET", "/health")).status).toBe(200);
  });
});

describe("load", () => {
  const seconds = Number(process.env.SANDGATE_LOAD_SECONDS ?? 30);
  let host: TestHost;
  beforeAll(async () => {
    host = await startHost();
    expect((await host.json("POST", "/v1/sandboxes", { id: "load" })).status).toBe(201);
    for (let i = 0; i < 8; i++) await host.call("PUT", `/v1/sandboxes/load/files/content?path=f${i}.txt`, `file ${i}\n`);
  });
  afterAll(async () => {
    await host?.stop();
    if (host) removeDir(host.dataDir);
  });

  it(`mixed exec/file/get traffic at 64 connections: no errors, no leaks`, { timeout: seconds * 1000 + 60_000 }, async () => {
    // Warm up (lazy modules, the pre-forked shell), then let the idle shell go, then take the baseline.
    for (let i = 0; i < 5; i++) await host.json("POST", "/v1/sandboxes/load/exec", { command: "true" });
    await host.call("GET", "/v1/sandboxes/load/files/content?path=f0.txt").then((r) => r.text());
    await eventually(() => descendants(host.pid).length === 0, 10_000);
    const baseProcs = descendants(host.pid).length;
    const baseFds = fdCount(host.pid);
    const baseRss = host.rss();

    let n = 0;
    const file = () => `f${n++ % 8}.txt`;
    const result = await autocannon({
      url: host.url,
      connections: 64,
      duration: seconds,
      requests: [
        { method: "POST", path: "/v1/sandboxes/load/exec", headers: { "content-type": "application/json" }, body: JSON.stringify({ command: "true" }) },
        { method: "GET", setupRequest: (req) => ({ ...req, path: `/v1/sandboxes/load/files/content?path=${file()}` }) },
        { method: "PUT", setupRequest: (req) => ({ ...req, path: `/v1/sandboxes/load/files/content?path=${file()}`, body: `written ${n}\n` }) },
        { method: "POST", path: "/v1/sandboxes/load/files/read", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: "f1.txt" }) },
        { method: "POST", path: "/v1/sandboxes/load/files/write", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: "w.txt", content: "w" }) },
        { method: "GET", path: "/v1/sandboxes/load" },
      ],
    });

    // Processes: back to baseline once the idle pre-forked shell has ended.
    let leakedProcs = 0;
    await eventually(() => descendants(host.pid).length <= baseProcs, 10_000).catch(() => {
      leakedProcs = descendants(host.pid).length - baseProcs;
    });
    let fdDelta = 0;
    await eventually(() => (fdDelta = fdCount(host.pid) - baseFds) <= 8, 10_000).catch(() => {});
    // Give the GC a moment; RSS is compared with slack.
    await sleep(1000);
    const rssDelta = host.rss() - baseRss;
    const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
    console.log(
      `load: ${seconds}s, 64 connections: requests=${result.requests.total} (${result.requests.average}/s avg) errors=${result.errors} timeouts=${result.timeouts} non2xx=${result.non2xx} ` +
        `leakedProcesses=${leakedProcs} fdDelta=${fdDelta} (base ${baseFds}) rssDelta=${mib(rssDelta)}MiB (base ${mib(baseRss)}MiB, now ${mib(host.rss())}MiB) p99=${result.latency.p99}ms`,
    );
    figures.record("requests under mixed load that failed (error, timeout or non-2xx)", result.requests.total, result.errors + result.timeouts + result.non2xx, "requests");
    figures.record("processes and fds leaked after load", 2, (leakedProcs > 0 ? 1 : 0) + (fdDelta > 8 ? 1 : 0), "checks");
    expect(result.requests.total).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(leakedProcs).toBe(0);
    expect(fdDelta).toBeLessThanOrEqual(8);
    expect(rssDelta).toBeLessThan(100 * 1024 * 1024);
    // Still serves.
    expect((await host.json("POST", "/v1/sandboxes/load/exec", { command: "echo ok" })).body.stdout).toBe("ok\n");
  });
});
