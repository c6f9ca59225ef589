import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

/** Runs a host tool (mount, umount, mkfs, btrfs) and fails with its stderr. */
export const run = promisify(execFile);

async function mountPoints(): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  return text
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountPoints()).includes(path);
}

/**
 * Unmounts everything at or below `dir`, deepest first, retrying while busy (a killed environment's
 * processes take a moment to go); true once nothing is mounted there any more.
 */
export async function unmountAll(dir: string): Promise<boolean> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const mounts = (await mountPoints()).filter((m) => m === dir || m.startsWith(`${dir}/`));
    if (mounts.length === 0) return true;
    for (const mount of mounts.reverse()) await run("umount", [mount]).catch(() => {});
    if (Date.now() > deadline) return (await mountPoints()).every((m) => m !== dir && !m.startsWith(`${dir}/`));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
