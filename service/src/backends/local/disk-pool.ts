import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, rename, statfs } from "node:fs/promises";
import { join } from "node:path";
import { isMountPoint, run, unmountAll } from "./mounts.ts";

const MKFS = ["/usr/sbin/mkfs.btrfs", "/sbin/mkfs.btrfs", "/usr/bin/mkfs.btrfs"];
const BTRFS = ["/usr/bin/btrfs", "/usr/sbin/btrfs", "/sbin/btrfs", "/bin/btrfs"];
/** The smallest pool made (btrfs needs room for its own metadata; the image is sparse in any case). */
const MIN_POOL_BYTES = 16 * 1024 ** 3;
const VOLUME_NAME = /^[A-Za-z0-9_-]+$/;
/**
 * Held back from each quota group's limit: btrfs counts some of a subvolume's metadata after the
 * writes that made it (measured: 0.7 MiB past a 56 MiB limit filled by dd), so the limit sits below
 * the quota by this much and the disk stays within it.
 */
const METADATA_SLACK = 4 * 1024 * 1024;

/**
 * The disk pool of a root host with btrfs-progs: one sparse btrfs image for the data directory
 * (`pool.img`, as large as the host's filesystem, loop-mounted nosuid,nodev at `<runtime dir>/pool`)
 * holding each sandbox's disk as a subvolume (`sandboxes/<id>`, its workspace and tmp, limited by the
 * subvolume's quota group) and the snapshot store (`snapshots`). Stored files and workspaces share
 * one filesystem, so the copies of a restore are reflinks (copy_file_range clones on btrfs): no file
 * data is copied, and a sandbox's later writes copy only what they change.
 *
 * A subvolume a sandbox made itself would have a quota group of its own, outside its limit: the
 * agent's seccomp filter refuses the ioctls that make them (service/agent/seccomp.go).
 */
export class DiskPool {
  private constructor(
    readonly mountPoint: string,
    private readonly btrfs: string,
  ) {}

  /** The pool's tools, when this machine has them. */
  static tools(): { mkfs: string; btrfs: string } | undefined {
    const mkfs = MKFS.find((p) => existsSync(p));
    const btrfs = BTRFS.find((p) => existsSync(p));
    return mkfs && btrfs ? { mkfs, btrfs } : undefined;
  }

  /** Makes the pool the first time, and mounts it (a previous run's mount, left by a kill, is adopted). */
  static async open(dataDir: string, runtimeDir: string, tools: { mkfs: string; btrfs: string }): Promise<DiskPool> {
    const image = join(dataDir, "pool.img");
    if (!existsSync(image)) {
      const temp = `${image}.new`;
      const host = await statfs(dataDir);
      await run("truncate", ["-s", String(Math.max(MIN_POOL_BYTES, host.blocks * host.bsize)), temp]);
      await chmod(temp, 0o600); // every sandbox's files: readable by no other host user
      await run(tools.mkfs, ["-q", "-f", temp]);
      await rename(temp, image);
    }
    const mountPoint = join(runtimeDir, "pool");
    await mkdir(mountPoint, { recursive: true, mode: 0o711 });
    // discard: space a sandbox frees goes back to the host's disk (the image stays sparse).
    if (!(await isMountPoint(mountPoint))) await run("mount", ["-o", "loop,nosuid,nodev,noatime,discard=async", image, mountPoint]);
    await chmod(mountPoint, 0o711);
    await run(tools.btrfs, ["quota", "enable", mountPoint]);
    await mkdir(join(mountPoint, "sandboxes"), { recursive: true, mode: 0o711 });
    await chmod(join(mountPoint, "sandboxes"), 0o711);
    return new DiskPool(mountPoint, tools.btrfs);
  }

  /** Where the snapshot store lives, beside the sandboxes' disks (reflinks do not cross filesystems). */
  get snapshotDir(): string {
    return join(this.mountPoint, "snapshots");
  }

  volume(id: string): string {
    if (!VOLUME_NAME.test(id)) throw new Error(`not a sandbox id: ${id}`);
    return join(this.mountPoint, "sandboxes", id);
  }

  /** The sandbox's subvolume; made the first time, its limit set before it gets its name (`limitBytes` ≥ 16 MiB: disk.ts). */
  async ensureVolume(id: string, limitBytes: number): Promise<string> {
    const volume = this.volume(id);
    if (existsSync(volume)) return volume;
    const temp = `${volume}.new`;
    if (existsSync(temp)) await this.deleteVolume(temp);
    await run(this.btrfs, ["subvolume", "create", temp]);
    await run(this.btrfs, ["qgroup", "limit", String(limitBytes - METADATA_SLACK), temp]);
    await chmod(temp, 0o711);
    await rename(temp, volume);
    return volume;
  }

  /**
   * The sandbox's disk goes (its quota group with it, once the kernel has dropped the subvolume).
   * One that cannot go now is left to the next start's sweep: the sandbox is already deleted.
   */
  async destroy(id: string): Promise<void> {
    const volume = this.volume(id);
    if (existsSync(volume)) await this.deleteVolume(volume);
  }

  /** Subvolumes of sandboxes that are gone (a host killed between a delete's steps) and half-made ones. */
  async sweep(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const name of await readdir(join(this.mountPoint, "sandboxes"))) {
      if (!keep.has(name) && (await this.deleteVolume(join(this.mountPoint, "sandboxes", name)))) removed++;
    }
    return removed;
  }

  /** Unmounted when the host closes (retried while busy; a mount left is adopted by the next start). */
  async close(): Promise<void> {
    await unmountAll(this.mountPoint);
  }

  /**
   * The subvolume ioctl drops the whole tree at once: nothing walks a tree the sandbox wrote (never a
   * recursive remove as root). False when it failed; whatever is left is tried again at the next start.
   */
  private async deleteVolume(path: string): Promise<boolean> {
    return run(this.btrfs, ["subvolume", "delete", path]).then(
      () => true,
      () => false,
    );
  }
}
