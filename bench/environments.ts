/**
 * The local runtime's hot paths with one long-lived environment per sandbox, each figure against a
 * baseline measured in the same run, doing the same work from this process:
 *
 *   exec p50/p99     POST .../exec {"argv":["/bin/true"]}            vs  spawn("/bin/true") from here
 *   execs/s          32 clients execing /bin/true in a loop           vs  32 spawn loops of /bin/true
 *   stream 64 MiB    POST .../exec/stream of `head -c 64M /dev/zero`  vs  the same command's bytes
 *                    read from a pipe (spawn here, output discarded)
 *   create p50       POST /v1/sandboxes (no git, no snapshot); first exec in a new sandbox (printed)
 *   scale            exec p50 and create p50 with 1, 100 and 300 sandboxes whose environments are
 *                    started and idle; host RSS and the RSS of each idle environment (bubblewrap and
 *                    the agent, summed from /proc) at each step
 *
 *   node --import tsx bench/environments.ts     BENCH_ENV_N=300  BENCH_ENV_SCALE=1,100,300
 */
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Host, startHost, stopHost } from "./host.ts";

const N = Number(process.env.BENCH_ENV_N ?? 300);
const SCALE = (process.env.BENCH_ENV_SCALE ?? "1,100,300").split(",").map(Number);
const CONCURRENCY = 32;
const SUSTAIN_MS = 3000;

const log = (line: string) => process.stderr.write(`${line}\n`);
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return { status: res.status, json };
}

async function execTrue(host: Host, id: string): Promise<number> {
  const started = performance.now();
  const { json } = await post(`${host.url}/v1/sandboxes/${id}/exec`, { argv: ["/bin/true"] });
  if (json.exitCode !== 0) throw new Error(`exec exited ${String(json.exitCode)}`);
  return performance.now() - started;
}

function spawnTrue(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/true", [], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.once("error", reject);
    child.once("close", () => resolve(performance.now() - started));
  });
}

async function createSandbox(host: Host, id: string): Promise<number> {
  const started = performance.now();
  await post(`${host.url}/v1/sandboxes`, { id, ttlSeconds: 3600 });
  return performance.now() - started;
}

/** Runs `op` from `clients` loops for `durationMs`; answers operations per second. */
async function sustained(clients: number, durationMs: number, op: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + durationMs;
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        await op();
        done++;
      }
    }),
  );
  return done / (durationMs / 1000);
}

/** Bytes of a streamed exec, read as SSE and discarded; answers MB/s. */
async function streamExec(host: Host, id: string, bytes: number): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${host.url}/v1/sandboxes/${id}/exec/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ command: `head -c ${bytes} /dev/zero | tr "\\0" a`, timeoutMs: 120_000 }),
  });
  const reader = res.body!.getReader();
  let seen = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += value.byteLength;
  }
  if (seen < bytes) throw new Error(`stream carried ${seen} bytes, fewer than the ${bytes} printed`);
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

function pipeBaseline(bytes: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", `head -c ${bytes} /dev/zero | tr "\\0" a`], { stdio: ["ignore", "pipe", "ignore"] });
    child.stdout.resume();
    child.once("error", reject);
    child.once("close", () => resolve(bytes / 1e6 / ((performance.now() - started) / 1000)));
  });
}

/** RSS (KiB) of the environments below the host: bubblewrap's processes and the agents. */
function environmentRss(hostPid: number): { count: number; kib: number } {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  const rss = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const pid = Number(name);
      comm.set(pid, stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")));
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      rss.set(pid, Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${name}/status`, "utf8"))?.[1] ?? 0));
    } catch {
      // gone
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === hostPid) return true;
    return false;
  };
  let kib = 0;
  let agents = 0;
  for (const [pid, name] of comm) {
    if (!below(pid) || (name !== "bwrap" && name !== "agent")) continue;
    kib += rss.get(pid) ?? 0;
    if (name === "agent") agents++;
  }
  return { count: agents, kib };
}

function hostRss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "sandgate-envbench-"));
  const host = await startHost(join(root, "data"), { SANDGATE_DISK_BYTES: String(256 * 1024 * 1024) });
  const rows: string[][] = [];
  try {
    await createSandbox(host, "hot");
    for (let i = 0; i < 30; i++) (await execTrue(host, "hot"), await spawnTrue());
    const rest: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < N; i++) {
      rest.push(await execTrue(host, "hot"));
      direct.push(await spawnTrue());
    }
    const [r50, r99, d50] = [pct(rest, 50), pct(rest, 99), pct(direct, 50)];
    rows.push(["exec /bin/true p50 (REST)", ms(r50), `direct spawn ${ms(d50)}`, `${(r50 / d50).toFixed(2)}x`, "<= 4 ms and <= 2.5x"]);
    rows.push(["exec /bin/true p99 (REST)", ms(r99), `direct spawn p99 ${ms(pct(direct, 99))}`, "", "<= 12 ms"]);

    const restRate = await sustained(CONCURRENCY, SUSTAIN_MS, () => execTrue(host, "hot"));
    const spawnRate = await sustained(CONCURRENCY, SUSTAIN_MS, () => spawnTrue());
    rows.push([`execs/s at ${CONCURRENCY} clients`, restRate.toFixed(0), `spawn loop ${spawnRate.toFixed(0)}/s`, (restRate / spawnRate).toFixed(2), ">= 0.6"]);

    const bytes = 64 * 1024 * 1024;
    await streamExec(host, "hot", 1024 * 1024);
    const streamed = await streamExec(host, "hot", bytes);
    const piped = await pipeBaseline(bytes);
    rows.push(["exec stream 64 MiB", `${streamed.toFixed(0)} MB/s`, `pipe ${piped.toFixed(0)} MB/s`, (streamed / piped).toFixed(2), ">= 0.5"]);

    const creates: number[] = [];
    const firsts: number[] = [];
    for (let i = 0; i < 20; i++) {
      creates.push(await createSandbox(host, `c${i}`));
      firsts.push(await execTrue(host, `c${i}`));
    }
    rows.push(["create sandbox p50", ms(pct(creates, 50)), `first exec in it p50 ${ms(pct(firsts, 50))}`, "", "<= 20 ms"]);
    for (let i = 0; i < 20; i++) await fetch(`${host.url}/v1/sandboxes/c${i}`, { method: "DELETE" });

    // Scale: environments started and left idle; exec and create must not grow with their number.
    let made = 0;
    let base: number | undefined;
    for (const target of SCALE) {
      while (made < target - 1) {
        await createSandbox(host, `idle-${made}`);
        await execTrue(host, `idle-${made}`);
        made++;
      }
      const samples: number[] = [];
      for (let i = 0; i < 100; i++) samples.push(await execTrue(host, "hot"));
      const createSamples: number[] = [];
      for (let i = 0; i < 10; i++) {
        createSamples.push(await createSandbox(host, `probe-${target}-${i}`));
        await fetch(`${host.url}/v1/sandboxes/probe-${target}-${i}`, { method: "DELETE" });
      }
      const p50 = pct(samples, 50);
      base ??= p50;
      const env = environmentRss(host.child.pid!);
      rows.push([
        `${target} sandbox(es), idle envs started`,
        `exec p50 ${ms(p50)} (${(p50 / base).toFixed(2)}x of 1)`,
        `create p50 ${ms(pct(createSamples, 50))}`,
        `host RSS ${(hostRss(host.child.pid!) / 1024).toFixed(0)} MiB; ${env.count} envs, ${(env.kib / Math.max(1, env.count) / 1024).toFixed(1)} MiB each`,
        "exec <= 1.2x of 1; create <= 20 ms",
      ]);
    }
  } finally {
    await stopHost(host);
    await rm(root, { recursive: true, force: true });
  }
  console.log("\nlocal runtime, one environment per sandbox (each row: figure, baseline in the same run, ratio, target)");
  for (const row of rows) console.log(`  ${row[0]!.padEnd(36)} ${row[1]!.padEnd(28)} ${row[2]!.padEnd(30)} ${row[3]!.padEnd(8)} ${row[4]}`);
}

await main();
