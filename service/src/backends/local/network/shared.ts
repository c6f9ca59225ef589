import { readFile, readdir, readlink } from "node:fs/promises";
import { readFileSync, readdirSync } from "node:fs";
import type { PortAddress } from "../../../core/backend.ts";
import { errors } from "../../../core/errors.ts";
import type { NetworkMode } from "../../../schemas/sandboxes.ts";
import type { IsolationMode } from "../isolation.ts";
import { hexAddress, ipText } from "./addresses.ts";
import { HOST_NETWORK, type NetworkPlacement, PRIVATE_LOOPBACK, type SandboxNetworks } from "./index.ts";

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

