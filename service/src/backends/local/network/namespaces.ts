import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { PortAddress } from "../../../core/backend.ts";
import { SandgateError, errors } from "../../../core/errors.ts";
import type { NetworkMode } from "../../../schemas/sandboxes.ts";
import { POOL_SLOTS, VETH_PREFIX, hostRoutes, overlaps, slotAddress, slotNetwork } from "./addresses.ts";
import type { NetworkPlacement, SandboxNetworks } from "./index.ts";
import { HOSTS_DIR, NETNS_DIR, TOOLS, hostTag, collectDeadHosts, enableForwarding, registerHost, removeHostObjects, restoreForwarding, run, writeAtomic } from "./machine.ts";

/** Inside the namespace, the sandbox's interface. */
const SANDBOX_IF = "eth0";
/** At most this many namespaces are made or removed at once (each is a few `ip` and `nft` runs). */
const CONCURRENCY = 4;

interface Net {
  slot: number;
  mode: NetworkMode;
  ns: string;
  veth: string;
  /** Resolves once the network is up, inside too (rejects if it could not be made). */
  ready: Promise<void>;
  /**
   * Resolves once the namespace and link exist (what create waits for). The rest (the table's sets,
   * then the inside: addresses, route, the loopback DNAT) may still be under way: the link carries
   * nothing before the inside brings its namespace's end up, which comes after the rules name it,
   * and nothing runs in the namespace before `ready` (placement waits for it).
   */
  made: Promise<void>;
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
    // Not listable by other host users (its entries are sandbox ids).
    await mkdir(networks.slotsDir, { recursive: true, mode: 0o711 });
    await chmod(networks.slotsDir, 0o711);
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
    return this.start(id, mode).then((net) => net.made);
  }

  /** The sandbox's network, its build started if it has none. */
  private async start(id: string, mode: NetworkMode): Promise<Net> {
    const existing = this.nets.get(id);
    if (existing) return existing;
    if (this.closed) throw new SandgateError("sandbox_unavailable", "the host is shutting down");
    // The slot is chosen when the build runs, not here: a host claims few slots it has not made yet.
    let resolveMade = () => {};
    let fail: (err: unknown) => void = () => {};
    const made = new Promise<void>((resolve, reject) => ((resolveMade = resolve), (fail = reject)));
    made.catch(() => {}); // heard through `ready` wherever nobody waits for this one
    const net: Net = { slot: -1, mode, ns: this.nsName(id), veth: "", ready: Promise.resolve(), made, linked: false };
    this.nets.set(id, net);
    net.ready = this.limiter.run(() => this.build(id, net, resolveMade)).catch((err: Error) => {
      throw err instanceof SandgateError ? err : new SandgateError("sandbox_unavailable", `the sandbox's network could not be made: ${err.message}`);
    });
    net.ready.catch((err: unknown) => {
      fail(err);
      if (this.nets.get(id) === net) this.nets.delete(id);
    });
    return net;
  }

  placement(id: string, mode: NetworkMode): NetworkPlacement | Promise<NetworkPlacement> {
    const net = this.nets.get(id);
    if (net?.placement) return net.placement;
    return this.start(id, mode).then(async (started) => {
      await started.ready;
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

  /**
   * Makes the namespace and its link; on failure removes what it made. The slot may change (another
   * host had it). The host side is one `ip` batch (namespace, link, alias, address, up) rather than a
   * run per step: each run of a tool costs a create a few milliseconds. The rules learn the link's
   * name before the namespace's end is set up, so before the link carries anything (a veth whose
   * peer is down drops what it is sent, and nothing runs in the new namespace yet).
   *
   * `made` is called once the namespace and the link exist (the slot is claimed, its note written):
   * a create returns then, and the rest (an nft run for the sets, then one nsenter with a shell, ip
   * and nft: about twice as long as the batch) goes on while its answer travels; whatever runs in
   * the sandbox or reaches its ports waits for the whole (`ready`). A failure there removes
   * everything as before, and the next use of the sandbox builds its network anew.
   */
  private async build(id: string, net: Net, made: () => void): Promise<void> {
    net.slot = this.allocate(this.remembered.get(id));
    net.veth = `${VETH_PREFIX}${net.slot}`;
    try {
      let namespaceMade = false;
      for (let attempt = 0; ; attempt++) {
        const host = slotAddress(net.slot, 1);
        const lines = [
          ...(namespaceMade ? [] : [`netns add ${net.ns}`]),
          // Creating the host-side interface is what claims the slot machine-wide: another host
          // holding it makes this fail with "File exists", and the next free slot is tried.
          `link add name ${net.veth} type veth peer name ${SANDBOX_IF} netns ${net.ns}`,
          // The alias names the link's host and sandbox, for the cleanup after a crash (removeHostObjects).
          `link set dev ${net.veth} alias ${this.aliasPrefix}${id}`,
          `link set dev ${net.veth} addrgenmode none`,
          `addr add ${host}/30 dev ${net.veth}`,
          `link set dev ${net.veth} up`,
        ];
        const failed = await runBatch(lines);
        if (!failed) break;
        const { line, err } = failed;
        if (line.startsWith("netns add")) {
          if (!/File exists/.test(err.message) || attempt >= 100) throw err;
          // Left by a create that died midway: start over.
          await run(TOOLS.ip, ["netns", "delete", net.ns]);
          continue;
        }
        namespaceMade = true;
        if (!line.startsWith("link add")) {
          net.linked = true; // made, then a later step failed: the teardown removes it
          throw err;
        }
        if (!/File exists/.test(err.message) || attempt >= 100) throw err;
        // Its interface now exists, so allocate() passes over it until that host lets it go.
        const theirs = net.slot;
        net.slot = this.allocate();
        net.veth = `${VETH_PREFIX}${net.slot}`;
        this.taken.delete(theirs);
      }
      net.linked = true;
      await writeAtomic(join(this.slotsDir, id), String(net.slot), 0o600);
      made();
      await run(TOOLS.nft, ["-f", "-"], this.elements("add", net));
      const enter = [TOOLS.nsenter, `--net=${join(NETNS_DIR, net.ns)}`];
      await run(enter[0]!, [...enter.slice(1), "/bin/sh", "-c", insideSetup(slotAddress(net.slot, 1), slotAddress(net.slot, 2))]);
      net.placement = { enter, shareNet: true };
    } catch (err) {
      await this.teardown([net]).catch(() => {});
      this.taken.delete(net.slot);
      throw err;
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

/**
 * Runs `lines` as one `ip -batch`, which stops at the first line that fails: undefined when all ran,
 * else that line and the error (ip names it as "Command failed -:N").
 */
async function runBatch(lines: string[]): Promise<{ line: string; err: Error } | undefined> {
  try {
    await run(TOOLS.ip, ["-batch", "-"], lines.join("\n"));
    return undefined;
  } catch (err) {
    const index = Number(/Command failed -:(\d+)/.exec((err as Error).message)?.[1] ?? "1") - 1;
    return { line: lines[index] ?? lines[0]!, err: err as Error };
  }
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

