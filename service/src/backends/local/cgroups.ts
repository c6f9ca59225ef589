import { mkdir, readFile, readdir, rmdir, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResourceLimits } from "./isolation.ts";

const ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["pids", "memory"] as const;

/**
 * Which cgroup hierarchy limits the sandboxes: v1 (a directory per controller, as on hybrid hosts
 * whose pids and memory controllers are bound to v1) or v2 (the unified hierarchy).
 */
export type CgroupModel = "v1" | "v2";

/** The files that differ between the two models. */
interface Layout {
  /** Parent groups of this host: one per controller in v1, one in v2. */
  parents: string[];
  /** Limit files written in a sandbox's group under each parent, in the same order. */
  limits: (limits: ResourceLimits) => Record<string, string>[];
  /**
   * The file a command writes 0 to, joining a group. v1: `tasks` moves only the calling thread, without
   * the machine-wide lock a write to cgroup.procs takes (it waits out an RCU grace period, up to ~10
   * ms a command on an idle 2-core VM, where it was measured). v2 has no `tasks`, and moving a
   * thread between domain groups is refused: there it is `cgroup.procs`.
   */
  joinFile: string;
}

/**
 * One cgroup per sandbox (v1: under each of the pids and memory controllers; v2: one group with both
 * controllers enabled), where the host lets us write them (as root). Counting processes per sandbox
 * also keeps one sandbox's finished PID namespaces from eating another's budget.
 */
export class Cgroups {
  /** Sandboxes whose groups exist, with the files that join them. */
  private readonly joins = new Map<string, string[]>();

  private constructor(
    readonly model: CgroupModel,
    private readonly layout: Layout,
    private readonly limits: ResourceLimits,
  ) {}

  /** For the host's log: the model and the limits it enforces. */
  get summary(): string {
    return `cgroup ${this.model}: ${this.limits.maxProcesses} processes and ${Math.round(this.limits.memoryBytes / 1024 ** 2)} MiB of memory per sandbox`;
  }

  /**
   * Returns why not, for the host's log, where neither model's pids and memory controllers are
   * writable. `owner` (the data directory) names the parent group, so two hosts
   * on one machine never share a sandbox's cgroup. v1 is chosen where its controllers are mounted
   * (hybrid hosts bind them there, and the unified tree then has none of them).
   */
  static detect(limits: ResourceLimits, owner: string, root = ROOT): Cgroups | string {
    const name = `sandgate-${createHash("sha256").update(owner).digest("hex").slice(0, 12)}`;
    const reasons: string[] = [];
    if (CONTROLLERS.every((controller) => existsSync(join(root, controller)))) {
      try {
        return new Cgroups("v1", v1Layout(root, name), limits);
      } catch (error) {
        reasons.push(`v1: ${(error as Error).message}`);
      }
    } else reasons.push(`v1: no ${CONTROLLERS.join(" and ")} hierarchies under ${root}`);
    if (existsSync(join(root, "cgroup.controllers"))) {
      try {
        return new Cgroups("v2", v2Layout(root, name), limits);
      } catch (error) {
        reasons.push(`v2: ${(error as Error).message}`);
      }
    } else reasons.push(`v2: ${root} is not a unified hierarchy`);
    return reasons.join("; ");
  }

  /**
   * The files a command of this sandbox writes 0 to, joining its groups (see JOIN_AND_EXEC in
   * isolation.ts); the groups are made, with their limits, on first use.
   */
  joinFiles(sandboxId: string): string[] | Promise<string[]> {
    return this.joins.get(sandboxId) ?? this.create(sandboxId);
  }

  private async create(sandboxId: string): Promise<string[]> {
    const dirs = this.layout.parents.map((parent) => join(parent, sandboxId));
    const limits = this.layout.limits(this.limits);
    for (const [i, dir] of dirs.entries()) {
      await mkdir(dir, { recursive: true });
      for (const [file, value] of Object.entries(limits[i]!)) await writeFile(join(dir, file), value);
    }
    const files = dirs.map((dir) => join(dir, this.layout.joinFile));
    this.joins.set(sandboxId, files);
    return files;
  }

  /** Removes the groups of every sandbox (on shutdown, and on start for what a crash left behind). */
  async destroyAll(): Promise<void> {
    const ids = new Set<string>();
    for (const parent of this.layout.parents) {
      for (const entry of await readdir(parent, { withFileTypes: true }).catch(() => [])) if (entry.isDirectory()) ids.add(entry.name);
    }
    for (const id of ids) await this.destroy(id);
  }

  /** On shutdown: every group of this host, and its parent groups, removed. */
  async release(): Promise<void> {
    await this.destroyAll();
    for (const parent of this.layout.parents) await rmdir(parent).catch(() => {});
  }

  /** Kills every process still in the sandbox's cgroups and removes them. */
  async destroy(sandboxId: string): Promise<void> {
    this.joins.delete(sandboxId);
    for (const parent of this.layout.parents) {
      const dir = join(parent, sandboxId);
      for (let attempt = 0; attempt < 50; attempt++) {
        const pids = await readFile(join(dir, "cgroup.procs"), "utf8").then(
          (text) => text.split("\n").filter(Boolean).map(Number),
          () => undefined,
        );
        if (pids === undefined) break;
        for (const pid of pids) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        try {
          await rmdir(dir);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
  }
}

function v1Layout(root: string, name: string): Layout {
  const parents = CONTROLLERS.map((controller) => join(root, controller, name));
  for (const parent of parents) {
    mkdirSync(parent, { recursive: true });
    // Probe that children can actually be limited here, not just created.
    writeFileSync(join(parent, "cgroup.clone_children"), "0");
  }
  return {
    parents,
    limits: (l): Record<string, string>[] => [{ "pids.max": String(l.maxProcesses) }, { "memory.limit_in_bytes": String(l.memoryBytes) }],
    joinFile: "tasks",
  };
}

/**
 * v2: the controllers must be offered by the root (cgroup.controllers) and enabled for its children
 * and for ours (cgroup.subtree_control). Our parent group holds no process, as v2 requires of a group
 * that hands controllers to its children; a container whose root group holds processes refuses the
 * first write (EBUSY), and then no model is used.
 */
function v2Layout(root: string, name: string): Layout {
  const offered = readFileSync(join(root, "cgroup.controllers"), "utf8").trim().split(/\s+/);
  const missing = CONTROLLERS.filter((controller) => !offered.includes(controller));
  if (missing.length > 0) throw new Error(`the unified hierarchy does not offer ${missing.join(" and ")}`);
  const enable = CONTROLLERS.map((controller) => `+${controller}`).join(" ");
  writeFileSync(join(root, "cgroup.subtree_control"), enable);
  const parent = join(root, name);
  mkdirSync(parent, { recursive: true });
  writeFileSync(join(parent, "cgroup.subtree_control"), enable);
  return {
    parents: [parent],
    limits: (l) => [{ "pids.max": String(l.maxProcesses), "memory.max": String(l.memoryBytes) }],
    joinFile: "cgroup.procs",
  };
}
