import { existsSync } from "node:fs";
import type { PortAddress } from "../../../core/backend.ts";
import type { NetworkMode } from "../../../schemas/sandboxes.ts";
import type { IsolationMode } from "../isolation.ts";
import { TOOLS } from "./machine.ts";
import { NamespaceNetworks } from "./namespaces.ts";
import { SharedNetwork } from "./shared.ts";

export { hostTag, processStart, withTagLock } from "./machine.ts";
export { slotAddress } from "./addresses.ts";
export { NamespaceNetworks } from "./namespaces.ts";
export { SharedNetwork } from "./shared.ts";

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
  /**
   * Makes the sandbox's network; on failure nothing of it is left. May resolve once what claims it
   * exists, its setup going on afterwards: placement and portAddress wait for the whole.
   */
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

