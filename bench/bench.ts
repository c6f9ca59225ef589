/**
 * Sandgate benchmark: every figure is set against a baseline measured in the same run, on the same
 * machine, so the ratios mean something where the absolute numbers do not.
 *
 *   exec      POST /v1/sandboxes/{id}/exec {"argv":["/bin/true"]}, against two baselines, both cold
 *             like it (nothing is forked ahead of a request on either side: the sandbox's agent
 *             fork+execs each command, as spawn does):
 *             - like with like: the same exec through a LocalBackend in this process, into a sandbox
 *               of its own (same environment, same agent, same cold fork; no HTTP, no host process);
 *             - a direct spawn of /bin/true from this process (no sandbox at all: the whole cost).
 *   upload    PUT  .../files/content streamed from disk             vs  `cp` of the same file (a read and a write)
 *   download  GET  .../files/content streamed and discarded         vs  reading the same file into /dev/null
 *             (`cat file > /dev/null`: a read only, as the download's client writes nothing)
 *   curl      the same upload (`curl -T file`) and download (`curl -o file`) by curl  vs  `cp`: a read and
 *             a write each, by a client that is not the limit (this process's node:http client is)
 *   proxy     GET through /v1/sandboxes/{id}/ports/8080/... (small answers: p50 round trip; 64 MiB:
 *             throughput)  vs  the same GET straight to the sandbox's address (LocalBackend.portAddress)
 *             from this process, to the same app (service/test/fixtures/port-app.mjs) in a baseline sandbox
 *   memory    peak RSS (VmHWM) of the host process
 *   (and, for reading the exec gap: GET /health round trips, and the host's own durationMs)
 *
 * The host runs as a child process (so its RSS is its own); the baseline backend runs in this process
 * on a data directory of its own (two backends must never share one).
 *
 *   npm run bench                      BENCH_EXEC_N=200  BENCH_FILE_MB=256
 *
 * Downloads are consumed and discarded (as into /dev/null), so the client's own disk writes do not
 * count against the host, and their baseline is a read into /dev/null; one extra, untimed download is
 * hashed to check the bytes.
 */
import { spawn } from "node:child_process";
import { type Hash, createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { LocalBackend } from "../service/src/backends/local/index.ts";
/** A command spawned straight from this process (the exec baseline). */
interface Launch {
  command: { file: string; args: string[]; env: Record<string, string> };
}
import { type Host, startHost, stopHost } from "./host.ts";

const EXEC_TARGET_P50 = 1.15;
const PROXY_APP = new URL("../service/test/fixtures/port-app.mjs", import.meta.url);
const PROXY_PORT = 8080;
const PROXY_STREAM_BYTES = 64 * 1024 * 1024;
const WARMUP = 20;
const MiB = 1024 * 1024;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

const EXEC_N = positiveInt("BENCH_EXEC_N", 200);
const FILE_MB = positiveInt("BENCH_FILE_MB", 256);
const FILE_BYTES = FILE_MB * MiB;
/** Rounds of cp, upload and download; the median of each is reported. */
const FILE_REPS = 3;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

// ---------------------------------------------------------------------------------------------
// The host, as a child process

/** Peak resident set size of a live process, in bytes (VmHWM in /proc/<pid>/status). */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

async function json<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

/** Round-trip time as the client sees it, and the command's duration as the host measured it. */
async function restExec(url: string, id: string): Promise<{ rtt: number; server: number }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/sandboxes/${id}/exec`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ argv: ["/bin/true"] }),
  });
  const result = await json<ExecResult>(res, "exec");
  const rtt = performance.now() - started;
  if (result.exitCode !== 0) throw new Error(`exec of /bin/true exited ${result.exitCode}: ${result.stderr}`);
  return { rtt, server: result.durationMs };
}

/** Like with like: the same exec through a backend in this process (its sandbox's agent forks it cold). */
async function backendExec(backend: LocalBackend, id: string): Promise<number> {
  const started = performance.now();
  const result = await backend.exec(id, { argv: ["/bin/true"], cwd: "/workspace", env: {}, timeoutMs: 30_000, maxOutputBytes: 1 << 20 });
  const elapsed = performance.now() - started;
  if (result.exitCode !== 0) throw new Error(`in-process exec of /bin/true exited ${result.exitCode}: ${result.stderr}`);
  return elapsed;
}

/** The floor a direct caller pays: spawn the same program cold, collect its output, wait for the end. */
function directExec(launch: Launch): Promise<number> {
  const started = performance.now();
  return new Promise((resolveTime, reject) => {
    const child = spawn(launch.command.file, launch.command.args, { env: launch.command.env, stdio: ["ignore", "pipe", "pipe"] });
    const output: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      const elapsed = performance.now() - started;
      if (code !== 0) reject(new Error(`direct spawn of ${launch.command.file} ended with ${signal ?? code}: ${Buffer.concat(output).toString()}`));
      else resolveTime(elapsed);
    });
  });
}

/** PUT the file as a stream (Content-Length set, never buffered whole in this process). */
function upload(url: string, id: string, path: string, file: string, size: number): Promise<{ status: number; body: string }> {
  return new Promise((resolveUpload, reject) => {
    const req = request(
      `${url}/v1/sandboxes/${id}/files/content?path=${encodeURIComponent(path)}`,
      { method: "PUT", headers: { "content-type": "application/octet-stream", "content-length": String(size) } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.once("end", () => resolveUpload({ status: res.statusCode ?? 0, body }));
        res.once("error", reject);
      },
    );
    req.once("error", reject);
    pipeline(createReadStream(file, { highWaterMark: MiB }), req).catch(reject);
  });
}

/**
 * GET the file and stream it into `sink` (default: discarded, like > /dev/null); resolves with the
 * bytes received and the declared Content-Length.
 */
function download(url: string, id: string, path: string, sink: Writable = discard()): Promise<{ status: number; bytes: number; declared: string | undefined }> {
  return new Promise((resolveDownload, reject) => {
    const req = request(`${url}/v1/sandboxes/${id}/files/content?path=${encodeURIComponent(path)}`, { method: "GET" }, (res) => {
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      pipeline(res, counter, sink).then(() => resolveDownload({ status: res.statusCode ?? 0, bytes, declared: res.headers["content-length"] }), reject);
    });
    req.once("error", reject);
    req.end();
  });
}

function discard(): Writable {
  return new Writable({
    write(_chunk: Buffer, _encoding, callback) {
      callback();
    },
  });
}

/**
 * The floor of a file transfer through node:http on this machine: a bare server in a process of its
 * own that writes a PUT's body to a file and streams a file back on GET (no routes, no auth, no
 * sandbox), each with 1 MiB stream buffers. Resolves with its URL and a stop function.
 */
async function startBareFileServer(dir: string): Promise<{ url: string; stop: () => void }> {
  const program = `
const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
const file = (url) => path.join(process.argv[1], path.basename(new URL(url, "http://x").pathname));
http.createServer((req, res) => {
  if (req.method === "PUT") {
    const out = fs.createWriteStream(file(req.url), { highWaterMark: 1 << 20 });
    req.pipe(out).on("finish", () => res.end("{}"));
  } else {
    const name = file(req.url);
    res.writeHead(200, { "content-length": fs.statSync(name).size });
    fs.createReadStream(name, { highWaterMark: 1 << 20 }).pipe(res);
  }
}).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ["-e", program, dir], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolvePort, reject) => {
    child.stdout.once("data", (d: Buffer) => resolvePort(d.toString().trim()));
    child.once("exit", (code) => reject(new Error(`the bare node:http server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

// ---------------------------------------------------------------------------------------------
// Files and numbers

async function writeRandomFile(path: string, size: number): Promise<void> {
  const handle = await open(path, "w");
  try {
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(4 * MiB, size - written));
      await handle.write(chunk);
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path, { highWaterMark: MiB }), hashSink(hash));
  return hash.digest("hex");
}

function hashSink(hash: Hash): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
}

async function uploadChecked(url: string, id: string, path: string, file: string, size: number): Promise<void> {
  const { status, body } = await upload(url, id, path, file, size);
  if (status !== 200) throw new Error(`upload: HTTP ${status}: ${body}`);
  const reported = (JSON.parse(body) as { size: number }).size;
  if (reported !== size) throw new Error(`upload: the host reports ${reported} bytes, ${size} were sent`);
}

async function downloadChecked(url: string, id: string, path: string, size: number, sink?: Writable): Promise<void> {
  const { status, bytes, declared } = await download(url, id, path, sink);
  if (status !== 200) throw new Error(`download: HTTP ${status}`);
  if (bytes !== size) throw new Error(`download: received ${bytes} bytes, expected ${size}`);
  if (declared !== undefined && Number(declared) !== size) throw new Error(`download: Content-Length ${declared}, expected ${size}`);
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code, signal) => (code === 0 ? resolveRun() : reject(new Error(`${file} ${args.join(" ")} ended with ${signal ?? code}`))));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Decimal megabytes per second. */
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

// ---------------------------------------------------------------------------------------------

type Row = [figure: string, value: string, baseline: string, ratio: string, note: string];

function table(rows: Row[]): string {
  const header: Row = ["figure", "sandgate", "baseline", "ratio", "note"];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const rightAligned = new Set([1, 2, 3]);
  const line = (r: Row) =>
    r
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "sandgate-bench-"));
  let host: Host | undefined;
  let baseline: LocalBackend | undefined;
  let hostSandbox: string | undefined;
  let baselineSandbox: string | undefined;
  const onSignal = () => {
    if (host) host.child.kill("SIGTERM");
    void rm(root, { recursive: true, force: true }).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  try {
    log(`temp dir ${root}; exec N=${EXEC_N} (+${WARMUP} warmup), file ${FILE_MB} MiB`);
    host = await startHost(join(root, "host-data"), { SANDGATE_MAX_FILE_BYTES: String(Math.max(1024 * MiB, FILE_BYTES + MiB)) });
    const { url } = host;
    log(`host pid ${host.child.pid} at ${url}`);

    const created = await json<{ id: string }>(
      await fetch(`${url}/v1/sandboxes`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ labels: { purpose: "bench" } }) }),
      "createSandbox",
    );
    hostSandbox = created.id;

    // The baseline: the same kind of backend, its own data dir, its own sandbox id (cgroups are
    // named by sandbox id machine-wide, so the ids must differ).
    baseline = await LocalBackend.open({ dataDir: join(root, "baseline-data"), isolation: "bwrap" });
    baselineSandbox = `bench-baseline-${process.pid}`;
    const now = Date.now();
    await baseline.createSandbox({
      id: baselineSandbox,
      labels: {},
      env: {},
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3600_000).toISOString(),
    });
    // Every command of a sandbox now starts inside its long-lived environment: the floor to compare
    // with is a direct spawn of the same program from this process.
    const launch: Launch = { command: { file: "/bin/true", args: [], env: {} } };

    // ---- exec round trip: interleaved, so drift on the machine hits both sides alike
    log("exec: warming up");
    for (let i = 0; i < WARMUP; i++) {
      await restExec(url, hostSandbox);
      await backendExec(baseline, baselineSandbox);
      await directExec(launch);
    }
    log("exec: measuring");
    const rest: number[] = [];
    const serverSide: number[] = [];
    const inProcess: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < EXEC_N; i++) {
      const { rtt, server } = await restExec(url, hostSandbox);
      rest.push(rtt);
      serverSide.push(server);
      inProcess.push(await backendExec(baseline, baselineSandbox));
      direct.push(await directExec(launch));
    }
    for (const list of [rest, serverSide, inProcess, direct]) list.sort((x, y) => x - y);
    const restP50 = percentile(rest, 50);
    const restP99 = percentile(rest, 99);
    const serverP50 = percentile(serverSide, 50);
    const inProcessP50 = percentile(inProcess, 50);
    const inProcessP99 = percentile(inProcess, 99);
    const directP50 = percentile(direct, 50);
    const directP99 = percentile(direct, 99);
    // The floor of any REST call: a round trip to the public liveness route.
    const health: number[] = [];
    for (let i = 0; i < WARMUP + EXEC_N; i++) {
      const started = performance.now();
      await json<{ ok: boolean }>(await fetch(`${url}/health`), "health");
      if (i >= WARMUP) health.push(performance.now() - started);
    }
    health.sort((x, y) => x - y);
    const rssAfterExec = await peakRss(host.child.pid!);

    // ---- file transfer: a small warm-up pass, then FILE_REPS interleaved rounds of cp, upload, a
    // read into /dev/null and download; the median of each is reported. The source sits in the page
    // cache for all of them (and the download reads the sandbox's copy, which the upload just wrote).
    const source = join(root, "big.bin");
    const copy = join(root, "big.cp.bin");
    const warm = join(root, "warm.bin");
    const warmBytes = Math.min(FILE_BYTES, 16 * MiB);
    log(`files: writing ${FILE_MB} MiB of random bytes`);
    await writeRandomFile(source, FILE_BYTES);
    const sourceHash = await sha256File(source);
    await writeRandomFile(warm, warmBytes);
    await uploadChecked(url, hostSandbox, "warm.bin", warm, warmBytes);
    await downloadChecked(url, hostSandbox, "warm.bin", warmBytes);
    await rm(warm);

    const cpTimes: number[] = [];
    const readTimes: number[] = [];
    const uploadTimes: number[] = [];
    const downloadTimes: number[] = [];
    const curlUploadTimes: number[] = [];
    const curlDownloadTimes: number[] = [];
    const fileUrl = (path: string) => `${url}/v1/sandboxes/${hostSandbox}/files/content?path=${path}`;
    const bare = await startBareFileServer(root);
    const bareUploadTimes: number[] = [];
    const bareDownloadTimes: number[] = [];
    for (let round = 1; round <= FILE_REPS; round++) {
      log(`files: round ${round}/${FILE_REPS}: cp, upload, read to /dev/null, download; curl upload and download to a file`);
      cpTimes.push(await timed(() => run("cp", [source, copy])));
      await rm(copy);
      uploadTimes.push(await timed(() => uploadChecked(url, hostSandbox!, "big.bin", source, FILE_BYTES)));
      readTimes.push(await timed(() => run("dd", [`if=${source}`, "of=/dev/null", "bs=1M", "status=none"])));
      downloadTimes.push(await timed(() => downloadChecked(url, hostSandbox!, "big.bin", FILE_BYTES)));
      // The same transfers by curl, a client that is not itself the limit: from the file, and into a
      // file (a read and a write each, as cp).
      curlUploadTimes.push(await timed(() => run("curl", ["-sSf", "-o", "/dev/null", "-H", "Expect:", "-T", source, fileUrl("curl.bin")])));
      curlDownloadTimes.push(await timed(() => run("curl", ["-sSf", "-o", copy, fileUrl("curl.bin")])));
      if ((await sha256File(copy)) !== sourceHash) throw new Error("curl download: the bytes differ from the uploaded file (sha256 mismatch)");
      await rm(copy);
      // The same two curl transfers against the bare node:http server: the floor of this stack here.
      bareUploadTimes.push(await timed(() => run("curl", ["-sSf", "-o", "/dev/null", "-H", "Expect:", "-T", source, `${bare.url}/bare.bin`])));
      bareDownloadTimes.push(await timed(() => run("curl", ["-sSf", "-o", copy, `${bare.url}/bare.bin`])));
      await rm(copy);
    }
    bare.stop();
    // Not timed: the bytes that come back are the bytes that went up.
    const hash = createHash("sha256");
    await downloadChecked(url, hostSandbox, "big.bin", FILE_BYTES, hashSink(hash));
    if (hash.digest("hex") !== sourceHash) throw new Error("download: the bytes differ from the uploaded file (sha256 mismatch)");
    const cpMs = median(cpTimes);
    const readMs = median(readTimes);
    const uploadMs = median(uploadTimes);
    const downloadMs = median(downloadTimes);
    const curlUploadRate = mbps(FILE_BYTES, median(curlUploadTimes));
    const curlDownloadRate = mbps(FILE_BYTES, median(curlDownloadTimes));
    const bareUploadRate = mbps(FILE_BYTES, median(bareUploadTimes));
    const bareDownloadRate = mbps(FILE_BYTES, median(bareDownloadTimes));

    // ---- port proxy: the same app in each sandbox; GETs through the host's proxy vs straight to it.
    log("proxy: starting the app in both sandboxes");
    const app = await readFile(PROXY_APP);
    const put = await fetch(`${url}/v1/sandboxes/${hostSandbox}/files/content?path=app.mjs`, { method: "PUT", body: app });
    if (put.status !== 200) throw new Error(`upload app.mjs: HTTP ${put.status}`);
    const started = await json<{ id: string }>(
      await fetch(`${url}/v1/sandboxes/${hostSandbox}/processes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ argv: ["node", "/workspace/app.mjs", String(PROXY_PORT), "bench"] }),
      }),
      "startProcess",
    );
    const waited = await fetch(`${url}/v1/sandboxes/${hostSandbox}/processes/${started.id}/wait-for-port`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ port: PROXY_PORT, timeoutMs: 20_000 }),
    });
    if (waited.status !== 200) throw new Error(`wait-for-port: HTTP ${waited.status} ${await waited.text()}`);
    await baseline.writeFile(baselineSandbox, { abs: "/workspace/app.mjs", rel: "app.mjs" }, new Blob([app]).stream(), 1 << 30);
    const baselineApp = await baseline.startProcess(baselineSandbox, { processId: "bench-app", name: null, argv: ["node", "/workspace/app.mjs", String(PROXY_PORT), "bench"], cwd: "/workspace", env: {} });
    await baseline.waitForPort(baselineSandbox, baselineApp.id, { port: PROXY_PORT, timeoutMs: 20_000 }, new AbortController().signal);
    const address = await baseline.portAddress(baselineSandbox, PROXY_PORT);
    const proxiedUrl = `${url}/v1/sandboxes/${hostSandbox}/ports/${PROXY_PORT}`;
    const directUrl = `http://${address.host}:${address.port}`;
    const getSmall = async (base: string) => {
      const t0 = performance.now();
      const res = await fetch(`${base}/bytes?n=64`);
      const body = await res.arrayBuffer();
      if (res.status !== 200 || body.byteLength !== 64) throw new Error(`proxy GET ${base}: HTTP ${res.status}, ${body.byteLength} bytes`);
      return performance.now() - t0;
    };
    const getStream = async (base: string) =>
      timed(async () => {
        const res = await fetch(`${base}/bytes?n=${PROXY_STREAM_BYTES}`);
        let bytes = 0;
        for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
        if (bytes !== PROXY_STREAM_BYTES) throw new Error(`proxy stream ${base}: ${bytes} bytes`);
      });
    log("proxy: measuring");
    for (let i = 0; i < WARMUP; i++) (await getSmall(proxiedUrl), await getSmall(directUrl));
    const proxySmall: number[] = [];
    const directSmall: number[] = [];
    for (let i = 0; i < EXEC_N; i++) {
      proxySmall.push(await getSmall(proxiedUrl));
      directSmall.push(await getSmall(directUrl));
    }
    proxySmall.sort((x, y) => x - y);
    directSmall.sort((x, y) => x - y);
    const proxyStream: number[] = [];
    const directStream: number[] = [];
    for (let round = 0; round < FILE_REPS; round++) {
      proxyStream.push(await getStream(proxiedUrl));
      directStream.push(await getStream(directUrl));
    }

    const rss = await peakRss(host.child.pid!);

    // The sandboxes go away properly, so their cgroups (machine-wide, outside the temp dir) go too.
    const deleted = await fetch(`${url}/v1/sandboxes/${hostSandbox}`, { method: "DELETE" });
    if (deleted.status !== 204) log(`deleting sandbox ${hostSandbox}: HTTP ${deleted.status} ${await deleted.text()}`);
    else hostSandbox = undefined;
    await baseline.deleteSandbox(baselineSandbox);
    baselineSandbox = undefined;

    // ---- report
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    const rate = (v: number) => `${v.toFixed(0)} MB/s`;
    const ratio = (v: number) => v.toFixed(2);
    const uploadRate = mbps(FILE_BYTES, uploadMs);
    const downloadRate = mbps(FILE_BYTES, downloadMs);
    const cpRate = mbps(FILE_BYTES, cpMs);
    const readRate = mbps(FILE_BYTES, readMs);
    const p50Ratio = restP50 / inProcessP50;
    const rows: Row[] = [
      [
        "exec /bin/true p50",
        ms(restP50),
        ms(inProcessP50),
        ratio(p50Ratio),
        `baseline: the same exec via an in-process LocalBackend (both cold); target <= ${EXEC_TARGET_P50}: ${p50Ratio <= EXEC_TARGET_P50 ? "met" : "MISSED"}`,
      ],
      ["exec /bin/true p99", ms(restP99), ms(inProcessP99), ratio(restP99 / inProcessP99), `N=${EXEC_N}; host-measured command time p50 ${ms(serverP50)}`],
      ["exec /bin/true p50, vs direct spawn", ms(restP50), ms(directP50), ratio(restP50 / directP50), `baseline: spawn of /bin/true from this process, no sandbox; p99 ratio ${ratio(restP99 / directP99)}`],
      ["GET /health p50", ms(percentile(health, 50)), "", "", `HTTP floor; p99 ${ms(percentile(health, 99))}`],
      ["upload (PUT from disk)", rate(uploadRate), rate(cpRate), ratio(uploadRate / cpRate), `${FILE_MB} MiB, median of ${FILE_REPS}, baseline cp`],
      ["download (GET, discarded)", rate(downloadRate), rate(readRate), ratio(downloadRate / readRate), `${FILE_MB} MiB, median of ${FILE_REPS}, baseline read to /dev/null (dd); size and sha256 ok`],
      ["upload, curl -T from disk", rate(curlUploadRate), rate(cpRate), ratio(curlUploadRate / cpRate), `${FILE_MB} MiB, median of ${FILE_REPS}, baseline cp; target >= 0.5`],
      ["download, curl -o to a file", rate(curlDownloadRate), rate(cpRate), ratio(curlDownloadRate / cpRate), `${FILE_MB} MiB, median of ${FILE_REPS}, baseline cp; target >= 0.5; sha256 ok`],
      ["  floor: curl -T to bare node:http", rate(bareUploadRate), rate(cpRate), ratio(bareUploadRate / cpRate), `a node:http server piping the body to a file, nothing else; Sandgate's curl upload is ${ratio(curlUploadRate / bareUploadRate)} of it`],
      ["  floor: curl -o from bare node:http", rate(bareDownloadRate), rate(cpRate), ratio(bareDownloadRate / cpRate), `the same server streaming the file back; Sandgate's curl download is ${ratio(curlDownloadRate / bareDownloadRate)} of it`],
      [
        "proxy GET p50 (64 B)",
        ms(percentile(proxySmall, 50)),
        ms(percentile(directSmall, 50)),
        ratio(percentile(proxySmall, 50) / percentile(directSmall, 50)),
        `N=${EXEC_N}; p99 ${ms(percentile(proxySmall, 99))} vs ${ms(percentile(directSmall, 99))}; baseline: straight to the sandbox's address`,
      ],
      [
        "proxy GET stream (64 MiB)",
        rate(mbps(PROXY_STREAM_BYTES, median(proxyStream))),
        rate(mbps(PROXY_STREAM_BYTES, median(directStream))),
        ratio(median(directStream) / median(proxyStream)),
        `median of ${FILE_REPS}; ratio = proxied MB/s / direct MB/s`,
      ],
      ["host peak RSS (VmHWM)", `${(rss / MiB).toFixed(1)} MiB`, "", "", `after exec phase: ${(rssAfterExec / MiB).toFixed(1)} MiB`],
    ];
    process.stdout.write(`\nSandgate benchmark (node ${process.version}, ${new Date().toISOString()})\n\n${table(rows)}\n\n`);
    process.stdout.write(
      "ratios: exec and proxy GET = Sandgate time / baseline time (lower is better); upload, download and proxy stream = Sandgate MB/s / baseline MB/s (higher is better)\n",
    );
  } catch (err) {
    if (host) log(`host output:\n${host.output()}`);
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    if (host) {
      if (hostSandbox) await fetch(`${host.url}/v1/sandboxes/${hostSandbox}`, { method: "DELETE" }).catch(() => {});
      await stopHost(host);
    }
    if (baseline) {
      if (baselineSandbox) await baseline.deleteSandbox(baselineSandbox).catch(() => {});
      await baseline.close();
    }
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
