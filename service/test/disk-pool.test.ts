/**
 * The disk pool of a root host (src/backends/local/disk-pool.ts): restores and creates from a snapshot
 * clone the stored files (seen from the host: the restored file's extents are shared, none its own),
 * a sandbox's writes to a restored file leave the snapshot intact, a deleted sandbox's subvolume goes,
 * and a sandbox cannot make a subvolume of its own (which would escape its quota group).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Attempts } from "./attempts.ts";
import { type TestHost, isRoot, removeDir, startHost, tempDir } from "./host.ts";

const poolHere = isRoot && ["/usr/bin/btrfs", "/usr/sbin/btrfs", "/sbin/btrfs"].some((p) => existsSync(p));
const MIB = 1024 * 1024;
const figures = new Attempts("disk-pool");
let host: TestHost;

async function sh(id: string, command: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const res = await host.json("POST", `/v1/sandboxes/${id}/exec`, { command });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { exitCode: number; stdout: string; stderr: string };
}

/** The sandbox's disk on the host (its subvolume in the pool). */
const volumeOf = (id: string) => realpathSync(join(host.dataDir, "sandboxes", id, "disk"));

/** `btrfs filesystem du` of one file, from the host: its bytes, those no other file shares, and those shared. */
function extentsOf(path: string): { total: number; exclusive: number; shared: number } {
  const rows = execFileSync("btrfs", ["filesystem", "du", "--raw", path], { encoding: "utf8" }).trim().split("\n");
  const [total, exclusive, shared] = rows.at(-1)!.trim().split(/\s+/).map(Number);
  return { total: total!, exclusive: exclusive!, shared: shared! };
}

beforeAll(async () => {
  if (poolHere) host = await startHost({ env: { SANDGATE_DISK_BYTES: String(256 * MIB) } });
});
afterAll(async () => {
  figures.save();
  if (host) {
    await host.stop();
    removeDir(host.dataDir);
  }
});

describe.runIf(poolHere)("the disk pool", () => {
  it("says at start that restores clone, and where the pool and the store are", () => {
    expect(host.logs()).toContain("a btrfs subvolume of this host's pool");
    expect(host.logs()).toMatch(/snapshots: .* in \/run\/sandgate\/[0-9a-f]{12}\/pool\/snapshots; restores and creates from a snapshot clone/);
  });

  it("restores and creates from a snapshot by cloning: the restored file's extents are all shared, and writes to it leave the snapshot as it was", { timeout: 60_000 }, async () => {
    expect((await host.json("POST", "/v1/sandboxes", { id: "dp-a" })).status).toBe(201);
    await sh("dp-a", "head -c 8388608 /dev/urandom > big && sync big");
    const digest = (await sh("dp-a", "sha256sum big")).stdout.split(" ")[0];
    // Control: a file the sandbox wrote itself is all its own on the host (the probe sees exclusive bytes).
    const own = extentsOf(join(volumeOf("dp-a"), "workspace", "big"));
    expect(own.exclusive).toBe(8 * MIB);
    const snap = await host.json("POST", "/v1/sandboxes/dp-a/snapshots", {});
    expect(snap.status, JSON.stringify(snap.body)).toBe(201);
    const snapshotId = (snap.body as { id: string }).id;
    await sh("dp-a", "rm big");
    expect((await host.json("POST", "/v1/sandboxes/dp-a/restore", { snapshotId })).status).toBe(200);
    expect((await host.json("POST", "/v1/sandboxes", { id: "dp-b", fromSnapshot: snapshotId })).status).toBe(201);
    const cloned = [];
    for (const id of ["dp-a", "dp-b"]) {
      expect((await sh(id, "sha256sum big")).stdout.split(" ")[0]).toBe(digest);
      const extents = extentsOf(join(volumeOf(id), "workspace", "big"));
      cloned.push(extents.shared === 8 * MIB && extents.exclusive === 0);
    }
    figures.record("disk pool: restored files whose data was copied", cloned.length, cloned.filter((c) => !c).length, "files (restore, create from snapshot)");
    expect(cloned).toEqual([true, true]);
    // The sandbox rewrites the start of its restored file: only what it wrote becomes its own, and a
    // new sandbox from the snapshot still gets the stored content.
    await sh("dp-a", "head -c 65536 /dev/zero | dd of=big conv=notrunc status=none && sync big");
    expect(extentsOf(join(volumeOf("dp-a"), "workspace", "big")).exclusive).toBe(65536);
    expect((await host.json("POST", "/v1/sandboxes", { id: "dp-c", fromSnapshot: snapshotId })).status).toBe(201);
    expect((await sh("dp-c", "sha256sum big")).stdout.split(" ")[0]).toBe(digest);
  });

  it("removes a deleted sandbox's subvolume", { timeout: 30_000 }, async () => {
    expect((await host.json("POST", "/v1/sandboxes", { id: "dp-gone" })).status).toBe(201);
    await sh("dp-gone", "echo x > f");
    const volume = volumeOf("dp-gone");
    expect(existsSync(volume)).toBe(true); // control: it was there
    expect((await host.call("DELETE", "/v1/sandboxes/dp-gone")).status).toBe(204);
    expect(existsSync(volume)).toBe(false);
    expect(readdirSync(join(volume, ".."))).not.toContain("dp-gone");
  });

  it("refuses a sandbox the ioctls that make a subvolume (it would escape its quota group), the request's upper bits set or not; clones still work", { timeout: 30_000 }, async () => {
    expect((await host.json("POST", "/v1/sandboxes", { id: "dp-sub" })).status).toBe(201);
    const probe = `
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
where = sys.argv[1]
fd = os.open(where, os.O_RDONLY)
for request in (0x5000940e, 0xffffffff5000940e, 0x50009418, 0xdead00005000940e):
    args = bytearray(4096)
    name = b"escape-%x" % (request >> 32)
    offset = 56 if request & 0xff == 0x18 else 8  # vol_args_v2's name, or vol_args'
    args[offset:offset + len(name)] = name
    buffer = ctypes.create_string_buffer(bytes(args), 4096)
    result = libc.syscall(16, fd, ctypes.c_ulong(request), buffer)
    print(hex(request), "made" if result == 0 else errno.errorcode.get(ctypes.get_errno()))
src = os.path.join(where, "src"); dst = os.path.join(where, "dst")
open(src, "wb").write(b"x" * 65536)
s = os.open(src, os.O_RDONLY); d = os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644)
print("clone", "made" if libc.syscall(16, d, ctypes.c_ulong(0x40049409), ctypes.c_ulong(s)) == 0 else errno.errorcode.get(ctypes.get_errno()))
`;
    expect((await host.call("PUT", "/v1/sandboxes/dp-sub/files/content?path=probe.py", probe)).status).toBe(200);
    const inside = (await sh("dp-sub", "python3 probe.py /workspace && ls /workspace")).stdout;
    // Control: the same probe on the host, as an unprivileged user in a directory of the pool, makes
    // subvolumes (the requests are right; only the sandbox's filter stops them).
    const scratch = join(volumeOf("dp-sub"), "..", "..", `control-${process.pid}`);
    mkdirSync(scratch);
    chownSync(scratch, 65534, 65534);
    chmodSync(scratch, 0o755);
    const script = join(tempDir(), "probe.py");
    writeFileSync(script, probe);
    chmodSync(join(script, ".."), 0o755);
    chmodSync(script, 0o644);
    let outside: string;
    try {
      outside = execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", script, scratch], { encoding: "utf8" });
    } finally {
      for (const name of readdirSync(scratch).filter((n) => n.startsWith("escape"))) execFileSync("btrfs", ["subvolume", "delete", join(scratch, name)], { stdio: "ignore" });
      removeDir(scratch);
    }
    expect(outside).toContain("0x5000940e made");
    const lines = inside.trim().split("\n");
    const made = lines.filter((line) => line.startsWith("0x") && !line.endsWith("EPERM"));
    figures.record("disk pool: subvolumes a sandbox made", 4, made.length, "ioctl requests (SUBVOL_CREATE, its upper bits set twice, SUBVOL_CREATE_V2)");
    expect(made, inside).toEqual([]);
    expect(lines).toContain("clone made"); // control: the probe ran, and clones are allowed
    expect(inside).not.toContain("escape");
    const subvolumes = execFileSync("btrfs", ["subvolume", "list", join(volumeOf("dp-sub"), "..", "..")], { encoding: "utf8" });
    expect(subvolumes).not.toContain("escape");
  });
});
