/**
 * Sandgate Worker benchmark, in real workerd (Miniflare): the RPC surfaces against each other, each
 * figure set against a baseline measured in the same run.
 *
 *   getSandbox   Workers RPC (`SandgateService` over a service binding)   vs  REST (GET /v1/sandboxes/{id}
 *                through the Worker's fetch over a service binding): same Worker, same backend
 *   health       the same pair for an operation that touches no backend: the surfaces' own cost
 *   chains       Cap'n Web at /rpc, three steps where each needs the previous step's result,
 *                pipelined (one HTTP batch / one WebSocket round trip, all awaited together with
 *                Promise.all) vs sequential (three batches / three round trips, each awaited first):
 *                  exec chain   info = getSandbox({id}); ran = sandbox(info.id).exec({command: "printf ."});
 *                               sandbox(info.id).listFiles({path: ran.stdout})
 *                  light chain  info = getSandbox({id}); stat = sandbox(info.id).statFile({path: "bench.txt"});
 *                               sandbox(info.id).readFileJson({path: stat.path})
 *
 * The Worker is the real bundle (`wrangler deploy --dry-run`) on the remote backend, pointed at a
 * real Node host (a child process, bubblewrap sandboxes). A second Worker, the driver, is bound to
 * it twice (SVC: the SandgateService entrypoint; API: its default fetch) and runs the iterations
 * inside workerd.
 *
 * Clocks: inside workerd, performance.now() only advances across I/O and has millisecond
 * resolution, so one call of a millisecond or two cannot be timed there. Means are therefore taken
 * inside workerd over whole loops of calls (every call is I/O, so the clock is right at both ends),
 * cross-checked against Node's wall time around the same driver request; per-call percentiles are
 * taken from Node, one driver request per call, and reported twice: plain (ratio p(RPC) / p(REST),
 * what a caller sees) and less the median of a no-op driver request (the floor) on both sides before
 * dividing (the Worker-side part alone; further from 1 than the plain ratio when both sit near the
 * floor). Driver requests go straight to the driver's own socket (see drive()). The chains (5 to 40
 * ms) are timed one by one inside workerd.
 *
 *   node --import tsx bench/worker-bench.ts     WORKER_BENCH_N=400 (calls per mode)
 *                                               WORKER_BENCH_CHAIN_N=N/5 (chains per mode)
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import { type Host, startHost, stopHost } from "./host.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const COMPATIBILITY_DATE = "2026-08-15"; // as in wrangler.jsonc
const HOST_TOKEN = "worker-bench-host-token";
const API_TOKEN = "worker-bench-api-token";
/** Modes run in this many interleaved rounds, so drift on the machine hits every mode alike. */
const ROUNDS = 5;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

const CALL_N = positiveInt("WORKER_BENCH_N", 400);
const CHAIN_N = positiveInt("WORKER_BENCH_CHAIN_N", Math.max(ROUNDS, Math.round(CALL_N / 5)));
const CALL_WARMUP = Math.min(50, CALL_N);
const CHAIN_WARMUP = Math.min(10, CHAIN_N);

const log = (line: string) => process.stderr.write(`worker-bench: ${line}\n`);

// ---------------------------------------------------------------------------------------------
// The driver Worker (plain JS, bundled with capnweb by esbuild). GET /?mode=…&n=…&id=… runs n
// iterations of one mode and answers {times: ms per iteration, elapsed: ms for the whole loop}.

const DRIVER_SOURCE = String.raw`
import { newHttpBatchRpcSession, newWebSocketRpcSession } from "capnweb";

const ORIGIN = "http://sandgate";

// Cap'n Web's HTTP batch client calls the global fetch; requests for ORIGIN go over the API
// service binding (the Worker's own fetch handler), as a client's would over the network.
let apiBinding = null;
const networkFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  const request = new Request(input, init);
  if (apiBinding && new URL(request.url).origin === ORIGIN) return apiBinding.fetch(request);
  return networkFetch(request);
};

function check(condition, what) {
  if (!condition) throw new Error("unexpected result: " + what);
}

async function restJson(env, token, path) {
  const res = await env.API.fetch(ORIGIN + path, { headers: { authorization: "Bearer " + token } });
  const text = await res.text();
  if (!res.ok) throw new Error("GET " + path + ": HTTP " + res.status + ": " + text);
  return JSON.parse(text);
}

// ---- the chains: step 2 needs step 1's result, step 3 needs step 2's. sandbox(id) gives a handle.

const chains = {
  exec: {
    first: (api, id) => api.getSandbox({ id }),
    second: (sandbox, info) => sandbox(info.id).exec({ command: "printf ." }),
    third: (sandbox, info, ran) => sandbox(info.id).listFiles({ path: ran.stdout }),
    check(id, info, ran, files) {
      check(info.id === id, "getSandbox " + JSON.stringify(info));
      check(ran.exitCode === 0 && ran.stdout === ".", "exec " + JSON.stringify(ran));
      check(Array.isArray(files.entries) && files.entries.length > 0, "listFiles " + JSON.stringify(files));
    },
  },
  light: {
    first: (api, id) => api.getSandbox({ id }),
    second: (sandbox, info) => sandbox(info.id).statFile({ path: "bench.txt" }),
    third: (sandbox, info, stat) => sandbox(info.id).readFileJson({ path: stat.path }),
    check(id, info, stat, file) {
      check(info.id === id, "getSandbox " + JSON.stringify(info));
      check(stat.path === "/workspace/bench.txt" && stat.type === "file", "statFile " + JSON.stringify(stat));
      check(file.path === stat.path && file.content === "worker-bench\n", "readFileJson " + JSON.stringify(file));
    },
  },
};

/**
 * Runs fn with a sandbox(id) that remembers the handles it makes. On a long-lived session (the
 * WebSocket) the handles, never awaited, are disposed after use so neither end keeps them; an HTTP
 * batch session ends with its batch and needs nothing.
 */
async function withHandles(api, disposeHandles, fn) {
  const handles = [];
  const sandbox = (id) => {
    const handle = api.sandbox(id);
    handles.push(handle);
    return handle;
  };
  try {
    return await fn(sandbox);
  } finally {
    if (disposeHandles) for (const handle of handles) handle[Symbol.dispose]();
  }
}

/** All three steps built before anything is awaited, each pipelined on the previous promise. */
function pipelined(chain, api, id, disposeHandles) {
  return withHandles(api, disposeHandles, async (sandbox) => {
    const first = chain.first(api, id);
    const second = chain.second(sandbox, first);
    const third = chain.third(sandbox, first, second);
    const [a, b, c] = await Promise.all([first, second, third]);
    chain.check(id, a, b, c);
  });
}

/** Each step awaited before the next is built; newApi() gives a fresh HTTP batch, or the one socket. */
async function sequential(chain, newApi, id, disposeHandles) {
  const a = await chain.first(newApi(), id);
  const api2 = newApi();
  const b = await withHandles(api2, disposeHandles, (sandbox) => chain.second(sandbox, a));
  const api3 = newApi();
  const c = await withHandles(api3, disposeHandles, (sandbox) => chain.third(sandbox, a, b));
  chain.check(id, a, b, c);
}

function batchSession(token) {
  return newHttpBatchRpcSession(new Request(ORIGIN + "/rpc", { headers: { authorization: "Bearer " + token } }));
}

async function openSocket(env, token) {
  const res = await env.API.fetch(ORIGIN + "/rpc", { headers: { upgrade: "websocket", authorization: "Bearer " + token } });
  if (res.status !== 101 || !res.webSocket) throw new Error("/rpc WebSocket upgrade: HTTP " + res.status + ": " + (await res.text()));
  const socket = res.webSocket;
  socket.accept();
  return { socket, api: newWebSocketRpcSession(socket) };
}

async function timeLoop(n, fn) {
  const times = [];
  const begun = performance.now();
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return { times, elapsed: performance.now() - begun };
}

async function run(env, mode, n, id, token) {
  switch (mode) {
    case "noop":
      return timeLoop(n, async () => {});
    case "rpc-get":
      return timeLoop(n, async () => check((await env.SVC.getSandbox({ id })).id === id, "rpc getSandbox"));
    case "rest-get":
      return timeLoop(n, async () => check((await restJson(env, token, "/v1/sandboxes/" + id)).id === id, "rest getSandbox"));
    case "rpc-health":
      return timeLoop(n, async () => check((await env.SVC.health()).ok === true, "rpc health"));
    case "rest-health":
      return timeLoop(n, async () => check((await restJson(env, token, "/health")).ok === true, "rest health"));
  }
  const [transport, style, name] = mode.split("-");
  const chain = chains[name];
  if (!chain || (style !== "pipelined" && style !== "sequential")) throw new Error("unknown mode " + mode);
  if (transport === "batch") {
    return timeLoop(n, () => (style === "pipelined" ? pipelined(chain, batchSession(token), id, false) : sequential(chain, () => batchSession(token), id, false)));
  }
  if (transport !== "ws") throw new Error("unknown mode " + mode);
  const { socket, api } = await openSocket(env, token);
  try {
    return await timeLoop(n, () => (style === "pipelined" ? pipelined(chain, api, id, true) : sequential(chain, () => api, id, true)));
  } finally {
    api[Symbol.dispose]();
    socket.close();
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    apiBinding = env.API;
    try {
      const result = await run(env, url.searchParams.get("mode"), Number(url.searchParams.get("n")), url.searchParams.get("id"), env.API_TOKEN);
      return Response.json(result);
    } catch (err) {
      return new Response(String(err && err.stack ? err.stack : err), { status: 500 });
    }
  },
};
`;

type CallMode = "noop" | "rpc-get" | "rest-get" | "rpc-health" | "rest-health";
type ChainMode = `${"batch" | "ws"}-${"pipelined" | "sequential"}-${"exec" | "light"}`;
type Mode = CallMode | ChainMode;

async function bundleDriver(outDir: string): Promise<string> {
  const outfile = join(outDir, "driver.js");
  await build({
    stdin: { contents: DRIVER_SOURCE, resolveDir: REPO, sourcefile: "driver.js", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    outfile,
    logLevel: "warning",
  });
  return outfile;
}

// ---------------------------------------------------------------------------------------------
// Child processes: wrangler (the bundle) and the Node host

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("exit", (code, signal) => (code === 0 ? resolveRun() : reject(new Error(`${args.join(" ")} ended with ${signal ?? code}:\n${output}`))));
  });
}

/** The Worker exactly as `wrangler deploy` would upload it. */
async function bundleWorker(outDir: string): Promise<string> {
  const wrangler = join(REPO, "node_modules/wrangler/bin/wrangler.js");
  await run(process.execPath, [wrangler, "deploy", "--dry-run", "--containers-rollout=none", "--outdir", outDir], {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
  });
  return join(outDir, "worker.js");
}

async function hostCall(host: Host, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(host.url + path, {
    method,
    headers: { authorization: `Bearer ${HOST_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Sample {
  /** Per-iteration times measured inside workerd (millisecond clock), ms. */
  times: number[];
  /** The whole loop, measured inside workerd, ms. */
  elapsed: number;
  /** Node's wall time around the driver request, ms. */
  wall: number;
}

/**
 * One driver request, straight to the driver's own socket: about 0.75 ms on a 2-core machine where
 * `dispatchFetch` (through Miniflare's entry Worker) costs about 2.8 ms, which would drown the calls.
 */
async function drive(driver: URL, mode: Mode, n: number, id: string): Promise<Sample> {
  const started = performance.now();
  const res = await fetch(new URL(`/?mode=${mode}&n=${n}&id=${encodeURIComponent(id)}`, driver));
  const text = await res.text();
  const wall = performance.now() - started;
  if (res.status !== 200) throw new Error(`driver ${mode}: HTTP ${res.status}: ${text}`);
  const { times, elapsed } = JSON.parse(text) as { times: number[]; elapsed: number };
  if (times.length !== n) throw new Error(`driver ${mode}: ${times.length} times for n=${n}`);
  return { times, elapsed, wall };
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Splits n into ROUNDS near-equal parts (none empty). */
function split(n: number): number[] {
  const rounds = Math.min(ROUNDS, n);
  return Array.from({ length: rounds }, (_, i) => Math.floor((n * (i + 1)) / rounds) - Math.floor((n * i) / rounds));
}

/** Alternates the order of the modes from round to round. */
const orderFor = <T>(modes: T[], round: number): T[] => (round % 2 === 0 ? modes : [...modes].reverse());

interface CallStats {
  /** Mean per call inside workerd: the loops' elapsed time over their calls. */
  mean: number;
  /** Node's wall time over the same loop requests, per call (one dispatch per loop included). */
  wallMean: number;
  /** Node's wall time of single-call driver requests, ms each. */
  single: number[];
}

/**
 * Single calls: per round, one loop request per mode (for the mean), then one driver request per
 * call, the modes interleaved call by call with a no-op request (for the distribution and its floor).
 */
async function measureCalls(driver: URL, modes: CallMode[], n: number, id: string): Promise<{ stats: Map<CallMode, CallStats>; floor: number[] }> {
  const acc = new Map(modes.map((m) => [m, { elapsed: 0, wall: 0, calls: 0, single: [] as number[] }]));
  const floor: number[] = [];
  for (const [round, count] of split(n).entries()) {
    for (const mode of orderFor(modes, round)) {
      const sample = await drive(driver, mode, count, id);
      const a = acc.get(mode)!;
      a.elapsed += sample.elapsed;
      a.wall += sample.wall;
      a.calls += count;
    }
    for (let i = 0; i < count; i++) {
      for (const mode of orderFor<CallMode>(["noop", ...modes], i + round)) {
        const { wall } = await drive(driver, mode, 1, id);
        if (mode === "noop") floor.push(wall);
        else acc.get(mode)!.single.push(wall);
      }
    }
  }
  const stats = new Map<CallMode, CallStats>();
  for (const [mode, a] of acc) stats.set(mode, { mean: a.elapsed / a.calls, wallMean: a.wall / a.calls, single: a.single });
  return { stats, floor };
}

interface ChainStats {
  /** Per chain, inside workerd (millisecond clock). */
  times: number[];
  /** Node's wall time over the loop requests, per chain. */
  wallMean: number;
}

async function measureChains(driver: URL, modes: ChainMode[], n: number, id: string): Promise<Map<ChainMode, ChainStats>> {
  const acc = new Map(modes.map((m) => [m, { times: [] as number[], wall: 0 }]));
  for (const [round, count] of split(n).entries()) {
    for (const mode of orderFor(modes, round)) {
      const sample = await drive(driver, mode, count, id);
      const a = acc.get(mode)!;
      a.times.push(...sample.times);
      a.wall += sample.wall;
    }
  }
  return new Map([...acc].map(([mode, a]) => [mode, { times: a.times, wallMean: a.wall / a.times.length }]));
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

// ---------------------------------------------------------------------------------------------

type Row = [figure: string, value: string, baseline: string, ratio: string, note: string];

function table(header: Row, rows: Row[]): string {
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

function sandgateWorker(script: string, hostUrl: string) {
  return {
    name: "sandgate",
    // One ES module: the bundle imports only built-ins (cloudflare:workers, node:*).
    modules: [{ type: "ESModule" as const, path: script }],
    modulesRoot: dirname(script),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: ["nodejs_compat"],
    // The remote backend uses neither the Sandbox (container) nor the registry Durable Object, and
    // nothing reaches them, so they are not declared; their classes are only exported.
    bindings: {
      SANDGATE_BACKEND: "remote",
      SANDGATE_REMOTE_URL: hostUrl,
      SANDGATE_REMOTE_TOKEN: HOST_TOKEN,
      SANDGATE_TOKEN: API_TOKEN,
      SANDGATE_ALLOW_NO_TOKEN: "false",
      SANDGATE_PROTECT_DOCS: "false",
    },
  };
}

function driverWorker(script: string) {
  return {
    name: "driver",
    modules: [{ type: "ESModule" as const, path: script }],
    modulesRoot: dirname(script),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: ["nodejs_compat"],
    bindings: { API_TOKEN },
    serviceBindings: { SVC: { name: "sandgate", entrypoint: "SandgateService" }, API: "sandgate" },
    unsafeDirectSockets: [{ port: 0 }], // see drive()
  };
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "sandgate-worker-bench-"));
  let host: Host | undefined;
  let mf: Miniflare | undefined;
  let sandbox: string | undefined;
  const onSignal = () => {
    if (host) host.child.kill("SIGTERM");
    void (mf?.dispose() ?? Promise.resolve())
      .catch(() => {})
      .then(() => rm(root, { recursive: true, force: true }))
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  try {
    log(`temp dir ${root}; calls N=${CALL_N} per mode (+${CALL_WARMUP} warm-up), chains N=${CHAIN_N} per mode (+${CHAIN_WARMUP})`);
    await mkdir(join(root, "driver"));
    const [worker, driverBundle, started] = await Promise.allSettled([
      bundleWorker(join(root, "worker")),
      bundleDriver(join(root, "driver")),
      startHost(join(root, "host-data"), { SANDGATE_TOKEN: HOST_TOKEN }),
    ]);
    if (started.status === "fulfilled") host = started.value; // so that it is stopped whatever else failed
    if (worker.status === "rejected") throw worker.reason;
    if (driverBundle.status === "rejected") throw driverBundle.reason;
    if (started.status === "rejected") throw started.reason;
    const workerScript = worker.value;
    const driverScript = driverBundle.value;
    host = started.value; // (again: narrows the type)
    log(`worker bundled; host pid ${host.child.pid} at ${host.url}`);

    // Sandbox ids name cgroups machine-wide, so this one is unique to the run. One file in it, for
    // the light chain's statFile -> readFileJson.
    sandbox = `worker-bench-${process.pid}`;
    const created = await hostCall(host, "POST", "/v1/sandboxes", { id: sandbox, labels: { purpose: "worker-bench" } });
    if (created.status !== 201) throw new Error(`createSandbox: HTTP ${created.status}: ${await created.text()}`);
    const written = await hostCall(host, "POST", `/v1/sandboxes/${sandbox}/files/write`, { path: "bench.txt", content: "worker-bench\n" });
    if (!written.ok) throw new Error(`writeFileJson: HTTP ${written.status}: ${await written.text()}`);

    // Miniflare 5 takes a new options shape; the documented (v4) one goes through its converter.
    mf = new Miniflare(
      convertV4MiniflareOptions({
        log: new Log(LogLevel.WARN),
        cf: false, // no fetch of Request.cf from the network
        workers: [driverWorker(driverScript), sandgateWorker(workerScript, host.url)],
      }),
    );
    await mf.ready;
    const driver = await mf.unsafeGetDirectURL("driver");
    log(`workerd ready (driver at ${driver.href}); warming up`);

    const callModes: CallMode[] = ["rpc-get", "rest-get", "rpc-health", "rest-health"];
    const chainModes: ChainMode[] = [];
    for (const name of ["exec", "light"] as const) {
      for (const transport of ["batch", "ws"] as const) chainModes.push(`${transport}-pipelined-${name}`, `${transport}-sequential-${name}`);
    }
    for (const mode of ["noop", ...callModes] as const) {
      await drive(driver, mode, CALL_WARMUP, sandbox);
      for (let i = 0; i < 10; i++) await drive(driver, mode, 1, sandbox);
    }
    for (const mode of chainModes) await drive(driver, mode, CHAIN_WARMUP, sandbox);

    log("measuring single calls");
    const { stats: calls, floor } = await measureCalls(driver, callModes, CALL_N, sandbox);
    log("measuring chains");
    const chains = await measureChains(driver, chainModes, CHAIN_N, sandbox);

    const deleted = await hostCall(host, "DELETE", `/v1/sandboxes/${sandbox}`);
    if (deleted.status !== 204) log(`deleting sandbox ${sandbox}: HTTP ${deleted.status} ${await deleted.text()}`);
    else sandbox = undefined;

    // ---- report
    const ms = (v: number) => `${v.toFixed(3)} ms`;
    const ratio = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "-");
    const floor50 = percentile(floor, 50);
    const net = (values: number[], p: number) => percentile(values, p) - floor50;
    const callRows = (label: string, rpc: CallStats, rest: CallStats): Row[] => [
      [`${label} mean`, ms(rpc.mean), ms(rest.mean), ratio(rpc.mean / rest.mean), `N=${CALL_N}, in workerd; Node wall/call ${ms(rpc.wallMean)} vs ${ms(rest.wallMean)}`],
      [
        `${label} p50, plain`,
        ms(percentile(rpc.single, 50)),
        ms(percentile(rest.single, 50)),
        ratio(percentile(rpc.single, 50) / percentile(rest.single, 50)),
        `Node wall time per call, as a caller sees it; p99 ${ms(percentile(rpc.single, 99))} vs ${ms(percentile(rest.single, 99))}`,
      ],
      [
        `${label} p50, less floor`,
        ms(net(rpc.single, 50)),
        ms(net(rest.single, 50)),
        ratio(net(rpc.single, 50) / net(rest.single, 50)),
        `the same, each less the no-op floor (adjusted: exaggerates); p99 ${ms(net(rpc.single, 99))} vs ${ms(net(rest.single, 99))}`,
      ],
    ];
    const chainRows = (label: string, pipe: ChainStats, seq: ChainStats, what: string): Row[] => [
      [`${label} mean`, ms(mean(pipe.times)), ms(mean(seq.times)), ratio(mean(pipe.times) / mean(seq.times)), `N=${CHAIN_N}, ${what}; Node wall/chain ${ms(pipe.wallMean)} vs ${ms(seq.wallMean)}`],
      [`${label} p50`, ms(percentile(pipe.times, 50)), ms(percentile(seq.times, 50)), ratio(percentile(pipe.times, 50) / percentile(seq.times, 50)), `ms clock; p99 ${ms(percentile(pipe.times, 99))} vs ${ms(percentile(seq.times, 99))}`],
    ];
    const call = (mode: CallMode) => calls.get(mode)!;
    const chain = (mode: ChainMode) => chains.get(mode)!;
    const rows: Row[] = [
      ...callRows("getSandbox: RPC / REST", call("rpc-get"), call("rest-get")),
      ...callRows("health: RPC / REST", call("rpc-health"), call("rest-health")),
      ...chainRows("exec chain, HTTP batch", chain("batch-pipelined-exec"), chain("batch-sequential-exec"), "1 batch vs 3"),
      ...chainRows("exec chain, WebSocket", chain("ws-pipelined-exec"), chain("ws-sequential-exec"), "1 round trip vs 3"),
      ...chainRows("light chain, HTTP batch", chain("batch-pipelined-light"), chain("batch-sequential-light"), "1 batch vs 3"),
      ...chainRows("light chain, WebSocket", chain("ws-pipelined-light"), chain("ws-sequential-light"), "1 round trip vs 3"),
    ];
    const header: Row = ["figure", "measured", "baseline", "ratio", "note"];
    process.stdout.write(`\nSandgate Worker benchmark (workerd via Miniflare, node ${process.version}, ${new Date().toISOString()})\n\n${table(header, rows)}\n\n`);
    process.stdout.write(
      [
        "ratio = measured / baseline (lower is better): Workers RPC over REST for single calls, pipelined over sequential for chains.",
        "Single calls: means are timed inside workerd over whole loops. p50/p99 \"plain\" are Node's wall time of one driver request per call,",
        "and their ratio is plain p(RPC) / p(REST): what a caller sees. p50/p99 \"less floor\" subtract the median no-op driver request",
        `(the dispatch floor, ${ms(floor50)}) from both before dividing, (p(RPC) - floor) / (p(REST) - floor): the Worker-side part alone.`,
        "That adjusted ratio is further from 1 than the plain one whenever both sides sit near the floor; read it beside the plain one.",
        "Chains are timed one by one inside workerd (1 ms clock).",
        "exec chain: getSandbox -> sandbox(info.id).exec(printf .) -> listFiles({path: ran.stdout});",
        "light chain: getSandbox -> sandbox(info.id).statFile(bench.txt) -> readFileJson({path: stat.path}).",
        "Every hop here is in-process (driver -> Worker -> local host over loopback): a real network adds its round-trip time per saved round trip.",
      ].join("\n") + "\n",
    );
  } catch (err) {
    if (host) log(`host output:\n${host.output()}`);
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    if (host && sandbox) await hostCall(host, "DELETE", `/v1/sandboxes/${sandbox}`).catch(() => {});
    if (mf) await mf.dispose().catch((err: unknown) => log(`disposing Miniflare: ${String(err)}`));
    if (host) await stopHost(host);
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
