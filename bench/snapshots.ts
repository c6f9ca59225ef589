/**
 * Snapshot figures (issue 14), each against a baseline measured in the same run on a workspace of
 * BENCH_SNAPSHOT_FILES files totalling BENCH_SNAPSHOT_MB MiB (defaults 10,000 and 1024):
 *   snapshot ÷ `tar -cf` of the same tree to a file; a second, unchanged snapshot ÷ the first (and its
 *   new stored bytes); create-from-snapshot ÷ `cp -a`; fork ×10 ÷ one create-from-snapshot; archive
 *   export and import MB/s ÷ `tar -cf - | cat >/dev/null` and `tar -xf`; the host's RSS growth.
 * The baselines run on a tree of the same shape made on the host by the same generator.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Host, startHost, stopHost } from "./host.ts";

const run = promisify(execFile);
const MiB = 1024 * 1024;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, not '${raw}'`);
  return value;
}

const TOTAL_MB = positiveInt("BENCH_SNAPSHOT_MB", 1024);
const FILES = positiveInt("BENCH_SNAPSHOT_FILES", 10_000);
const FORK_N = 10;
const log = (line: string) => process.stderr.write(`bench snapshots: ${line}\n`);

/** Writes FILES random files of equal size under `dir`, 100 to a directory (python3: in the sandbox and on the host alike). */
const generator = (dir: string) =>
  `import os\nsize=${Math.floor((TOTAL_MB * MiB) / FILES)}\nfor i in range(${FILES}):\n d=os.path.join(${JSON.stringify(dir)},'d%d'%(i//100))\n os.makedirs(d,exist_ok=True)\n open(os.path.join(d,'f%d'%i),'wb').write(os.urandom(size))\n`;

async function call<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(url + path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

async function rssOf(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) * 1024;
}

const sh = (script: string) => run("sh", ["-c", script], { maxBuffer: 16 * MiB });

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "sandgate-bench-snap-"));
  let host: Host | undefined;
  try {
    log(`temp dir ${root}; ${FILES} files, ${TOTAL_MB} MiB`);
    host = await startHost(join(root, "host-data"), { SANDGATE_MAX_SNAPSHOT_BYTES: String(4 * TOTAL_MB * MiB) });
    const { url } = host;
    const pid = host.child.pid!;
    // Which restore path the host uses (service/src/backends/local/disk.ts): clones in the disk pool, or copies.
    log(`disks: ${existsSync(join(root, "host-data", "pool.img")) ? "the btrfs pool (restores clone the stored files)" : "an image per sandbox (restores copy)"}`);
    const rssStart = await rssOf(pid, "VmRSS");
    // The peak after each phase, so a growth beyond the target names the phase that made it.
    const peaks: string[] = [];
    const peakAfter = async (phase: string) => peaks.push(`${phase} +${(((await rssOf(pid, "VmHWM")) - rssStart) / MiB).toFixed(1)}`);

    await call(url, "POST", "/v1/sandboxes", { id: "bench-snap" });
    const made = await call<{ exitCode: number; stderr: string }>(url, "POST", "/v1/sandboxes/bench-snap/exec", {
      argv: ["python3", "-c", generator("/workspace/tree")],
      timeoutMs: 600_000,
    });
    if (made.exitCode !== 0) throw new Error(`generating the workspace failed: ${made.stderr}`);
    const hostTree = join(root, "tree");
    await run("python3", ["-c", generator(hostTree)], { maxBuffer: MiB });
    await sh("sync");

    const tarFile = join(root, "baseline.tar");
    const tarMs = (await timed(() => run("tar", ["-cf", tarFile, "-C", root, "tree"]))).ms;
    await peakAfter("workspace made");
    const first = await timed(() => call<{ id: string; storedBytes: number }>(url, "POST", "/v1/sandboxes/bench-snap/snapshots", {}));
    await peakAfter("snapshot");
    const second = await timed(() => call<{ id: string; storedBytes: number }>(url, "POST", "/v1/sandboxes/bench-snap/snapshots", {}));

    const cpMs = (await timed(() => run("cp", ["-a", hostTree, join(root, "tree-copy")]))).ms;
    const create = await timed(() => call(url, "POST", "/v1/sandboxes", { id: "bench-from", fromSnapshot: first.value.id }));
    await peakAfter("create from snapshot");
    const fork = await timed(() => call<{ sandboxes: { id: string }[] }>(url, "POST", "/v1/sandboxes/bench-snap/fork", { count: FORK_N }));
    await peakAfter("fork");

    const streamMs = (await timed(() => sh(`tar -cf - -C ${JSON.stringify(root)} tree | cat >/dev/null`))).ms;
    // Export and import by curl: a client that is not itself the limit (undici's fetch, reading a
    // web stream chunk by chunk, is: it holds both to a third of what curl sees).
    const exportMs = (await timed(() => sh(`curl -sSf -o /dev/null ${url}/v1/snapshots/${first.value.id}/archive`))).ms;

    await peakAfter("export");
    const archive = join(root, "export.tar");
    await sh(`curl -sf -o ${JSON.stringify(archive)} ${url}/v1/snapshots/${second.value.id}/archive`);
    const archiveBytes = (await stat(archive)).size;
    await mkdir(join(root, "untar"));
    const untarMs = (await timed(() => run("tar", ["-xf", archive, "-C", join(root, "untar")]))).ms;
    const importMs = (
      await timed(async () => {
        const { stdout: out } = await sh(`curl -sS -o - -w '\\n%{http_code}' -X POST -H 'content-type: application/octet-stream' -T ${JSON.stringify(archive)} '${url}/v1/snapshots?name=bench-import'`);
        if (!out.trimEnd().endsWith("201")) throw new Error(`import: ${out.slice(0, 500)}`);
      })
    ).ms;
    await peakAfter("import");
    const rssGrowth = (await rssOf(pid, "VmHWM")) - rssStart;

    const tarBytes = (await stat(tarFile)).size;
    const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
    const f = (v: number) => v.toFixed(2);
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const rows: [string, string, string, string, string][] = [
      ["snapshot", ms(first.ms), ms(tarMs), f(first.ms / tarMs), "baseline tar -cf to a file; target <= 1.0"],
      ["second snapshot, unchanged", ms(second.ms), ms(first.ms), f(second.ms / first.ms), `new stored bytes ${second.value.storedBytes}; targets <= 0.05 and <= 1 MiB`],
      ["create from snapshot", ms(create.ms), ms(cpMs), f(create.ms / cpMs), "baseline cp -a; target <= 0.1"],
      [`fork x${FORK_N}`, ms(fork.ms), ms(create.ms), f(fork.ms / create.ms), "baseline one create from snapshot; target <= 2"],
      ["archive export (MB/s)", f(mbps(archiveBytes, exportMs)), f(mbps(tarBytes, streamMs)), f(mbps(archiveBytes, exportMs) / mbps(tarBytes, streamMs)), "by curl; baseline tar -cf - | cat; target >= 0.5"],
      ["archive import (MB/s)", f(mbps(archiveBytes, importMs)), f(mbps(archiveBytes, untarMs)), f(mbps(archiveBytes, importMs) / mbps(archiveBytes, untarMs)), "by curl -T; baseline tar -xf; content already stored (dedup)"],
      ["host RSS growth", `${(rssGrowth / MiB).toFixed(1)} MiB`, "", "", `VmHWM at the end - VmRSS at start; target <= 64 MiB; peak after each phase (MiB): ${peaks.join(", ")}`],
    ];
    const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length), 8));
    console.log(`snapshots: ${FILES} files, ${TOTAL_MB} MiB`);
    for (const row of [["figure", "sandgate", "baseline", "ratio", "note"], ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join("  "));
    // The host's own account of each snapshot of the workspace (tar bytes read, time reading vs committing).
    for (const line of host.output().split("\n")) if (/of sandbox 'bench-snap': /.test(line)) console.log(line.replace(/^.*?snapshot '/, "snapshot '"));
    for (const sandbox of [...fork.value.sandboxes.map((s) => s.id), "bench-from", "bench-snap"]) await call(url, "DELETE", `/v1/sandboxes/${sandbox}`);
  } finally {
    if (host) await stopHost(host);
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
