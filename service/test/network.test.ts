/**
 * Per-sandbox networks of the local runtime (network.ts), on real namespaces, links and nftables
 * rules: each sandbox its own port space and address, no way to the host or to other sandboxes,
 * egress only where allowed, nothing left behind. As root (CI); the shared fallback is tested too.
 * Every connection tried where it must be refused is counted for `npm run reliability`
 * (test/attempts.ts); without root the namespace suites are skipped with the reason printed, and the
 * reliability run counts each skip as a failure.
 */
import { execFileSync } from "node:child_process";
import { lookup } from "node:dns/promises";
import { existsSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SandboxRecord } from "../src/core/backend.ts";
import { SandgateError } from "../src/core/errors.ts";
import { LocalBackend } from "../src/backends/local/index.ts";
import { hostTag } from "../src/backends/local/network/index.ts";
import { Attempts } from "./attempts.ts";
import { eventually, isRoot, readEvents, removeDir, startHost, tempDir } from "./host.ts";

const figures = new Attempts("network");
afterAll(() => figures.save());
if (!isRoot) console.warn("network.test.ts: the network namespace suites are skipped: not root, so this machine cannot give sandboxes networks of their own");

/** Counts one attempt per target probed where it must be refused; a target answered as "open" got through. */
function countRefused(name: string, results: Record<string, string>, targets: string[]): void {
  for (const target of targets) expect(results[target], `the prober answered for ${target}`).toMatch(/^(open|error|timeout)/);
  figures.record(name, targets.length, targets.filter((t) => /^open/.test(results[t] ?? "")).length, "connections");
}

/** A tiny HTTP server answering `body` on every path, and a prober that reports what it could reach. */
const SERVER = `
import http.server, sys
body = sys.argv[1].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer((sys.argv[3] if len(sys.argv) > 3 else "0.0.0.0", int(sys.argv[2])), H).serve_forever()
`;
const PROBE = `
import json, socket, sys, threading
def tcp(target):
    host, port = target.rsplit(":", 1)
    host = host.strip("[]")
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((host, int(port)))
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error:" + (e.strerror or type(e).__name__)
    data = b""
    try:
        s.sendall(b"GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")
        while chunk := s.recv(65536): data += chunk
    except OSError:
        pass
    return "open:" + data.split(b"\\r\\n\\r\\n", 1)[-1].decode(errors="replace")
def dns(name):
    out = ["timeout"]
    def look():
        try: out[0] = "resolved:" + socket.getaddrinfo(name, 443, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        except OSError as e: out[0] = "error:" + str(e)
    t = threading.Thread(target=look, daemon=True); t.start(); t.join(4)
    return out[0]
def udpdns(server):
    q = bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    try:
        s.sendto(q, (server, 53)); s.recvfrom(512); return "answered"
    except socket.timeout: return "timeout"
    except OSError as e: return "error:" + (e.strerror or type(e).__name__)
kinds = {"tcp": tcp, "dns": dns, "udpdns": udpdns}
results = {}
def one(arg):
    kind, what = arg.split("=", 1)
    results[arg] = kinds[kind](what)
threads = [threading.Thread(target=one, args=(a,)) for a in sys.argv[1:]]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
`;

function record(id: string, network?: "egress" | "none"): SandboxRecord {
  const now = Date.now();
  return { id, labels: {}, env: {}, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 3600_000).toISOString(), ...(network ? { network } : {}) };
}

function spec(argv: string[], stdin?: string, timeoutMs = 30_000) {
  return { argv, cwd: "/workspace", env: {}, timeoutMs, maxOutputBytes: 1 << 20, ...(stdin === undefined ? {} : { stdin }) };
}

async function setUp(backend: LocalBackend, id: string, network?: "egress" | "none"): Promise<void> {
  await backend.createSandbox(record(id, network));
  for (const [name, text] of [["server.py", SERVER], ["probe.py", PROBE]] as const) {
    const res = await backend.exec(id, spec(["/bin/sh", "-c", `cat > ${name}`], text));
    expect(res.exitCode, res.stderr).toBe(0);
  }
}

/** Runs the prober in the sandbox: `tcp=host:port`, `dns=name`, `udpdns=server`. */
async function probe(backend: LocalBackend, id: string, ...targets: string[]): Promise<Record<string, string>> {
  const res = await backend.exec(id, spec(["python3", "probe.py", ...targets]));
  expect(res.exitCode, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Record<string, string>;
}

/** Keeps a server up in the sandbox through a long streaming exec (its PID namespace ends with it). */
async function serve(backend: LocalBackend, id: string, body: string, port: number): Promise<{ stop(): Promise<void>; output(): string }> {
  const abort = new AbortController();
  const events = await backend.execStream(id, spec(["python3", "server.py", body, String(port)], undefined, 120_000), abort.signal);
  let output = "";
  const done = (async () => {
    for await (const event of events) if (event.type === "stdout" || event.type === "stderr") output += event.data;
  })();
  return {
    output: () => output,
    async stop() {
      abort.abort();
      await done.catch(() => {});
    },
  };
}

async function httpText(host: string, port: number): Promise<string> {
  const res = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${port}/`, { signal: AbortSignal.timeout(2000) });
  return res.text();
}

async function waitForHttp(host: string, port: number): Promise<string> {
  let text = "";
  await eventually(async () => {
    text = await httpText(host, port).catch(() => "");
    return text !== "";
  }, 15_000);
  return text;
}

/** What of this data directory's networks exists on the machine: namespaces, links (by alias), the table. */
function leftovers(dataDir: string): { namespaces: string[]; links: string[]; table: boolean } {
  const tag = hostTag(realpathSync(dataDir));
  const namespaces = existsSync("/run/netns") ? readdirSync("/run/netns").filter((n) => n.startsWith(`sandgate-${tag}-`)) : [];
  const links = readdirSync("/sys/class/net").filter((n) => {
    try {
      return readFileSync(`/sys/class/net/${n}/ifalias`, "utf8").startsWith(`sandgate-${tag}:`);
    } catch {
      return false;
    }
  });
  const tables = execFileSync("nft", ["list", "tables"], { encoding: "utf8" });
  return { namespaces, links, table: tables.includes(`sandgate_${tag}`) };
}

function setElements(dataDir: string, set: "veths" | "egress"): string[] {
  const tag = hostTag(realpathSync(dataDir));
  const text = execFileSync("nft", ["-j", "list", "set", "inet", `sandgate_${tag}`, set], { encoding: "utf8" });
  const json = JSON.parse(text) as { nftables: { set?: { elem?: string[] } }[] };
  return json.nftables.flatMap((item) => item.set?.elem ?? []);
}

/** The host's own IPv4 and IPv6 addresses on its outside interfaces. */
function hostAddresses(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([name]) => name !== "lo" && !name.startsWith("sgv"))
    .flatMap(([, addrs]) => (addrs ?? []).filter((a) => !a.internal && !a.address.startsWith("fe80")).map((a) => a.address));
}

/** An HTTP server of the host's own on every address (as Sandgate with --host 0.0.0.0 would be). */
async function hostServer(body: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, "::", resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** A name the host itself can resolve and reach on 443, or undefined when it has no way out. */
async function reachableName(): Promise<string | undefined> {
  for (const name of ["registry.npmjs.org", "deb.debian.org", "github.com", "example.com"]) {
    try {
      const { address } = await lookup(name, { family: 4 });
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: address, port: 443, timeout: 3000 });
        socket.once("connect", () => (socket.destroy(), resolve()));
        socket.once("timeout", () => (socket.destroy(), reject(new Error("timeout"))));
        socket.once("error", reject);
      });
      return name;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function nameserver(): string {
  return /^nameserver\s+(\S+)/m.exec(readFileSync("/etc/resolv.conf", "utf8"))?.[1] ?? "127.0.0.53";
}

const gatewayOf = (ip: string) => ip.replace(/\.(\d+)$/, (_m, last: string) => `.${Number(last) - 1}`);

describe.skipIf(!isRoot)("network namespaces (root)", () => {
  let dataDir: string;
  let backend: LocalBackend;

  beforeAll(async () => {
    dataDir = tempDir();
    backend = await LocalBackend.open({ dataDir, isolation: "bwrap", network: "namespaces" });
    expect(backend.networkKind).toBe("namespaces");
    await Promise.all([setUp(backend, "net-a"), setUp(backend, "net-b"), setUp(backend, "net-none", "none")]);
  });
  afterAll(async () => {
    await backend?.close();
    if (dataDir) {
      expect(leftovers(dataDir)).toEqual({ namespaces: [], links: [], table: false });
      removeDir(dataDir);
    }
  });

  it("gives two sandboxes each port 8080 of their own, reached at their own addresses, and shared by all commands of one sandbox", async () => {
    const a = await backend.portAddress("net-a", 8080);
    const b = await backend.portAddress("net-b", 8080);
    expect(a.host).toMatch(/^10\.200\.\d+\.\d+$/);
    expect(b.host).toMatch(/^10\.200\.\d+\.\d+$/);
    expect(a.host).not.toBe(b.host);
    const servers = await Promise.all([serve(backend, "net-a", "from A", 8080), serve(backend, "net-b", "from B", 8080)]);
    try {
      expect(await waitForHttp(a.host, 8080)).toBe("from A");
      expect(await waitForHttp(b.host, 8080)).toBe("from B");
      // Another exec of the same sandbox reaches the server of the long one through localhost.
      expect(await probe(backend, "net-a", "tcp=127.0.0.1:8080")).toEqual({ "tcp=127.0.0.1:8080": "open:from A" });
      expect(await probe(backend, "net-b", "tcp=localhost:8080")).toEqual({ "tcp=localhost:8080": "open:from B" });
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  it("puts background processes in their sandbox's namespace: execs reach them at localhost, the host at the sandbox's address", async () => {
    // Listening on 127.0.0.1 only, as Flask and many dev servers do by default: the host still reaches it.
    const info = await backend.startProcess("net-a", { processId: "web", name: null, argv: ["python3", "server.py", "process of A", "8081", "127.0.0.1"], cwd: "/workspace", env: {} });
    try {
      const a = await backend.portAddress("net-a", 8081);
      expect(await waitForHttp(a.host, 8081)).toBe("process of A");
      expect(await probe(backend, "net-a", "tcp=127.0.0.1:8081")).toEqual({ "tcp=127.0.0.1:8081": "open:process of A" });
      const b = await probe(backend, "net-b", "tcp=127.0.0.1:8081", `tcp=${a.host}:8081`);
      countRefused("connections from a sandbox to another sandbox", b, ["tcp=127.0.0.1:8081", `tcp=${a.host}:8081`]);
      expect(b["tcp=127.0.0.1:8081"]).not.toMatch(/^open/);
      expect(b[`tcp=${a.host}:8081`]).not.toMatch(/^open/);
    } finally {
      await backend.killProcess("net-a", info.id, "KILL");
    }
  });

  it("reaches neither another sandbox nor the host at any of its addresses", async () => {
    const a = await backend.portAddress("net-a", 8080);
    const b = await backend.portAddress("net-b", 8080);
    const { server, port } = await hostServer("host secret");
    const bServer = await serve(backend, "net-b", "from B", 8080);
    try {
      // Positive controls: from the host, both are there.
      expect(await waitForHttp(b.host, 8080)).toBe("from B");
      const outside = hostAddresses();
      expect(outside.length).toBeGreaterThan(0);
      for (const address of outside) expect(await httpText(address, port)).toBe("host secret");
      expect(await httpText(gatewayOf(a.host), port)).toBe("host secret");

      const targets = [
        `tcp=${b.host}:8080`, // the other sandbox
        `tcp=${gatewayOf(a.host)}:${port}`, // the host, at its side of this sandbox's link
        `tcp=${gatewayOf(b.host)}:${port}`, // the host, at its side of the other sandbox's link
        ...outside.map((address) => `tcp=${address.includes(":") ? `[${address}]` : address}:${port}`), // the host's own addresses
        `tcp=127.0.0.1:${port}`, // its own loopback, not the host's
      ];
      for (const id of ["net-a", "net-none"]) {
        const results = await probe(backend, id, ...targets);
        countRefused(`connections from a sandbox (network '${id === "net-a" ? "egress" : "none"}') to another sandbox or the host`, results, targets);
        for (const target of targets) expect(results[target], `${id} → ${target}`).not.toMatch(/^open/);
      }
      // No IPv6 beyond loopback inside.
      const v6 = await backend.exec("net-a", spec(["cat", "/proc/net/if_inet6"]));
      expect(v6.stdout.trim().split("\n").every((line) => line.trim().endsWith(" lo"))).toBe(true);
      // It cannot change its network (take another sandbox's address, drop its link) nor forge packets.
      // Each change is tried alone, so each refusal is counted (and a missing tool is not a refusal).
      const changes = [`ip addr add ${b.host}/30 dev eth0`, "ip link set eth0 down", "nft list ruleset"];
      const changed: boolean[] = [];
      for (const change of changes) {
        const res = await backend.exec("net-a", spec(["/bin/sh", "-c", change]));
        expect(res.stderr, change).not.toMatch(/not found/);
        changed.push(res.exitCode === 0 || !/Operation not permitted/.test(res.stderr));
      }
      const raw = await backend.exec("net-a", spec(["python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)"]));
      changed.push(!/PermissionError|Operation not permitted/.test(raw.stderr));
      figures.record("changes to its own network from inside (address, link, rules, raw socket)", changed.length, changed.filter(Boolean).length, "changes");
      expect(changed).toEqual([false, false, false, false]);
      expect((await backend.portAddress("net-a", 8080)).host).toBe(a.host);
      expect(await probe(backend, "net-a", `tcp=${gatewayOf(a.host)}:${port}`)).not.toMatchObject({ [`tcp=${gatewayOf(a.host)}:${port}`]: expect.stringMatching(/^open/) });
      const route = await backend.exec("net-a", spec(["cat", "/proc/net/route"]));
      expect(route.stdout).toContain(hexGateway(gatewayOf(a.host)));
    } finally {
      await bServer.stop();
      server.close();
    }
  });

  it("lets `egress` sandboxes resolve names and connect out, and `none` ones reach neither DNS nor the internet", async (ctx) => {
    const none = await probe(backend, "net-none", `udpdns=${nameserver()}`, "dns=registry.npmjs.org", "tcp=1.1.1.1:443");
    figures.record("DNS and internet reached from network 'none'", 3, [none[`udpdns=${nameserver()}`] === "answered", /^resolved/.test(none["dns=registry.npmjs.org"] ?? ""), /^open/.test(none["tcp=1.1.1.1:443"] ?? "")].filter(Boolean).length, "lookups and connections");
    expect(none[`udpdns=${nameserver()}`]).not.toBe("answered");
    expect(none["dns=registry.npmjs.org"]).not.toMatch(/^resolved/);
    expect(none["tcp=1.1.1.1:443"]).not.toMatch(/^open/);

    const name = await reachableName();
    if (!name) {
      console.warn("network.test.ts: skipped: this machine itself cannot resolve and reach the internet: egress is not checked");
      ctx.skip("this machine itself cannot resolve and reach the internet: egress is not checked");
      return;
    }
    const dns = await probe(backend, "net-a", `dns=${name}`);
    expect(dns[`dns=${name}`]).toMatch(/^resolved:/);
    const address = dns[`dns=${name}`]!.slice("resolved:".length);
    const out = await probe(backend, "net-a", `tcp=${address}:443`, `udpdns=${nameserver()}`);
    expect(out[`tcp=${address}:443`]).toMatch(/^open/);
    expect(out[`udpdns=${nameserver()}`]).toBe("answered");
  });

  it("makes the namespace, link and rules on create and removes them on delete", async () => {
    await setUp(backend, "net-gone", "egress");
    const before = leftovers(dataDir);
    expect(before.namespaces).toContain(`sandgate-${hostTag(realpathSync(dataDir))}-net-gone`);
    const link = before.links.find((l) => readFileSync(`/sys/class/net/${l}/ifalias`, "utf8").trim().endsWith(":net-gone"))!;
    expect(link).toMatch(/^sgv\d+$/);
    expect(setElements(dataDir, "veths")).toContain(link);
    expect(setElements(dataDir, "egress")).toContain(link);
    const { host } = await backend.portAddress("net-gone", 80);

    await backend.deleteSandbox("net-gone");
    const after = leftovers(dataDir);
    expect(after.namespaces).not.toContain(`sandgate-${hostTag(realpathSync(dataDir))}-net-gone`);
    expect(existsSync(`/sys/class/net/${link}`)).toBe(false);
    expect(setElements(dataDir, "veths")).not.toContain(link);
    expect(setElements(dataDir, "egress")).not.toContain(link);
    expect(execFileSync("ip", ["-4", "route"], { encoding: "utf8" })).not.toContain(gatewayOf(host));
    await expect(backend.portAddress("net-gone", 80)).rejects.toMatchObject({ code: "not_found" });
  });

  it("finishes a sandbox's network after create returns, before anything runs in it: a command given at once finds its route and its link in the rules", async () => {
    // create waits only for the namespace and link; the sets and the inside are set up meanwhile.
    await backend.createSandbox(record("net-early", "egress"));
    const res = await backend.exec("net-early", spec(["cat", "/proc/net/route"]));
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^eth0\t00000000\t/m); // the default route through the host's side of the link
    const link = leftovers(dataDir).links.find((l) => readFileSync(`/sys/class/net/${l}/ifalias`, "utf8").trim().endsWith(":net-early"));
    expect(link).toMatch(/^sgv\d+$/);
    expect(setElements(dataDir, "veths")).toContain(link);
    expect(setElements(dataDir, "egress")).toContain(link);
    await backend.deleteSandbox("net-early");
    expect(setElements(dataDir, "veths")).not.toContain(link);
  });

  it("gives 100 sandboxes made at once 100 different subnets, and takes them all back", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `many-${i}`);
    await Promise.all(ids.map((id) => backend.createSandbox(record(id, i(id) % 2 ? "none" : "egress"))));
    const hosts = await Promise.all(ids.map(async (id) => (await backend.portAddress(id, 80)).host));
    expect(new Set(hosts).size).toBe(100);
    // A few of them work.
    for (const id of ["many-0", "many-51", "many-99"]) {
      const res = await backend.exec(id, spec(["cat", "/proc/net/route"]));
      expect(res.stdout).toContain("eth0");
    }
    await Promise.all(ids.map((id) => backend.deleteSandbox(id)));
    const left = leftovers(dataDir);
    expect(left.namespaces.filter((n) => n.includes("-many-"))).toEqual([]);
    expect(setElements(dataDir, "veths").length).toBe(3); // net-a, net-b, net-none
  });

  it("keeps two hosts on one machine apart, even when they race for the same subnets", async () => {
    // Two data directories whose hosts start looking for free subnets at the same place.
    const start = (dir: string) => Number.parseInt(hostTag(dir).slice(0, 4), 16) % 16384;
    const parent = tempDir("sgnet-");
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let n = 0; !pair && n < 20000; n++) {
      const dir = `${parent}/h${n}`;
      const other = seen.get(start(dir));
      if (other) pair = [other, dir];
      else seen.set(start(dir), dir);
    }
    const backends = await Promise.all(pair!.map((dir) => LocalBackend.open({ dataDir: dir, isolation: "bwrap", network: "namespaces" })));
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `race-${i}`);
      await Promise.all(backends.flatMap((b) => ids.map((id) => b.createSandbox(record(id)))));
      const hosts = await Promise.all(backends.flatMap((b) => ids.map(async (id) => (await b.portAddress(id, 80)).host)));
      expect(new Set(hosts).size).toBe(24);
      // Each reaches out through its own link: the route inside names its own gateway.
      for (const b of backends) {
        const { host } = await b.portAddress("race-3", 80);
        const res = await b.exec("race-3", spec(["cat", "/proc/net/route"]));
        expect(res.stdout).toContain(hexGateway(gatewayOf(host)));
      }
    } finally {
      await Promise.all(backends.map((b) => b.close()));
      for (const dir of pair!) expect(leftovers(dir)).toEqual({ namespaces: [], links: [], table: false });
      removeDir(parent);
    }
  });
});

describe.skipIf(!isRoot)("network namespaces across restarts and crashes (root, real Node hosts)", () => {
  it("keeps sandboxes' networks over a restart, cleans up after a crash, and leaves nothing when done", async () => {
    const dataDir = tempDir();
    const token = "network-test";
    let host = await startHost({ dataDir, token, args: ["--host", "0.0.0.0"] });
    try {
      expect(host.logs()).toMatch(/network: each sandbox has a network namespace/);
      for (const [id, network] of [["web", "egress"], ["quiet", "none"]] as const) {
        expect((await host.json("POST", "/v1/sandboxes", { id, network })).status).toBe(201);
      }
      expect((await host.json("GET", "/v1/sandboxes/quiet")).body.network).toBe("none");
      const port = Number(new URL(host.url).port);
      const exec = (id: string, command: string) => host.json("POST", `/v1/sandboxes/${id}/exec`, { command });
      expect((await exec("web", `cat > probe.py <<'EOF'\n${PROBE}\nEOF`)).body.exitCode).toBe(0);

      // The Sandgate API listens on every address of the host; from the sandbox it is at none of them.
      const gateway = async () => (await exec("web", "ip=$(awk 'NR==2{print $3}' /proc/net/route); echo $ip")).body.stdout.trim();
      const gw = await gateway();
      expect(gw).toMatch(/^[0-9A-F]{8}$/);
      const targets = [...hostAddresses().filter((a) => !a.includes(":")), "127.0.0.1"].map((a) => `tcp=${a}:${port}`);
      for (const address of hostAddresses().filter((a) => !a.includes(":"))) {
        expect((await fetch(`http://${address}:${port}/health`)).status).toBe(200); // positive control
      }
      const reached = JSON.parse((await exec("web", `python3 probe.py ${targets.join(" ")}`)).body.stdout) as Record<string, string>;
      countRefused("connections from a sandbox to the Sandgate API on the host's addresses", reached, targets);
      for (const target of targets) expect(reached[target], target).not.toMatch(/^open/);

      // Crash: SIGKILL leaves the namespaces and links behind (until a host opens on this machine:
      // the next start of this one, or any other, which removes the objects of hosts that are gone)...
      const before = leftovers(dataDir);
      expect(before.namespaces.length).toBe(2);
      expect(before.links.length).toBe(2);
      const ifindex = (links: string[]) => links.map((l) => readFileSync(`/sys/class/net/${l}/ifindex`, "utf8").trim()).sort();
      const oldIndexes = ifindex(before.links);
      await host.stop("SIGKILL");
      // ...and the next start makes them anew (new links), at the same addresses.
      host = await startHost({ dataDir, token, args: ["--host", "0.0.0.0"] });
      const restarted = leftovers(dataDir);
      expect(restarted.namespaces.sort()).toEqual(before.namespaces.sort());
      expect(restarted.links.sort()).toEqual(before.links.sort());
      expect(ifindex(restarted.links)).not.toEqual(oldIndexes);
      expect(await gateway()).toBe(gw);

      // A server in one long exec answers another exec, after the restart too.
      const res = await host.call("POST", "/v1/sandboxes/web/exec/stream", {
        command: `python3 -c "
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'still here')
http.server.HTTPServer(('0.0.0.0', 8080), H).handle_request()" & sleep 0.5; python3 probe.py tcp=127.0.0.1:8080; wait`,
      });
      const events = await readEvents(res);
      const stdout = events.filter((e) => e.event === "stdout").map((e) => e.data.data).join("");
      expect(JSON.parse(stdout)).toEqual({ "tcp=127.0.0.1:8080": "open:still here" });
      // `none` is still none.
      expect((await exec("quiet", `cat > probe.py <<'EOF'\n${PROBE}\nEOF`)).body.exitCode).toBe(0);
      const quiet = JSON.parse((await exec("quiet", `python3 probe.py udpdns=${nameserver()}`)).body.stdout) as Record<string, string>;
      figures.record("DNS and internet reached from network 'none'", 1, quiet[`udpdns=${nameserver()}`] === "answered" ? 1 : 0, "lookups and connections");
      expect(quiet[`udpdns=${nameserver()}`]).not.toBe("answered");

      // A clean stop takes everything of this host away; a start brings it back.
      await host.stop();
      expect(leftovers(dataDir)).toEqual({ namespaces: [], links: [], table: false });
      host = await startHost({ dataDir, token });
      expect(leftovers(dataDir).namespaces.length).toBe(2);
      for (const id of ["web", "quiet"]) expect((await host.json("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
      expect(leftovers(dataDir)).toMatchObject({ namespaces: [], links: [] });
    } finally {
      await host.stop();
      expect(leftovers(dataDir)).toEqual({ namespaces: [], links: [], table: false });
      removeDir(dataDir);
    }
  });
});

describe.skipIf(!isRoot)("hosts that die without closing (root)", () => {
  it("have their namespaces, links and table removed by the next host to open on the machine", async () => {
    const deadDir = tempDir();
    const dead = await startHost({ dataDir: deadDir });
    expect((await dead.json("POST", "/v1/sandboxes", { id: "orphan" })).status).toBe(201);
    expect(leftovers(deadDir)).toMatchObject({ namespaces: [expect.stringMatching(/-orphan$/)], links: [expect.stringMatching(/^sgv/)], table: true });
    await dead.stop("SIGKILL");
    const otherDir = tempDir();
    const other = await LocalBackend.open({ dataDir: otherDir, isolation: "bwrap", network: "namespaces" });
    try {
      expect(leftovers(deadDir)).toEqual({ namespaces: [], links: [], table: false });
      expect(existsSync(`/run/sandgate/hosts/${hostTag(realpathSync(deadDir))}`)).toBe(false);
    } finally {
      await other.close();
      removeDir(deadDir);
      removeDir(otherDir);
    }
  });
});

describe("the shared fallback (no network namespaces)", () => {
  let dataDir: string;
  let backend: LocalBackend;
  beforeAll(async () => {
    dataDir = tempDir();
    backend = await LocalBackend.open({ dataDir, isolation: "bwrap", network: "shared" });
    expect(backend.networkKind).toBe("shared");
    await Promise.all([setUp(backend, "shared-a"), setUp(backend, "shared-b"), setUp(backend, "shared-none", "none")]);
  });
  afterAll(async () => {
    await backend?.close();
    if (dataDir) removeDir(dataDir);
  });

  it("proxies a port at 127.0.0.1 only to the sandbox whose process listens on it, and refuses the others clearly", async () => {
    const { server, port: hostPort } = await hostServer("host");
    const port = 20000 + Math.floor(Math.random() * 20000);
    const a = await serve(backend, "shared-a", "from A", port);
    try {
      expect(await waitForHttp("127.0.0.1", port)).toBe("from A");
      expect(await backend.portAddress("shared-a", port)).toEqual({ host: "127.0.0.1", port });
      // Commands of one sandbox (and, honestly, of every egress sandbox) share the host's ports.
      expect(await probe(backend, "shared-a", `tcp=127.0.0.1:${port}`)).toEqual({ [`tcp=127.0.0.1:${port}`]: "open:from A" });
      const other = await backend.portAddress("shared-b", port).catch((err: unknown) => err);
      expect(other).toBeInstanceOf(SandgateError);
      expect(other).toMatchObject({ code: "conflict", message: expect.stringMatching(/port \d+ is held by a process outside sandbox 'shared-b'/) });
      await expect(backend.portAddress("shared-a", hostPort)).rejects.toMatchObject({ code: "conflict" });
      // A second server on the same port in another sandbox fails to bind: the port space is one.
      const clash = await backend.exec("shared-b", spec(["python3", "server.py", "from B", String(port)]));
      expect(clash.exitCode).not.toBe(0);
      expect(clash.stderr).toMatch(/Address already in use/);
      // Nothing listening: the address, and the connection will be refused.
      expect(await backend.portAddress("shared-b", port + 1)).toEqual({ host: "127.0.0.1", port: port + 1 });
      // `none` keeps a loopback of its own per command: its ports cannot be reached, and it says so.
      await expect(backend.portAddress("shared-none", port)).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(/network 'none'/) });
      const none = await probe(backend, "shared-none", `tcp=127.0.0.1:${port}`, `udpdns=${nameserver()}`);
      countRefused("connections from a sandbox to another sandbox (shared fallback, network 'none')", none, [`tcp=127.0.0.1:${port}`]);
      figures.record("DNS and internet reached from network 'none'", 1, none[`udpdns=${nameserver()}`] === "answered" ? 1 : 0, "lookups and connections");
      expect(none[`tcp=127.0.0.1:${port}`]).not.toMatch(/^open/);
      expect(none[`udpdns=${nameserver()}`]).not.toBe("answered");
    } finally {
      await a.stop();
      server.close();
    }
  });
});

/** An IPv4 address as /proc/net/route shows it (little-endian hex, as on x86 and arm64). */
function hexGateway(ip: string): string {
  return ip.split(".").reverse().map((n) => Number(n).toString(16).padStart(2, "0").toUpperCase()).join("");
}

function i(id: string): number {
  return Number(id.split("-").pop());
}
