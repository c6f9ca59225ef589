/**
 * The machine-wide lock per host tag (network/machine.ts withTagLock): a host restarting over a data
 * directory notes itself under it, and a host collecting a dead tag's leftovers checks and removes
 * them under it, so a collector that read the killed predecessor's note never removes what the
 * restarted host has made since (the crash test met that: "bwrap: Can't find source path
 * /run/sandgate/<tag>/etc/passwd").
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SandboxStorage } from "../src/backends/local/disk.ts";
import { RUN_DIR, hostTag, processStart, withTagLock } from "../src/backends/local/network/machine.ts";
import { eventually, isRoot, tempDir } from "./host.ts";

const fakeTag = () => randomBytes(6).toString("hex");

/** A pid and start time of a process that has ended: a holder or host that died. */
async function deadProcess(): Promise<{ pid: number; start: string }> {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  await new Promise((resolve) => child.once("spawn", resolve));
  const start = processStart(child.pid!)!;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  return { pid: child.pid!, start };
}

describe.skipIf(!isRoot)("the host tag lock (root: it lives under /run/sandgate)", () => {
  it("is exclusive: a collector gives up while it is held, a starting host waits for it", async () => {
    const tag = fakeTag();
    let ranInside = false;
    let waited = false;
    let release: (() => void) | undefined;
    const held = withTagLock(tag, true, () => new Promise<void>((resolve) => (release = resolve)));
    await eventually(() => release !== undefined); // the holder is inside
    expect(await withTagLock(tag, false, async () => (ranInside = true))).toBeUndefined();
    expect(ranInside).toBe(false);
    const waiter = withTagLock(tag, true, async () => (waited = true));
    // A few of its 20 ms retries pass; it cannot get in while the lock is held.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(waited).toBe(false);
    release!();
    await held;
    expect(await waiter).toBe(true);
    // Released: a collector takes it now (positive control for the refusal above).
    expect(await withTagLock(tag, false, async () => "ran")).toBe("ran");
    expect(existsSync(join(RUN_DIR, "locks", tag))).toBe(false);
  });

  it("is taken over from a holder that died", async () => {
    const tag = fakeTag();
    const dead = await deadProcess();
    mkdirSync(join(RUN_DIR, "locks"), { recursive: true });
    writeFileSync(join(RUN_DIR, "locks", tag), JSON.stringify({ ...dead, nonce: "x" }));
    expect(await withTagLock(tag, false, async () => "ran")).toBe("ran");
    expect(existsSync(join(RUN_DIR, "locks", tag))).toBe(false);
  });

  it("keeps a collector from removing a dead host's runtime directory while the tag is locked (its successor noting itself)", async () => {
    const tag = fakeTag();
    const dir = join(RUN_DIR, tag);
    const dead = await deadProcess();
    mkdirSync(join(dir, "etc"), { recursive: true });
    writeFileSync(join(dir, "host.json"), JSON.stringify({ ...dead, dataDir: "/nowhere" }));
    const other = tempDir();
    try {
      // Locked (as a host restarting over that data directory holds it): the collector leaves it.
      await withTagLock(tag, true, async () => {
        await SandboxStorage.open(other, 1 << 30, 1 << 27, true, "image");
        expect(existsSync(join(dir, "etc"))).toBe(true);
      });
      // Unlocked, with the note still naming the dead host: collected (positive control).
      await SandboxStorage.open(other, 1 << 30, 1 << 27, true, "image");
      expect(existsSync(dir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(join(RUN_DIR, hostTag(other)), { recursive: true, force: true });
    }
  });
});
