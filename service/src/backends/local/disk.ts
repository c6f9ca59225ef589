import { existsSync } from "node:fs";
import { chmod, chown, lstat, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DiskPool } from "./disk-pool.ts";
import type { Identity, SandboxDirs } from "./isolation.ts";
import { isMountPoint, run, unmountAll } from "./mounts.ts";
import { hostTag, processStart, withTagLock } from "./network/index.ts";

/**
 * The runtime directory's own entries (the sandboxes' /etc, the agent, the pool, the per-sandbox mount
 * points, this host's note). A sandbox's mount point is `disks/<id>`, never `<id>`: a sandbox may be
 * called `etc` or `pool`.
 */
const RUNTIME_ENTRIES = new Set(["etc", "bin", "pool", "disks", "host.json"]);

/** The smallest image worth making (ext4's own metadata takes a few MiB of it). */
const MIN_IMAGE_BYTES = 16 * 1024 * 1024;

/**
 * Runs before an environment starts, on the real workspace directory (its disk mounted, not yet
 * bound anywhere): a noted restore is swapped in there (snapshots/swap.ts). True: it was swapped.
 */
export type BeforeUse = (workspace: string) => Promise<boolean>;

/**
 * Where a sandbox's /workspace and /tmp are on the host while its environment runs.
 *
 * On a root host they are mounted under a runtime directory of this host (`/run/sandgate/<tag>/`,
 * every step of the way traversable, so a sandbox's own unprivileged identity can reach them wherever
 * the data directory is), nosuid and nodev:
 * - `pool` (loop devices and btrfs-progs present, the default): each sandbox's disk is a subvolume
 *   of the host's btrfs pool, limited by its quota group (disk-pool.ts); the snapshot store is in the
 *   pool too, so restores clone stored files instead of copying them.
 * - `image` (loop devices and mkfs.ext4 present; SANDGATE_DISKS=image, or a data directory whose
 *   snapshot store predates the pool): each sandbox's disk quota holds a sparse ext4 image
 *   in its directory (`disk.img`: the quota less the sandbox's log budget, see log-budget.ts),
 *   loop-mounted there, and its process logs; a sandbox that fills it gets ENOSPC and the host's disk
 *   and other sandboxes are untouched. `sandboxes/<id>/disk` links to it.
 * - `bind`: no quota; the sandbox's `workspace` and `tmp` directories are bound there.
 * Elsewhere (`direct`, the host is not root) they are the sandbox directory's `workspace` and `tmp`,
 * owned by the host's user that the sandbox runs as.
 */
export class SandboxStorage {
  private constructor(
    readonly kind: "pool" | "image" | "bind" | "direct",
    readonly runtimeDir: string,
    readonly quotaBytes: number | undefined,
    private readonly logBytes: number,
    private readonly mkfs: string | undefined,
    /** Where snapshots are stored: in the pool where there is one, else the data directory's `snapshots`. */
    readonly snapshotDir: string,
    private readonly pool?: DiskPool,
  ) {}

  /**
   * `quotaBytes`: all a sandbox may take of the host's disk, `logBytes` of it for process logs;
   * `prefer`: the pool where this machine has one, or per-sandbox images.
   */
  static async open(dataDir: string, quotaBytes: number, logBytes: number, isolated: boolean, prefer: "pool" | "image" = "pool"): Promise<SandboxStorage> {
    const dataSnapshots = join(dataDir, "snapshots");
    if (process.getuid?.() !== 0 || !isolated) {
      const runtimeDir = join(dataDir, "run");
      await mkdir(runtimeDir, { recursive: true });
      return new SandboxStorage("direct", runtimeDir, undefined, logBytes, undefined, dataSnapshots);
    }
    const tag = hostTag(dataDir);
    const runtimeDir = join(existsSync("/run") ? "/run" : "/var/run", "sandgate", tag);
    // Noted first (under the tag's lock, see withTagLock), so that no other host takes this one's
    // mounts for those of a host that died, even one that read the note of this one's killed predecessor.
    await withTagLock(tag, true, async () => {
      await mkdir(runtimeDir, { recursive: true, mode: 0o711 });
      await chmod(join(runtimeDir, ".."), 0o711);
      await chmod(runtimeDir, 0o711);
      await writeFile(join(runtimeDir, "host.json"), JSON.stringify({ pid: process.pid, start: processStart(process.pid), dataDir }));
    });
    await collectDeadHosts(join(runtimeDir, ".."), runtimeDir);
    const mkfs = ["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"].find((p) => existsSync(p));
    const loops = existsSync("/dev/loop-control");
    const tools = DiskPool.tools();
    if (!loops || (!mkfs && !tools)) return new SandboxStorage("bind", runtimeDir, undefined, logBytes, undefined, dataSnapshots);
    if (quotaBytes - logBytes < MIN_IMAGE_BYTES) {
      throw new Error(`the disk quota (${quotaBytes} bytes) leaves less than ${MIN_IMAGE_BYTES} bytes for the workspace after the log budget (${logBytes}): raise SANDGATE_DISK_BYTES or lower SANDGATE_LOG_BYTES`);
    }
    // A data directory keeps the layout it was made with: one with a pool keeps it, one whose
    // snapshots were stored before the pool existed keeps its images (its store stays where it is).
    const made = existsSync(join(dataDir, "pool.img"));
    if (tools && (made || (prefer === "pool" && !existsSync(dataSnapshots)))) {
      const pool = await DiskPool.open(dataDir, runtimeDir, tools);
      // The data directory's `snapshots` names the store in the pool (as `sandboxes/<id>/disk` names a disk).
      if (!existsSync(dataSnapshots) || (await lstat(dataSnapshots)).isSymbolicLink()) {
        await rm(dataSnapshots, { force: true });
        await symlink(pool.snapshotDir, dataSnapshots);
      }
      return new SandboxStorage("pool", runtimeDir, quotaBytes, logBytes, mkfs, pool.snapshotDir, pool);
    }
    if (!mkfs) return new SandboxStorage("bind", runtimeDir, undefined, logBytes, undefined, dataSnapshots);
    return new SandboxStorage("image", runtimeDir, quotaBytes, logBytes, mkfs, dataSnapshots);
  }

  /** The size of each sandbox's image: its quota less its log budget, so that both fit the quota. */
  get imageBytes(): number {
    return (this.quotaBytes ?? 0) - this.logBytes;
  }

  /** What a sandbox's workspace and tmp may hold together, where a quota holds them. */
  get workspaceLimit(): number | undefined {
    return this.kind === "pool" || this.kind === "image" ? this.imageBytes : undefined;
  }

  /**
   * How a restore puts stored files into a sandbox's disk here: clones in the pool (the store shares
   * its filesystem); else a copy, in the kernel where the host can reach the agent's descriptors (root).
   */
  get restorePath(): string {
    if (this.kind === "pool") return "clone the stored files into the sandbox's disk (reflinks in the btrfs pool: no file data is copied), into files the sandbox's agent lends";
    return `copy the file data into the sandbox's disk (${process.getuid?.() === 0 ? "in the kernel, into files the sandbox's agent lends" : "through the agent's tar stream"})`;
  }

  get summary(): string {
    if (this.kind === "pool") {
      return `a ${this.quotaBytes}-byte disk quota per sandbox: a btrfs subvolume of this host's pool (pool.img, loop-mounted nosuid,nodev at ${this.pool!.mountPoint}) limited to ${this.imageBytes} bytes by its quota group, and ${this.logBytes} bytes of process logs; restores and creates from a snapshot clone the stored files (reflinks, no data copied)`;
    }
    if (this.kind === "image") {
      return `a ${this.quotaBytes}-byte disk quota per sandbox: a ${this.imageBytes}-byte ext4 image (loop-mounted nosuid,nodev under ${join(this.runtimeDir, "disks")}) and ${this.logBytes} bytes of process logs`;
    }
    if (this.kind === "bind") return `no per-sandbox disk quota (no loop devices or mkfs.ext4 here); workspaces bound nosuid,nodev under ${join(this.runtimeDir, "disks")}`;
    return "no per-sandbox disk quota (needs root): workspaces are plain directories of the data directory";
  }

  /** At create: what must exist before the first start (plain directories where there is no image). */
  async create(sandboxDir: string, identity: Identity | undefined): Promise<void> {
    if (this.kind === "image" || this.kind === "pool") return;
    await plainDirs(sandboxDir, identity);
  }

  /** Before the environment starts: the sandbox's disk made (first time) and mounted; its directories. */
  async prepare(id: string, sandboxDir: string, identity: Identity | undefined, beforeUse?: BeforeUse): Promise<SandboxDirs> {
    if (this.kind === "direct") {
      await beforeUse?.(join(sandboxDir, "workspace"));
      return plainDirs(sandboxDir, identity);
    }
    // A sandbox made before images existed (or on a host without them) keeps its plain directories,
    // and one made with an image keeps it on a host that has since made a pool.
    const plain = this.kind === "bind" || existsSync(join(sandboxDir, "workspace"));
    const image = join(sandboxDir, "disk.img");
    if (this.pool && !plain && !existsSync(image)) {
      return onDisk(await this.pool.ensureVolume(id, this.imageBytes), sandboxDir, identity, beforeUse);
    }
    const mountPoint = this.mountPointOf(id);
    await mkdir(mountPoint, { recursive: true, mode: 0o711 });
    if (plain) {
      const swapped = (await beforeUse?.(join(sandboxDir, "workspace"))) ?? false;
      const source = await plainDirs(sandboxDir, identity);
      const dirs = { workspace: join(mountPoint, "workspace"), tmp: join(mountPoint, "tmp") };
      // A bind a previous run left holds the directory that was swapped out.
      if (swapped && (await isMountPoint(dirs.workspace))) await run("umount", [dirs.workspace]);
      for (const name of ["workspace", "tmp"] as const) {
        await mkdir(dirs[name], { recursive: true, mode: 0o700 });
        if (!(await isMountPoint(dirs[name]))) {
          await run("mount", ["--bind", source[name], dirs[name]]);
          await run("mount", ["-o", "remount,bind,nosuid,nodev", dirs[name]]);
        }
      }
      return dirs;
    }
    if (!existsSync(image)) {
      const temp = `${image}.new`;
      await run("truncate", ["-s", String(this.imageBytes), temp]);
      // The image is the sandbox's whole disk: readable by no other host user.
      await chmod(temp, 0o600);
      // No reserved blocks (the sandbox gets its whole quota); lazy init keeps this to a few ms.
      await run(this.mkfs!, ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", temp]);
      await run("mv", ["-f", temp, image]);
    }
    await chmod(image, 0o600); // images made before they were closed
    if (!(await isMountPoint(mountPoint))) await run("mount", ["-o", "loop,nosuid,nodev,noatime", image, mountPoint]);
    await chmod(mountPoint, 0o711);
    return onDisk(mountPoint, sandboxDir, identity, beforeUse);
  }

  /** When the sandbox is deleted (after release): its disk in the pool goes (an image goes with its directory). */
  async destroy(id: string): Promise<void> {
    await this.pool?.destroy(id);
  }

  /** When the host closes: the pool is unmounted (each sandbox's own mounts went with its environment). */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** After the environment is gone: its mounts undone (an image stays for the next start). */
  async release(id: string): Promise<void> {
    if (this.kind === "direct") return;
    await releaseMounts(this.mountPointOf(id));
  }

  /** Where a sandbox's image, or its bound directories, is mounted while its environment runs. */
  private mountPointOf(id: string): string {
    return join(this.runtimeDir, "disks", id);
  }

  /**
   * At start: mounts a previous run of this host left (it was killed) are adopted for the sandboxes
   * that still exist (their next start finds them mounted) and undone for the others. Never a lazy
   * unmount: a second mount of an image whose first is still draining would see stale data.
   */
  async releaseAll(keep: ReadonlySet<string>): Promise<{ unmounted: number; swept: number }> {
    if (this.kind === "direct") return { unmounted: 0, swept: 0 };
    const swept = (await this.pool?.sweep(keep)) ?? 0;
    let released = 0;
    for (const name of await readdir(join(this.runtimeDir, "disks")).catch(() => [] as string[])) {
      if (!keep.has(name) && (await releaseMounts(join(this.runtimeDir, "disks", name)))) released++;
    }
    // Mount points of the layout before `disks/` are undone whoever they belong to (the next start
    // mounts the disk again under `disks/`; one image must never be mounted twice).
    for (const name of await readdir(this.runtimeDir).catch(() => [] as string[])) {
      const dir = join(this.runtimeDir, name);
      if (RUNTIME_ENTRIES.has(name) || !(await stat(dir).catch(() => undefined))?.isDirectory()) continue;
      if (await releaseMounts(dir)) released++;
    }
    return { unmounted: released, swept };
  }
}

/** Unmounts everything at `dir` and removes the mount point; false while something is still mounted there. */
async function releaseMounts(dir: string): Promise<boolean> {
  if (!(await unmountAll(dir))) return false;
  await rm(dir, { recursive: true, force: true }).catch(() => {});
  return true;
}

/** A sandbox's directories on its disk (a subvolume or a mounted image), which `sandboxes/<id>/disk` names. */
async function onDisk(disk: string, sandboxDir: string, identity: Identity | undefined, beforeUse?: BeforeUse): Promise<SandboxDirs> {
  await rm(join(sandboxDir, "disk"), { force: true });
  await symlink(disk, join(sandboxDir, "disk"));
  const dirs = { workspace: join(disk, "workspace"), tmp: join(disk, "tmp") };
  await beforeUse?.(dirs.workspace);
  for (const dir of [dirs.workspace, dirs.tmp]) await ownedDir(dir, identity);
  return dirs;
}

async function plainDirs(sandboxDir: string, identity: Identity | undefined): Promise<SandboxDirs> {
  const dirs = { workspace: join(sandboxDir, "workspace"), tmp: join(sandboxDir, "tmp") };
  for (const dir of [dirs.workspace, dirs.tmp]) await ownedDir(dir, identity);
  return dirs;
}

/** A directory only the sandbox's identity can enter (on a root host; the host's own user elsewhere). */
async function ownedDir(dir: string, identity: Identity | undefined): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (identity) await chown(dir, identity.uid, identity.gid);
  await chmod(dir, 0o700);
}

/**
 * The runtime directories of hosts that died without closing (SIGKILL, a crash): their mounts are
 * undone and the directories removed, by whichever host opens next on this machine. A directory
 * whose note names no live process (pid and start time) is dead; one with no note yet is left alone
 * for a minute (its host may be starting).
 */
async function collectDeadHosts(parent: string, own: string): Promise<void> {
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const dir = join(parent, name);
    if (dir === own || !/^[0-9a-f]{12}$/.test(name)) continue;
    // Checked and removed under the tag's lock: a host restarting over that data directory waits for it.
    await withTagLock(name, false, async () => {
      const note = await readFile(join(dir, "host.json"), "utf8").then(
        (text) => JSON.parse(text) as { pid?: number; start?: string },
        () => undefined,
      );
      if (note?.pid && processStart(note.pid) === note.start) return;
      if (!note && Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? 0) < 60_000) return;
      // Never remove through a mount still in place: it holds a sandbox's files (its image lives on).
      if (await unmountAll(dir)) await rm(dir, { recursive: true, force: true }).catch(() => {});
    });
  }
}
