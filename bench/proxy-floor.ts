/**
 * Where the port proxy's floor is on this machine: the host's proxy set against two stand-ins in
 * processes of their own, each in front of the same app (service/test/fixtures/port-app.mjs) in a
 * sandbox of a LocalBackend in this process, and each against the same GET sent straight to it:
 *
 *   sandgate   GET /v1/sandboxes/{id}/ports/8080/... through a Node host (its own sandbox and app)
 *   node-http  the least a node:http proxy does: http.createServer, http.request over a keep-alive
 *              Agent, writeHead + pipe (no auth, no header rules)
 *   tcp        a raw TCP relay (net.Socket piped both ways): no HTTP at all
 *
 * For each: small GET p50 ÷ direct (interleaved), the proxy process's CPU per request (utime+stime
 * from /proc), and 64 MiB MB/s ÷ direct with the proxy's CPU per MiB. CPU figures hold up on a busy
 * machine where the ratios swing. Not part of `npm run bench`:
 *
 *   node --import tsx bench/proxy-floor.ts        PROXY_FLOOR_N=1000 PROXY_FLOOR_ROUNDS=3
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../service/src/backends/local/index.ts";
import { startHost, stopHost } from "./host.ts";

const N = Number(process.env.PROXY_FLOOR_N ?? 1000);
const ROUNDS = Number(process.env.PROXY_FLOOR_ROUNDS ?? 3);
const STREAM = 64 * 1024 * 1024;
const PORT = 8080;
const APP = new URL("../service/test/fixtures/port-app.mjs", import.meta.url);

/** The stand-ins, as `node -e` programs taking the target host and port; each prints its own port. */
const STAND_INS = {
  "node-http": `
const http = require("node:http");
const [host, port] = [process.argv[1], Number(process.argv[2])];
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
  const path = req.url.replace(/^\\/v1\\/sandboxes\\/[^/]+\\/ports\\/\\d+/, "") || "/";
  http.request({ host, port, method: req.method, path, headers: req.headers, agent }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  }).end();
}).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
  tcp: `
const net = require("node:net");
const [host, port] = [process.argv[1], Number(process.argv[2])];
net.createServer((client) => {
  const up = net.connect(port, host);
  client.pipe(up);
  up.pipe(client);
  client.on("error", () => up.destroy());
  up.on("error", () => client.destroy());
}).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
};

async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

async function small(base: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/bytes?n=64`);
  const body = await res.arrayBuffer();
  if (res.status !== 200 || body.byteLength !== 64) throw new Error(`GET ${base}: HTTP ${res.status}, ${body.byteLength} bytes`);
  return performance.now() - started;
}

async function stream(base: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/bytes?n=${STREAM}`);
  let bytes = 0;
  for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
  if (bytes !== STREAM) throw new Error(`stream ${base}: ${bytes} bytes`);
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function startStandIn(code: string, host: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["-e", code, host, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  const listening = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(String(d).trim()));
    child.once("exit", (code) => reject(new Error(`stand-in exited ${code}`)));
  });
  return { child, port: Number(listening) };
}

const root = await mkdtemp(join(tmpdir(), "proxy-floor-"));
const app = await readFile(APP);
const host = await startHost(join(root, "host-data"));
const backend = await LocalBackend.open({ dataDir: join(root, "direct-data"), isolation: "bwrap" });
const directId = `proxy-floor-${process.pid}`;
const children: ChildProcess[] = [];
let hostSandbox: string | undefined;
try {
  // The host's sandbox and app, through REST.
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${host.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ id: string }>;
  };
  const sandbox = await post("/v1/sandboxes", {});
  hostSandbox = sandbox.id;
  await fetch(`${host.url}/v1/sandboxes/${sandbox.id}/files/content?path=app.mjs`, { method: "PUT", body: app });
  const started = await post(`/v1/sandboxes/${sandbox.id}/processes`, { argv: ["node", "/workspace/app.mjs", String(PORT), "floor"] });
  await post(`/v1/sandboxes/${sandbox.id}/processes/${started.id}/wait-for-port`, { port: PORT, timeoutMs: 20_000 });
  // The direct target, in a sandbox of this process's backend: the stand-ins proxy to it.
  const now = Date.now();
  await backend.createSandbox({ id: directId, labels: {}, env: {}, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 3600_000).toISOString() });
  await backend.writeFile(directId, { abs: "/workspace/app.mjs", rel: "app.mjs" }, new Blob([app]).stream(), 1 << 30);
  const directApp = await backend.startProcess(directId, { processId: "app", name: null, argv: ["node", "/workspace/app.mjs", String(PORT), "floor"], cwd: "/workspace", env: {} });
  await backend.waitForPort(directId, directApp.id, { port: PORT, timeoutMs: 20_000 }, new AbortController().signal);
  const address = await backend.portAddress(directId, PORT);
  const direct = `http://${address.host}:${address.port}`;

  const proxies: { name: string; base: string; pid: number }[] = [{ name: "sandgate", base: `${host.url}/v1/sandboxes/${sandbox.id}/ports/${PORT}`, pid: host.child.pid! }];
  for (const [name, code] of Object.entries(STAND_INS)) {
    const standIn = await startStandIn(code, address.host, address.port);
    children.push(standIn.child);
    proxies.push({ name, base: name === "tcp" ? `http://127.0.0.1:${standIn.port}` : `http://127.0.0.1:${standIn.port}/v1/sandboxes/x/ports/${PORT}`, pid: standIn.child.pid! });
  }

  console.log(`proxy floor: N=${N} small GETs per round, ${ROUNDS} rounds, 64 MiB x3 per round; per round: proxy p50 / direct p50 (proxy CPU per request) | proxied MB/s / direct MB/s (proxy CPU per MiB)`);
  for (const proxy of proxies) {
    const cells: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < 20; i++) (await small(proxy.base), await small(direct));
      const via: number[] = [];
      const straight: number[] = [];
      let cpu = await cpuMs(proxy.pid);
      for (let i = 0; i < N; i++) {
        via.push(await small(proxy.base));
        straight.push(await small(direct));
      }
      const perRequest = ((await cpuMs(proxy.pid)) - cpu) / N;
      const viaStream: number[] = [];
      const straightStream: number[] = [];
      cpu = await cpuMs(proxy.pid);
      for (let i = 0; i < 3; i++) {
        viaStream.push(await stream(proxy.base));
        straightStream.push(await stream(direct));
      }
      const perMiB = ((await cpuMs(proxy.pid)) - cpu) / (3 * 64);
      cells.push(
        `${(median(via) / median(straight)).toFixed(2)} (${(perRequest * 1000).toFixed(0)} us) | ${(median(straightStream) / median(viaStream)).toFixed(2)} (${perMiB.toFixed(2)} ms)`,
      );
    }
    console.log(`  ${proxy.name.padEnd(10)} ${cells.join("   ")}`);
  }
} finally {
  for (const child of children) child.kill();
  // The sandboxes go away properly, so their cgroups (machine-wide, outside the temp dir) go too.
  if (hostSandbox) await fetch(`${host.url}/v1/sandboxes/${hostSandbox}`, { method: "DELETE" }).catch(() => {});
  await backend.deleteSandbox(directId).catch(() => {});
  await backend.close();
  await stopHost(host);
  await rm(root, { recursive: true, force: true });
}
