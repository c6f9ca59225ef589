/**
 * Issue 13's "bounded host memory": logs go to disk, counted against the sandbox. Through the public
 * API against a real host with a small per-sandbox log budget (SANDGATE_LOG_BYTES): a sandbox whose
 * processes print far more than the budget leaves at most the budget in the host's data directory
 * (measured there, not taken from the host's word), its readers get a gap and then the latest output,
 * another sandbox's logs stay whole (the positive control), and the host keeps serving.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Attempts } from "./attempts.ts";
import { type TestHost, eventually, readEvents, removeDir, startHost, tempDir } from "./host.ts";

const TOKEN = "log-budget-test-token";
const MIB = 1024 * 1024;
const BUDGET = 4 * MIB;
/** A log segment file at this budget (log-budget.ts: budget / (2 × 64 running), at least 64 KiB). */
const SEGMENT = 64 * 1024;

const figures = new Attempts("log-budget");
let host: TestHost;
beforeAll(async () => {
  host = await startHost({ token: TOKEN, env: { SANDGATE_LOG_BYTES: String(BUDGET) } });
});
afterAll(async () => {
  figures.save();
  await host?.stop();
  if (host) removeDir(host.dataDir);
});

const base = (sb: string) => `/v1/sandboxes/${sb}/processes`;

/** What `seq 1 n` prints. */
const seqText = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

/** Bytes of the log files in a sandbox's `processes` directory on the host, and of everything there. */
function onDisk(sb: string): { logs: number; all: number } {
  const dir = join(host.dataDir, "sandboxes", sb, "processes");
  let logs = 0;
  let all = 0;
  for (const name of readdirSync(dir)) {
    let size = 0;
    try {
      size = statSync(join(dir, name)).size;
    } catch {
      continue; // deleted between the listing and the stat
    }
    all += size;
    if (name.endsWith(".log") || name.endsWith(".log.1")) logs += size;
  }
  return { logs, all };
}

async function start(sb: string, command: string): Promise<string> {
  const res = await host.json("POST", base(sb), { command });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return (res.body as { id: string }).id;
}

async function logs(sb: string, pid: string, query: string) {
  const res = await host.json("GET", `${base(sb)}/${pid}/logs${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { status: string; stdout: string; firstOffset: number; nextOffset: number; chunks: { offset: number; data: string }[] };
}

async function ended(sb: string, pid: string): Promise<void> {
  await eventually(async () => (await host.json("GET", `${base(sb)}/${pid}`)).body.status !== "running", 60_000);
}

describe("a sandbox's process logs are held to its log budget on the host's disk", () => {
  const NOISY = 8;
  const LINES = 500_000;
  const expected = seqText(LINES);
  const bytes = Buffer.byteLength(expected);
  const LAST_LINES = 1_000_000;
  const lastExpected = seqText(LAST_LINES);

  it("a sandbox printing many times its budget leaves at most the budget, readers get a gap then the latest output, another sandbox is untouched", { timeout: 180_000 }, async () => {
    for (const sb of ["lb-quiet", "lb-noisy"]) expect((await host.json("POST", "/v1/sandboxes", { id: sb })).status).toBe(201);

    // Positive control: a quiet sandbox's whole log, on disk and through the API, before and after.
    const quietText = seqText(20_000);
    const quiet = await start("lb-quiet", "seq 1 20000");
    await ended("lb-quiet", quiet);
    const quietBefore = await logs("lb-quiet", quiet, "?offset=0&limitBytes=1000000");
    expect(quietBefore.stdout).toBe(quietText);
    const quietDisk = onDisk("lb-quiet").logs;
    expect(quietDisk).toBeGreaterThan(quietText.length); // its log is on disk (records add a little)

    // The noisy sandbox: 8 processes print about 3.4 MB each at once (half then keep running, so
    // their last segments stay open), then one prints about 6.9 MB on its own: ~34 MB against 4 MiB.
    let peak = 0;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, onDisk("lb-noisy").logs);
      } catch {
        // the directory is made with the first process
      }
    }, 20);
    const noisy: string[] = [];
    try {
      for (let i = 0; i < NOISY; i++) noisy.push(await start("lb-noisy", i % 2 === 0 ? `seq 1 ${LINES}` : `seq 1 ${LINES}; exec sleep 600`));
      // Control: every byte reached the host (each log ends where the output did).
      const deadline = Date.now() + 120_000;
      for (;;) {
        const ends = await Promise.all(noisy.map(async (pid) => (await logs("lb-noisy", pid, "?limitBytes=1")).nextOffset));
        if (ends.every((e) => e === bytes)) break;
        expect(Date.now(), `output did not all reach the host: ${ends.join(", ")}`).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 500));
      }
      const last = await start("lb-noisy", `seq 1 ${LAST_LINES}`);
      await ended("lb-noisy", last);
      for (let i = 0; i < NOISY; i += 2) await ended("lb-noisy", noisy[i]!);

      // The host's disk: at most the budget of logs for the whole sandbox.
      const disk = onDisk("lb-noisy");
      console.log(
        `log-budget: ${((NOISY * bytes + lastExpected.length) / MIB).toFixed(1)} MiB printed against a ${BUDGET / MIB} MiB budget; on the host's disk ${(disk.logs / MIB).toFixed(2)} MiB of logs (${(disk.all / MIB).toFixed(2)} MiB with records), peak sampled ${(peak / MIB).toFixed(2)} MiB`,
      );
      figures.record("process logs over the sandbox's log budget on the host's disk", 1, disk.logs > BUDGET ? 1 : 0, `measures after ${((NOISY * bytes + lastExpected.length) / MIB).toFixed(1)} MiB printed; ${(disk.logs / MIB).toFixed(2)} MiB of ${BUDGET / MIB}`);
      expect(disk.logs).toBeLessThanOrEqual(BUDGET);
      expect(disk.logs).toBeGreaterThan(BUDGET / 2); // control: the budget is used, not everything thrown away
      // While they printed too, up to what moves during one sample: it stats file after file, not one
      // instant, so a segment counted just before its deletion and the write the deletion made room for
      // can both be in it (one segment, 64 KiB at this budget, is ample).
      expect(peak).toBeLessThanOrEqual(BUDGET + SEGMENT);

      // The newest process's readers: its start was dropped (a gap), then its latest output, exactly.
      const read = await logs("lb-noisy", last, "?offset=0&limitBytes=16777216");
      expect(read.firstOffset).toBeGreaterThan(0);
      expect(read.nextOffset).toBe(lastExpected.length);
      expect(read.chunks[0]!.offset).toBe(read.firstOffset);
      expect(read.stdout).toBe(lastExpected.slice(read.firstOffset));
      expect(read.stdout.length).toBeGreaterThan(MIB);
      const events = await readEvents(await host.call("GET", `${base("lb-noisy")}/${last}/logs/stream?offset=0`));
      expect(events[0]).toMatchObject({ event: "gap", data: { offset: 0 } });
      const from = (events[0]!.data as { nextOffset: number }).nextOffset;
      const streamed = events
        .filter((e) => e.event === "stdout")
        .map((e) => (e.data as { data: string }).data)
        .join("");
      expect(streamed).toBe(lastExpected.slice(from));
      expect(events.at(-1)).toMatchObject({ event: "exit", data: { status: "exited", exitCode: 0, nextOffset: lastExpected.length } });

      // Older processes' logs may be gone entirely, but their offsets hold: each ends where its output did.
      for (const pid of noisy) {
        const old = await logs("lb-noisy", pid, "?offset=0&limitBytes=16777216");
        expect(old.nextOffset).toBe(bytes);
        expect(old.stdout).toBe(expected.slice(old.firstOffset));
      }
      const oldEvents = await readEvents(await host.call("GET", `${base("lb-noisy")}/${noisy[0]}/logs/stream?offset=0`));
      expect(oldEvents[0]!.event).toBe("gap");
      expect(oldEvents.at(-1)).toMatchObject({ event: "exit", data: { nextOffset: bytes } });
    } finally {
      clearInterval(sampler);
    }

    // The other sandbox's log is untouched, on disk and through the API.
    figures.record("another sandbox's logs touched by one over its log budget", 1, onDisk("lb-quiet").logs === quietDisk ? 0 : 1, "sandboxes");
    expect(onDisk("lb-quiet").logs).toBe(quietDisk);
    expect((await logs("lb-quiet", quiet, "?offset=0&limitBytes=1000000")).stdout).toBe(quietText);

    // The host keeps serving: a new sandbox runs a command, and the noisy one goes when deleted.
    expect((await host.json("POST", "/v1/sandboxes", { id: "lb-after" })).status).toBe(201);
    const exec = await host.json("POST", "/v1/sandboxes/lb-after/exec", { command: "echo still-serving" });
    expect(exec.body).toMatchObject({ exitCode: 0, stdout: "still-serving\n" });
    expect((await host.call("DELETE", "/v1/sandboxes/lb-noisy")).status).toBe(204);
  });

  it("a host restarted with a smaller budget counts the logs left on disk against it, and every log still ends where it did", { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    const first = await startHost({ token: TOKEN, dataDir, env: { SANDGATE_LOG_BYTES: String(BUDGET) } });
    let second: TestHost | undefined;
    const saved = host;
    try {
      host = first;
      expect((await host.json("POST", "/v1/sandboxes", { id: "lb-restart" })).status).toBe(201);
      const text = seqText(150_000);
      const pids: string[] = [];
      for (let i = 0; i < 3; i++) {
        pids.push(await start("lb-restart", "seq 1 150000"));
        await ended("lb-restart", pids[i]!);
      }
      const before = onDisk("lb-restart").logs;
      expect(before).toBeGreaterThan(3 * text.length); // control: all three whole under the first budget
      for (const pid of pids) expect((await logs("lb-restart", pid, "?offset=0&limitBytes=16777216")).stdout).toBe(text);
      await first.stop();

      second = await startHost({ token: TOKEN, dataDir, env: { SANDGATE_LOG_BYTES: String(MIB) } });
      host = second;
      const after = onDisk("lb-restart").logs;
      console.log(`log-budget: after a restart with a 1 MiB budget, ${(before / MIB).toFixed(2)} MiB of logs became ${(after / MIB).toFixed(2)} MiB`);
      expect(after).toBeLessThanOrEqual(MIB);
      expect(after).toBeGreaterThan(MIB / 2);
      for (const pid of pids) {
        const read = await logs("lb-restart", pid, "?offset=0&limitBytes=16777216");
        expect(read.nextOffset).toBe(text.length);
        expect(read.stdout).toBe(text.slice(read.firstOffset));
      }
      // The newest log kept the most: the oldest output went first.
      const newest = await logs("lb-restart", pids[2]!, "?offset=0&limitBytes=16777216");
      expect(newest.stdout.length).toBeGreaterThan(MIB / 2);
      expect((await logs("lb-restart", pids[0]!, "?offset=0&limitBytes=16777216")).stdout).toBe("");
    } finally {
      host = saved;
      await first.stop();
      await second?.stop();
    }
  });
});
