import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdir, readFile, readdir, readlink, rename, rm, writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { join } from "node:path";
import type { PortAddress } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import type { NetworkMode } from "../../schemas/sandboxes.ts";
import type { IsolationMode } from "./isolation.ts";

/**
 * Where a sandboxed command's network comes from, as Isolation puts it on the command line:
 * `enter` runs before bubblewrap (nsenter into the sandbox's namespace), and `shareNet` keeps
 * bubblewrap from making a fresh loopback-only namespace of its own.
 */
export interface NetworkPlacement {
  enter: string[];
  shareNet: boolean;
}

/** bubblewrap's default: a new, loopback-only network namespace for each command. */
export const PRIVATE_LOOPBACK: NetworkPlacement = { enter: [], shareNet: false };
/** The host's own network namespace (the fallback without root, and isolation `none`). */
export const HOST_NETWORK: NetworkPlacement = { enter: [], shareNet: true };

/** How the local runtime gives sandboxes a network; see NamespaceNetworks and SharedNetwork. */
export interface SandboxNetworks {
  /** `namespaces`: one network namespace per sandbox (root); `shared`: the host's (see SharedNetwork). */
  readonly kind: "namespaces" | "shared";
  /** One line for the log: what sandboxes get and what they share. */
  readonly summary: string;
  /** Makes the sandbox's network; on failure nothing of it is left. */
  create(id: string, mode: NetworkMode): Promise<void>;
  /** Removes the sandbox's network (its namespace, interfaces and rules); idempotent. */
  destroy(id: string): Promise<void>;
  /**
   * Where the sandbox's commands run, network-wise. Synchronous once its network exists; a sandbox
   * whose network is missing (it failed to come back after a restart) gets it made here.
   */
  placement(id: string, mode: NetworkMode): NetworkPlacement | Promise<NetworkPlacement>;
  /**
   * Where the host connects to the sandbox's `port`. `pids` are the sandbox's running commands (the
   * roots of its process trees), used where ports are shared to check that the listener is its own.
   */
  portAddress(id: string, mode: NetworkMode, port: number, pids: () => number[]): Promise<PortAddress>;
  /** The sandbox's address on its private network, where it has one. */
  addressOf(id: string): string | undefined;
  /** Removes every sandbox network of this host (and its firewall table); sandboxes keep their records. */
  close(): Promise<void>;
}

export interface NetworksOptions {
  dataDir: string;
  isolation: IsolationMode;
  /** `auto` (default): namespaces where the host can make them (root, ip, nft, nsenter), else shared. */
  want?: "auto" | "namespaces" | "shared";
  log: (message: string) => void;
}

/** Picks the network model this host can offer, and removes what a crashed run of the same data directory left. */
export async function openNetworks(options: NetworksOptions): Promise<SandboxNetworks> {
  const want = options.want ?? "auto";
  if (options.isolation === "none" || want === "shared") return new SharedNetwork(options.isolation, options.isolation === "none" ? "isolation is off" : "asked for");
  const missing = namespaceBlockers();
  if (missing) {
    if (want === "namespaces") throw new Error(`per-sandbox network namespaces are not possible here: ${missing}`);
    return new SharedNetwork(options.isolation, missing);
  }
  try {
    return await NamespaceNetworks.open(options.dataDir, options.log);
  } catch (err) {
    if (want === "namespaces") throw err;
    return new SharedNetwork(options.isolation, `setting up namespaces failed: ${(err as Error).message}`);
  }
}

/** Why this host cannot make network namespaces, or undefined when it can. */
function namespaceBlockers(): string | undefined {
  if (process.getuid?.() !== 0) return "the host does not run as root";
  const missing = Object.entries(TOOLS)
    .filter(([, path]) => !existsSync(path))
    .map(([name]) => name);
  if (missing.length > 0) return `${missing.join(", ")} not installed (apt-get install iproute2 nftables util-linux)`;
  return undefined;
}

const TOOLS = { ip: findTool("ip"), nft: findTool("nft"), nsenter: findTool("nsenter") };

function findTool(name: string): string {
  for (const dir of ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) if (existsSync(join(dir, name))) return join(dir, name);
  return `/usr/sbin/${name}`;
}

/** The 12 hex digits that name everything of one data directory's host on this machine (as cgroups.ts does). */
export function hostTag(dataDir: string): string {
  return createHash("sha256").update(dataDir).digest("hex").slice(0, 12);
}

/**
 * The private range sandbox links are cut from: /30s of 10.200.0.0/16, slot n being
 * 10.200.0.0 + 4n (the host side .1, the sandbox .2). Every Sandgate host on the machine uses the
 * same mapping and the kernel's interface names as the lock (`sgv<slot>`: creating an existing one
 * fails), so two hosts never hand out one subnet twice; slots whose subnet overlaps any other route
 * of the machine are skipped.
 */
const POOL_BASE = (10 << 24) | (200 << 16);
const POOL_SLOTS = 16384;
/** The host-side veth of every Sandgate sandbox on this machine starts so (the firewall matches on it). */
const VETH_PREFIX = "sgv";
/** Inside the namespace, the sandbox's interface. */
const SANDBOX_IF = "eth0";
const NETNS_DIR = "/run/netns";
/** Machine-wide notes shared by the Sandgate hosts of this machine (the forwarding setting found at first use). */
const RUN_DIR = "/run/sandgate";
const FORWARD_SYSCTL = "/proc/sys/net/ipv4/ip_forward";
/** At most this many namespaces are made or removed at once (each is a few `ip` and `nft` runs). */
const CONCURRENCY = 4;

interface Net {
  slot: number;
  mode: NetworkMode;
  ns: string;
  veth: string;
  /** Resolves once the network is up (rejects if it could not be made). */
  ready: Promise<void>;
  /** Whether the host-side link is this process's (made, not yet removed). */
  linked: boolean;
  placement?: NetworkPlacement;
}

/**
 * One network namespace per sandbox (needs root): a veth pair on a private /30 between the host and
 * the namespace, loopback up, the default route through the host side. All of a sandbox's commands
 * and processes join it (nsenter before bubblewrap, which then keeps --share-net), so they share one
 * port space, and the host reaches its ports at the sandbox's address (loopback-only servers too:
 * see insideSetup).
 *
 * One nftables table per host (`inet sandgate_<tag>`) enforces what the network allows:
 * - nothing from a sandbox reaches the host itself (input from any `sgv*` interface is refused,
 *   but for replies on connections the host opened: the proxy);
 * - nothing reaches another sandbox (forwarding between `sgv*` interfaces is refused);
 * - `egress` sandboxes are forwarded and masqueraded to anything else (DNS included: resolv.conf's
 *   nameserver is reached like the internet), but link-local addresses (cloud metadata);
 * - `none` sandboxes are forwarded nowhere; no new connection is forwarded into any sandbox;
 * - refused means an ICMP "administratively prohibited" answer, so programs fail at once (a DNS
 *   lookup in a `none` sandbox errors instead of waiting out its timeouts);
 * - IPv6: the links have no IPv6 addresses (addrgenmode none) and IPv6 from them is dropped.
 * IPv4 forwarding is switched on where it was off; the table then also drops any forwarding that is
 * not a sandbox's, so the machine routes nothing it did not route before. The last host to close
 * switches it back off.
 */
export class NamespaceNetworks implements SandboxNetworks {
  readonly kind = "namespaces";
  private readonly nets = new Map<string, Net>();
  /** Slots this process holds, or found taken by someone else. */
  private readonly taken = new Set<number>();
  private readonly slotsDir: string;
  private readonly limiter = new Limiter(CONCURRENCY);
  /** Slots that sandboxes had before a restart, so they keep their addresses where they can. */
  private readonly remembered = new Map<string, number>();
  private closed = false;

  private constructor(
    private readonly tag: string,
    dataDir: string,
    private readonly log: (message: string) => void,
  ) {
    this.slotsDir = join(dataDir, "network");
  }

  get summary(): string {
    return `each sandbox has a network namespace of its own (10.200.0.0/16, table inet ${this.table}): egress through NAT where allowed, never to the host or other sandboxes`;
  }

  /** Makes and removes a namespace with a link, as a create does: whether this host can, before it says so. */
  private async probe(): Promise<void> {
    const ns = `${this.nsName("")}-probe`; // ids never start with '-': no sandbox's name
    const link = `sgp${this.tag}`; // 15 characters, not an sgv* name
    const undo = [`link delete dev ${link}`, `netns delete ${ns}`];
    await run(TOOLS.ip, ["-force", "-batch", "-"], undo.join("\n")).catch(() => {});
    try {
      await run(TOOLS.ip, ["-batch", "-"], [`netns add ${ns}`, `link add name ${link} type veth peer name ${SANDBOX_IF} netns ${ns}`].join("\n"));
    } finally {
      await run(TOOLS.ip, ["-force", "-batch", "-"], undo.join("\n")).catch(() => {});
    }
  }

  private get table(): string {
    return `sandgate_${this.tag}`;
  }

  private get aliasPrefix(): string {
    return `sandgate-${this.tag}:`;
  }

  private nsName(id: string): string {
    return `sandgate-${this.tag}-${id}`;
  }

  static async open(dataDir: string, log: (message: string) => void): Promise<NamespaceNetworks> {
    const tag = hostTag(dataDir);
    const networks = new NamespaceNetworks(tag, dataDir, log);
    await mkdir(networks.slotsDir, { recursive: true });
    // Noted before anything is made, so no other host takes this one's objects for a dead host's.
    await registerHost(tag, dataDir);
    const removed = await removeHostObjects(tag);
    if (removed > 0) log(`removing ${removed} network leftover${removed === 1 ? "" : "s"} of a previous run`);
    const dead = await collectDeadHosts(tag);
    if (dead > 0) log(`removed the networks of ${dead} Sandgate host${dead === 1 ? "" : "s"} that ended without closing`);
    try {
      await networks.probe();
      const forwardWasOff = await enableForwarding();
      await networks.installTable(forwardWasOff);
    } catch (err) {
      // Not possible here after all (a container without CAP_NET_ADMIN, say): leave nothing behind.
      await run(TOOLS.nft, ["delete", "table", "inet", networks.table]).catch(() => {});
      await rm(join(HOSTS_DIR, tag), { force: true });
      await restoreForwarding().catch(() => {});
      throw err;
    }
    for (const name of await readdir(networks.slotsDir).catch(() => [])) {
      const slot = Number(await readFile(join(networks.slotsDir, name), "utf8").catch(() => "x"));
      if (Number.isInteger(slot) && slot >= 0 && slot < POOL_SLOTS) networks.remembered.set(name, slot);
    }
    return networks;
  }

  addressOf(id: string): string | undefined {
    const net = this.nets.get(id);
    return net?.placement ? slotAddress(net.slot, 2) : undefined;
  }

  create(id: string, mode: NetworkMode): Promise<void> {
    const existing = this.nets.get(id);
    if (existing) return existing.ready;
    if (this.closed) return Promise.reject(new SandgateError("sandbox_unavailable", "the host is shutting down"));
    // The slot is chosen when the build runs, not here: a host claims few slots it has not made yet.
    const net: Net = { slot: -1, mode, ns: this.nsName(id), veth: "", ready: Promise.resolve(), linked: false };
    this.nets.set(id, net);
    net.ready = this.limiter.run(() => this.build(id, net)).catch((err: Error) => {
      throw err instanceof SandgateError ? err : new SandgateError("sandbox_unavailable", `the sandbox's network could not be made: ${err.message}`);
    });
    net.ready.catch(() => {
      if (this.nets.get(id) === net) this.nets.delete(id);
    });
    return net.ready;
  }

  placement(id: string, mode: NetworkMode): NetworkPlacement | Promise<NetworkPlacement> {
    const net = this.nets.get(id);
    if (net?.placement) return net.placement;
    return this.create(id, mode).then(() => {
      const placement = this.nets.get(id)?.placement;
      if (!placement) throw errors.sandboxNotFound(id); // deleted meanwhile
      return placement;
    });
  }

  async portAddress(id: string, mode: NetworkMode, port: number): Promise<PortAddress> {
    await this.placement(id, mode);
    const host = this.addressOf(id);
    if (!host) throw errors.sandboxNotFound(id); // deleted meanwhile
    return { host, port };
  }

  async destroy(id: string): Promise<void> {
    const net = this.nets.get(id);
    this.nets.delete(id);
    this.remembered.delete(id);
    if (net) {
      await net.ready.catch(() => {});
      await this.limiter.run(() => this.teardown([net]));
      this.taken.delete(net.slot);
    }
    await rm(join(this.slotsDir, id), { force: true });
  }

  async close(): Promise<void> {
    this.closed = true;
    const nets = [...this.nets.values()];
    this.nets.clear();
    await Promise.all(nets.map((n) => n.ready.catch(() => {})));
    await this.teardown(nets, false); // the table goes as a whole
    await run(TOOLS.nft, ["delete", "table", "inet", this.table]).catch(() => {});
    await rm(join(HOSTS_DIR, this.tag), { force: true });
    await restoreForwarding();
  }

  /** A free slot: the remembered one if free, else the next free one from a place that differs per host. */
  private allocate(preferred?: number): number {
    const routes = hostRoutes();
    const free = (slot: number) =>
      !this.taken.has(slot) && !existsSync(`/sys/class/net/${VETH_PREFIX}${slot}`) && !routes.some((r) => overlaps(r, slotNetwork(slot)));
    if (preferred !== undefined && free(preferred)) {
      this.taken.add(preferred);
      return preferred;
    }
    const start = Number.parseInt(this.tag.slice(0, 4), 16) % POOL_SLOTS;
    for (let i = 0; i < POOL_SLOTS; i++) {
      const slot = (start + i) % POOL_SLOTS;
      if (free(slot)) {
        this.taken.add(slot);
        return slot;
      }
    }
    throw new SandgateError("sandbox_unavailable", "no free sandbox subnet is left on this machine (10.200.0.0/16)");
  }

  /** Makes the namespace and its link; on failure removes what it made. The slot may change (another host had it). */
  private async build(id: string, net: Net): Promise<void> {
    net.slot = this.allocate(this.remembered.get(id));
    net.veth = `${VETH_PREFIX}${net.slot}`;
    try {
      await this.addNamespace(net.ns);
      // Creating the host-side interface is what claims the slot machine-wide: another host holding
      // it makes this fail with "File exists", and the next free slot is tried.
      for (let attempt = 0; ; attempt++) {
        try {
          await run(TOOLS.ip, ["link", "add", "name", net.veth, "type", "veth", "peer", "name", SANDBOX_IF, "netns", net.ns]);
          break;
        } catch (err) {
          if (!/File exists/.test((err as Error).message) || attempt >= 100) throw err;
          // Its interface now exists, so allocate() passes over it until that host lets it go.
          const theirs = net.slot;
          net.slot = this.allocate();
          net.veth = `${VETH_PREFIX}${net.slot}`;
          this.taken.delete(theirs);
        }
      }
      net.linked = true;
      // The rules know the interface before it carries anything (it is down and has no address yet).
      await run(TOOLS.nft, ["-f", "-"], this.elements("add", net));
      const host = slotAddress(net.slot, 1);
      // The alias names the link's host and sandbox, for the cleanup after a crash (removeHostObjects).
      await run(TOOLS.ip, ["-batch", "-"], [`link set dev ${net.veth} alias ${this.aliasPrefix}${id}`, `link set dev ${net.veth} addrgenmode none`, `addr add ${host}/30 dev ${net.veth}`, `link set dev ${net.veth} up`].join("\n"));
      const enter = [TOOLS.nsenter, `--net=${join(NETNS_DIR, net.ns)}`];
      await run(enter[0]!, [...enter.slice(1), "/bin/sh", "-c", insideSetup(host, slotAddress(net.slot, 2))]);
      await writeAtomic(join(this.slotsDir, id), String(net.slot));
      net.placement = { enter, shareNet: true };
    } catch (err) {
      await this.teardown([net]).catch(() => {});
      this.taken.delete(net.slot);
      throw err;
    }
  }

  private async addNamespace(ns: string): Promise<void> {
    try {
      await run(TOOLS.ip, ["netns", "add", ns]);
    } catch (err) {
      if (!/File exists/.test((err as Error).message)) throw err;
      // Left by a create that died midway: start over.
      await run(TOOLS.ip, ["netns", "delete", ns]);
      await run(TOOLS.ip, ["netns", "add", ns]);
    }
  }

  /**
   * Removes the links this process made (the namespace's end goes with the host's), the namespaces
   * and, with `elements`, the links' entries in the table's sets (after the links: a link never
   * exists outside the sets). A slot's link that failed to be made may be another host's: left alone.
   */
  private async teardown(nets: Net[], elements = true): Promise<void> {
    if (nets.length === 0) return;
    const lines = nets.flatMap((n) => [...(n.linked ? [`link delete dev ${n.veth}`] : []), `netns delete ${n.ns}`]);
    await run(TOOLS.ip, ["-force", "-batch", "-"], lines.join("\n")).catch(() => {}); // -force: on past what is already gone
    for (const net of nets) {
      if (elements && net.linked) await run(TOOLS.nft, ["-f", "-"], this.elements("delete", net)).catch(() => {});
      net.linked = false;
    }
  }

  private elements(verb: "add" | "delete", net: Net): string {
    const lines = [`${verb} element inet ${this.table} veths { "${net.veth}" }`];
    if (net.mode === "egress") lines.push(`${verb} element inet ${this.table} egress { "${net.veth}" }`);
    return `${lines.join("\n")}\n`;
  }

  /** (Re)creates this host's table, empty, in one transaction. */
  private async installTable(guardForwarding: boolean): Promise<void> {
    const t = this.table;
    const any = `"${VETH_PREFIX}*"`;
    const ruleset = `
table inet ${t}
delete table inet ${t}
table inet ${t} {
  set veths { type ifname; }
  set egress { type ifname; }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    iifname ${any} ct state established,related accept
    iifname ${any} reject with icmpx type admin-prohibited
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname ${any} oifname ${any} reject with icmpx type admin-prohibited
    oifname @veths ct state established,related accept
    oifname @veths drop
    iifname @veths meta nfproto != ipv4 drop
    iifname @egress ip daddr 169.254.0.0/16 reject with icmpx type admin-prohibited
    iifname @egress accept
    iifname @veths reject with icmpx type admin-prohibited
    ${guardForwarding ? `iifname != ${any} oifname != ${any} meta nfproto ipv4 drop` : ""}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    iifname @egress oifname != ${any} masquerade
  }
}
`;
    await run(TOOLS.nft, ["-f", "-"], ruleset);
  }
}

/**
 * The fallback without network namespaces (the host is not root, or lacks ip/nft/nsenter; also
 * isolation `none`). What is shared, honestly:
 * - `egress` sandboxes run every command and process in the host's own network namespace: they reach
 *   what the host reaches, including services on its loopback (this API among them: set a token),
 *   and all of them share one port space with each other and the host. Their ports are proxied at
 *   127.0.0.1 only when the listener belongs to a process of that sandbox; a port held by anything
 *   else (another sandbox, a host service) is refused with 409 conflict.
 * - `none` sandboxes keep bubblewrap's private loopback per command (as before networks existed):
 *   nothing is reachable, not even between two of their own commands, and their ports cannot be proxied.
 * - isolation `none` runs everything on the host network, whatever the sandbox's mode.
 */
export class SharedNetwork implements SandboxNetworks {
  readonly kind = "shared";

  constructor(
    private readonly isolation: IsolationMode,
    private readonly reason: string,
  ) {}

  get summary(): string {
    if (this.isolation === "none") return "no network isolation (isolation is off): every sandbox uses the host's network and ports";
    return `no network namespaces (${this.reason}): sandboxes with network 'egress' share the host's network and ports (including services on its loopback), 'none' ones get a loopback of their own per command`;
  }

  async create(): Promise<void> {}

  async destroy(): Promise<void> {}

  async close(): Promise<void> {}

  addressOf(): undefined {
    return undefined;
  }

  placement(_id: string, mode: NetworkMode): NetworkPlacement {
    return this.isolation === "none" || mode === "egress" ? HOST_NETWORK : PRIVATE_LOOPBACK;
  }

  async portAddress(id: string, mode: NetworkMode, port: number, pids: () => number[]): Promise<PortAddress> {
    if (this.isolation !== "none" && mode === "none") {
      throw errors.conflict(
        `sandbox '${id}' has network 'none' and this host has no network namespaces (${this.reason}): each of its commands has a loopback of its own, so its ports cannot be reached`,
      );
    }
    const listeners = await tcpListeners(port);
    if (listeners.length === 0) return { host: "127.0.0.1", port }; // nothing listens: the connection is refused, as it should be
    const owned = await socketInodes(descendantsOf(pids()));
    const own = listeners.find((l) => owned.has(l.inode));
    if (!own) {
      throw errors.conflict(
        `port ${port} is held by a process outside sandbox '${id}': without network namespaces (${this.reason}) all sandboxes and the host share one set of ports`,
      );
    }
    return { host: own.connectTo, port };
  }
}

/**
 * The script that sets up the inside of a sandbox's namespace (run there by nsenter): loopback, its
 * end of the link, the default route through the host; and a NAT rule that hands the host's
 * connections to the sandbox's address to its loopback (with route_localnet on its link, which the
 * kernel needs for that), so a server listening on 127.0.0.1 only (Flask's and many dev servers'
 * default) is reached by the port proxy as it would be at `localhost` inside. Only the host's own
 * address matches: nothing else can reach the sandbox's loopback. The sandbox cannot change any of
 * this (it has no capability over this namespace). Every word is the runtime's own (addresses, names).
 */
function insideSetup(gateway: string, address: string): string {
  return `set -e
${TOOLS.ip} -batch - <<'EOF'
link set dev lo up
link set dev ${SANDBOX_IF} addrgenmode none
addr add ${address}/30 dev ${SANDBOX_IF}
link set dev ${SANDBOX_IF} up
route add default via ${gateway} dev ${SANDBOX_IF}
EOF
echo 1 > /proc/sys/net/ipv4/conf/${SANDBOX_IF}/route_localnet
${TOOLS.nft} -f - <<'EOF'
table ip sandgate {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "${SANDBOX_IF}" ip saddr ${gateway} ip daddr ${address} meta l4proto tcp dnat to 127.0.0.1
  }
}
EOF
`;
}

/** The IPv4 address `host` (1: host side, 2: sandbox) of a slot's /30. */
export function slotAddress(slot: number, host: 1 | 2): string {
  return ipText(POOL_BASE + slot * 4 + host);
}

function slotNetwork(slot: number): Route {
  return { dst: POOL_BASE + slot * 4, mask: 0xfffffffc };
}

function ipText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

interface Route {
  dst: number;
  mask: number;
}

/** The machine's IPv4 routes (main table) other than the default route and Sandgate's own links. */
function hostRoutes(): Route[] {
  let text: string;
  try {
    // Read synchronously on purpose: allocation must not yield, so two creates never pick one slot.
    text = readFileSync("/proc/net/route", "utf8");
  } catch {
    return [];
  }
  const routes: Route[] = [];
  for (const line of text.split("\n").slice(1)) {
    const [iface, dst, , , , , , mask] = line.trim().split(/\s+/);
    if (!iface || !dst || !mask || iface.startsWith(VETH_PREFIX)) continue;
    const route = { dst: hexAddress(dst), mask: hexAddress(mask) };
    if (route.mask !== 0) routes.push(route);
  }
  return routes;
}

function overlaps(a: Route, b: Route): boolean {
  const mask = (a.mask & b.mask) >>> 0;
  return ((a.dst & mask) >>> 0) === ((b.dst & mask) >>> 0);
}

/** An address as /proc/net/route prints it: the 32 bits in the machine's byte order, in hex. */
function hexAddress(hex: string): number {
  const bytes = Buffer.from(hex, "hex");
  if (endianness() === "LE") bytes.reverse();
  return bytes.readUInt32BE(0);
}

/**
 * Every host with namespaces notes itself in /run/sandgate/hosts/<tag> (its pid, the pid's start
 * time and its data directory) before it makes anything, and removes the note last when it closes.
 * Anything named for a tag with no live host behind it was left by a host that died (SIGKILL, a
 * crash, a test that never restarted it): the next host to open on the machine removes it.
 */
const HOSTS_DIR = join(RUN_DIR, "hosts");

async function registerHost(tag: string, dataDir: string): Promise<void> {
  await mkdir(HOSTS_DIR, { recursive: true });
  await writeAtomic(join(HOSTS_DIR, tag), JSON.stringify({ pid: process.pid, start: processStart(process.pid), dataDir }));
}

/** A process's start time (clock ticks after boot, /proc/<pid>/stat field 22): a pid plus this names one process. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

async function hostAlive(tag: string): Promise<boolean> {
  const note = await readFile(join(HOSTS_DIR, tag), "utf8").then(
    (text) => JSON.parse(text) as { pid?: number; start?: string },
    () => undefined,
  );
  if (!note?.pid) return false;
  return processStart(note.pid) === note.start;
}

/** Removes the objects of every other host tag on the machine whose host is gone; returns how many hosts. */
async function collectDeadHosts(ownTag: string): Promise<number> {
  const tags = new Set<string>();
  for (const name of await readdir(HOSTS_DIR).catch(() => [])) if (/^[0-9a-f]{12}$/.test(name)) tags.add(name);
  for (const name of await readdir(NETNS_DIR).catch(() => [])) tags.add(/^sandgate-([0-9a-f]{12})-/.exec(name)?.[1] ?? ownTag);
  const tables = await run(TOOLS.nft, ["list", "tables"]).catch(() => "");
  for (const match of tables.matchAll(/table inet sandgate_([0-9a-f]{12})/g)) tags.add(match[1]!);
  tags.delete(ownTag);
  let dead = 0;
  for (const tag of tags) {
    if (await hostAlive(tag)) continue;
    await removeHostObjects(tag);
    await run(TOOLS.nft, ["delete", "table", "inet", `sandgate_${tag}`]).catch(() => {});
    await rm(join(HOSTS_DIR, tag), { force: true });
    dead++;
  }
  return dead;
}

/** Removes the links (known by their alias) and namespaces named for host `tag`; returns how many. */
async function removeHostObjects(tag: string): Promise<number> {
  const lines: string[] = [];
  for (const name of await readdir("/sys/class/net").catch(() => [])) {
    if (!name.startsWith(VETH_PREFIX)) continue;
    const alias = await readFile(`/sys/class/net/${name}/ifalias`, "utf8").catch(() => "");
    if (alias.startsWith(`sandgate-${tag}:`)) lines.push(`link delete dev ${name}`);
  }
  // A namespace's own end of a link goes with it, once no process is left inside.
  for (const name of await readdir(NETNS_DIR).catch(() => [])) if (name.startsWith(`sandgate-${tag}-`)) lines.push(`netns delete ${name}`);
  if (lines.length > 0) await run(TOOLS.ip, ["-force", "-batch", "-"], lines.join("\n")).catch(() => {});
  return lines.length;
}

/** Switches IPv4 forwarding on; true when it was off, noted (once, machine-wide) so the last host can switch it back. */
async function enableForwarding(): Promise<boolean> {
  const current = (await readFile(FORWARD_SYSCTL, "utf8")).trim();
  await mkdir(RUN_DIR, { recursive: true });
  const note = join(RUN_DIR, "ip_forward.orig");
  if (current !== "1") {
    await writeFile(note, current, { flag: "wx" }).catch(() => {}); // another host may have noted it first
    await writeFile(FORWARD_SYSCTL, "1");
  }
  const original = await readFile(note, "utf8").catch(() => undefined);
  return original !== undefined && original.trim() !== "1";
}

/** Puts IPv4 forwarding back as it was found, once no Sandgate table or link is left on the machine. */
async function restoreForwarding(): Promise<void> {
  const note = join(RUN_DIR, "ip_forward.orig");
  const original = await readFile(note, "utf8").catch(() => undefined);
  if (original === undefined) return;
  const tables = await run(TOOLS.nft, ["list", "tables"]).catch(() => "table inet sandgate_?");
  if (/table inet sandgate_/.test(tables)) return;
  const links = await readdir("/sys/class/net").catch(() => []);
  if (links.some((name) => name.startsWith(VETH_PREFIX))) return;
  await writeFile(FORWARD_SYSCTL, original.trim());
  await rm(note, { force: true });
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

/** Runs a tool with `input` on its stdin; resolves with its stdout, rejects with its stderr. */
function run(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C" }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${file.split("/").pop()} ${args.join(" ")}: ${err.trim() || `exit ${code}`}`));
    });
  });
}

/** Runs at most `size` jobs at once. */
class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly size: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await job();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

interface Listener {
  inode: number;
  /** Where the host connects to reach it. */
  connectTo: string;
}

/** The TCP sockets listening on `port` in the host's network namespace (/proc/net/tcp and tcp6). */
async function tcpListeners(port: number): Promise<Listener[]> {
  const listeners: Listener[] = [];
  for (const [file, v6] of [["/proc/net/tcp", false], ["/proc/net/tcp6", true]] as const) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1], fields[3], fields[9]];
      if (!local || state !== "0A" || !inode) continue; // 0A: LISTEN
      const [addrHex, portHex] = local.split(":") as [string, string];
      if (Number.parseInt(portHex, 16) !== port) continue;
      listeners.push({ inode: Number(inode), connectTo: connectAddress(addrHex, v6) });
    }
  }
  return listeners;
}

/** The address the host dials for a listener bound to `addrHex`: loopback for the wildcard ones. */
function connectAddress(addrHex: string, v6: boolean): string {
  if (!v6) {
    const n = hexAddress(addrHex);
    return n === 0 ? "127.0.0.1" : ipText(n);
  }
  // Four 32-bit words, each in the machine's byte order.
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) bytes.writeUInt32BE(hexAddress(addrHex.slice(i * 8, i * 8 + 8)), i * 4);
  if (bytes.every((b) => b === 0)) return "::1";
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return ipText(bytes.readUInt32BE(12));
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(bytes.readUInt16BE(i).toString(16));
  return words.join(":");
}

/** `roots` and every live process below them (from /proc's parent links). */
function descendantsOf(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // exited while we looked
    }
  }
  const out = [...roots];
  const todo = [...roots];
  while (todo.length > 0) for (const child of children.get(todo.pop()!) ?? []) (out.push(child), todo.push(child));
  return out;
}

/** The inodes of the sockets the processes `pids` hold open. */
async function socketInodes(pids: number[]): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(Number(match[1]));
    }
  }
  return inodes;
}
