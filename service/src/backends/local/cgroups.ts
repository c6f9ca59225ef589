import { mkdir, readFile, readdir, rmdir, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResourceLimits } from "./isolation.ts";

const ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["pids", "memory"] as const;

/**
 * One cgroup v1 directory per sandbox under each of the pids and memory controllers, where the host
 * lets us write them (as root). Counting processes per sandbox also keeps one sandbox's finished
 * PID namespaces from eating another's budget.
 */
export class Cgroups {
  /** Sandboxes whose groups exist, with the files that join them. */
  private readonly joins = new Map<string, string[]>();

  private constructor(
    private readonly parents: string[],
    private readonly limits: ResourceLimits,
  ) {}

  /**
   * Returns undefined where cgroup v1 controllers are absent or not writable. `owner` (the data
   * directory) names the parent group, so two hosts on one machine never share a sandbox's cgroup.
   */
  static detect(limits: ResourceLimits, owner: string): Cgroups | undefined {
    const name = `sandgate-${createHash("sha256").update(owner).digest("hex").slice(0, 12)}`;
    try {
      const parents = CONTROLLERS.map((controller) => join(ROOT, controller, name));
      for (const parent of parents) {
        mkdirSync(parent, { recursive: true });
        // Probe that children can actually be limited here, not just created.
        writeFileSync(join(parent, "cgroup.clone_children"), "0");
      }
      return new Cgroups(parents, limits);
    } catch {
      return undefined;
    }
  }

  /**
   * The `tasks` files a command of this sandbox writes 0 to, joining its groups (see JOIN_AND_EXEC in
   * isolation.ts); the groups are made, with their limits, on first use.
   */
  joinFiles(sandboxId: string): string[] | Promise<string[]> {
    return this.joins.get(sandboxId) ?? this.create(sandboxId);
  }

  private async create(sandboxId: string): Promise<string[]> {
    const dirs = this.parents.map((parent) => join(parent, sandboxId));
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    const [pidsDir, memoryDir] = dirs as [string, string];
    await writeFile(join(pidsDir, "pids.max"), String(this.limits.maxProcesses));
    await writeFile(join(memoryDir, "memory.limit_in_bytes"), String(this.limits.memoryBytes));
    const files = dirs.map((dir) => join(dir, "tasks"));
    this.joins.set(sandboxId, files);
    return files;
  }

  /** Removes the groups of every sandbox (on shutdown, and on start for what a crash left behind). */
  async destroyAll(): Promise<void> {
    const ids = new Set<string>();
    for (const parent of this.parents) {
      for (const entry of await readdir(parent, { withFileTypes: true }).catch(() => [])) if (entry.isDirectory()) ids.add(entry.name);
    }
    for (const id of ids) await this.destroy(id);
  }

  /** On shutdown: every group of this host, and its parent groups, removed. */
  async release(): Promise<void> {
    await this.destroyAll();
    for (const parent of this.parents) await rmdir(parent).catch(() => {});
  }

  /** Kills every process still in the sandbox's cgroups and removes them. */
  async destroy(sandboxId: string): Promise<void> {
    this.joins.delete(sandboxId);
    for (const parent of this.parents) {
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
