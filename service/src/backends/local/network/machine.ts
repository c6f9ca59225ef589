import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { VETH_PREFIX } from "./addresses.ts";

/** What a Sandgate host shares with the others on one machine: tools, notes under /run, forwarding. */
export const TOOLS = { ip: findTool("ip"), nft: findTool("nft"), nsenter: findTool("nsenter") };

export function findTool(name: string): string {
  for (const dir of ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) if (existsSync(join(dir, name))) return join(dir, name);
  return `/usr/sbin/${name}`;
}

/** The 12 hex digits that name everything of one data directory's host on this machine (as cgroups.ts does). */
export function hostTag(dataDir: string): string {
  return createHash("sha256").update(dataDir).digest("hex").slice(0, 12);
}

export const NETNS_DIR = "/run/netns";
/** Machine-wide notes shared by the Sandgate hosts of this machine (the forwarding setting found at first use). */
export const RUN_DIR = "/run/sandgate";
export const FORWARD_SYSCTL = "/proc/sys/net/ipv4/ip_forward";
/**
 * Every host with namespaces notes itself in /run/sandgate/hosts/<tag> (its pid, the pid's start
 * time and its data directory) before it makes anything, and removes the note last when it closes.
 * Anything named for a tag with no live host behind it was left by a host that died (SIGKILL, a
 * crash, a test that never restarted it): the next host to open on the machine removes it.
 */
export const HOSTS_DIR = join(RUN_DIR, "hosts");

export async function registerHost(tag: string, dataDir: string): Promise<void> {
  await mkdir(HOSTS_DIR, { recursive: true });
  await withTagLock(tag, true, () => writeAtomic(join(HOSTS_DIR, tag), JSON.stringify({ pid: process.pid, start: processStart(process.pid), dataDir })));
}

const LOCKS_DIR = join(RUN_DIR, "locks");

/**
 * Runs `work` holding the machine-wide lock of host tag `tag` (a file made with O_EXCL that names its
 * holder). A host starting over a data directory notes itself under it, and a host collecting a dead
 * tag's leftovers checks that the tag is still dead and removes them under it: so a collector that
 * read the note of a killed host never removes what the host restarted over the same data directory
 * has noted and adopted since. `wait`: a starting host waits for the lock; a collector gives up at
 * once (answers undefined: another process is on it). A lock whose holder died is taken over.
 */
export async function withTagLock<T>(tag: string, wait: boolean, work: () => Promise<T>): Promise<T | undefined> {
  await mkdir(LOCKS_DIR, { recursive: true, mode: 0o700 });
  const path = join(LOCKS_DIR, tag);
  const me = JSON.stringify({ pid: process.pid, start: processStart(process.pid), nonce: randomBytes(6).toString("hex") });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const taken = await writeFile(path, me, { flag: "wx", mode: 0o600 }).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === "EEXIST") return false;
        throw err;
      },
    );
    if (taken) break;
    const text = await readFile(path, "utf8").catch(() => undefined);
    const holder = parseHolder(text);
    // An empty or torn note is a holder still writing it: held.
    if (holder && processStart(holder.pid) !== holder.start) {
      if ((await readFile(path, "utf8").catch(() => undefined)) === text) await rm(path, { force: true });
      continue;
    }
    if (text === undefined) continue; // released meanwhile
    if (!wait) return undefined;
    if (Date.now() > deadline) throw new Error(`the machine-wide lock ${path} stayed held for a minute`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  try {
    return await work();
  } finally {
    if ((await readFile(path, "utf8").catch(() => undefined)) === me) await rm(path, { force: true });
  }
}

function parseHolder(text: string | undefined): { pid: number; start: string | undefined } | undefined {
  try {
    const holder = JSON.parse(text ?? "") as { pid?: unknown; start?: unknown };
    return typeof holder.pid === "number" ? { pid: holder.pid, start: typeof holder.start === "string" ? holder.start : undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** A process's start time (clock ticks after boot, /proc/<pid>/stat field 22): a pid plus this names one process. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export async function hostAlive(tag: string): Promise<boolean> {
  const note = await readFile(join(HOSTS_DIR, tag), "utf8").then(
    (text) => JSON.parse(text) as { pid?: number; start?: string },
    () => undefined,
  );
  if (!note?.pid) return false;
  return processStart(note.pid) === note.start;
}

/** Removes the objects of every other host tag on the machine whose host is gone; returns how many hosts. */
export async function collectDeadHosts(ownTag: string): Promise<number> {
  const tags = new Set<string>();
  for (const name of await readdir(HOSTS_DIR).catch(() => [])) if (/^[0-9a-f]{12}$/.test(name)) tags.add(name);
  for (const name of await readdir(NETNS_DIR).catch(() => [])) tags.add(/^sandgate-([0-9a-f]{12})-/.exec(name)?.[1] ?? ownTag);
  const tables = await run(TOOLS.nft, ["list", "tables"]).catch(() => "");
  for (const match of tables.matchAll(/table inet sandgate_([0-9a-f]{12})/g)) tags.add(match[1]!);
  tags.delete(ownTag);
  let dead = 0;
  for (const tag of tags) {
    // Checked and removed under the tag's lock: a host restarting over that data directory meanwhile keeps its own.
    const removed = await withTagLock(tag, false, async () => {
      if (await hostAlive(tag)) return false;
      await removeHostObjects(tag);
      await run(TOOLS.nft, ["delete", "table", "inet", `sandgate_${tag}`]).catch(() => {});
      await rm(join(HOSTS_DIR, tag), { force: true });
      return true;
    });
    if (removed) dead++;
  }
  return dead;
}

/** Removes the links (known by their alias) and namespaces named for host `tag`; returns how many. */
export async function removeHostObjects(tag: string): Promise<number> {
  const lines: string[] = [];
  for (const name of await readdir("/sys/class/net").catch(() => [])) {
    if (!name.startsWith(VETH_PREFIX)) continue;
    const alias = await readFile(`/sys/class/net/${name}/ifalias`, "utf8").catch(() => "");
    if (alias.startsWith(`sandgate-${tag}:`)) lines.push(`link delete dev ${name}`);
  }
  // A namespace's own end of a link goes with it, once no process is left inside.
  for (const name of await readdir(NETNS_DIR).catch(() => [])) if (name.startsWith(`sandgate-${tag}-`)) lines.push(`netns delete ${name}`);
  if (lines.length > 0) await run(TOOLS.ip, ["-force", "-batch", "-"], lines.join("\n")).catch(() => {});
  return lines.length;
}

/** Switches IPv4 forwarding on; true when it was off, noted (once, machine-wide) so the last host can switch it back. */
export async function enableForwarding(): Promise<boolean> {
  const current = (await readFile(FORWARD_SYSCTL, "utf8")).trim();
  await mkdir(RUN_DIR, { recursive: true });
  const note = join(RUN_DIR, "ip_forward.orig");
  if (current !== "1") {
    await writeFile(note, current, { flag: "wx" }).catch(() => {}); // another host may have noted it first
    await writeFile(FORWARD_SYSCTL, "1");
  }
  const original = await readFile(note, "utf8").catch(() => undefined);
  return original !== undefined && original.trim() !== "1";
}

/** Puts IPv4 forwarding back as it was found, once no Sandgate table or link is left on the machine. */
export async function restoreForwarding(): Promise<void> {
  const note = join(RUN_DIR, "ip_forward.orig");
  const original = await readFile(note, "utf8").catch(() => undefined);
  if (original === undefined) return;
  const tables = await run(TOOLS.nft, ["list", "tables"]).catch(() => "table inet sandgate_?");
  if (/table inet sandgate_/.test(tables)) return;
  const links = await readdir("/sys/class/net").catch(() => []);
  if (links.some((name) => name.startsWith(VETH_PREFIX))) return;
  await writeFile(FORWARD_SYSCTL, original.trim());
  await rm(note, { force: true });
}

export async function writeAtomic(path: string, text: string, mode?: number): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text, mode === undefined ? undefined : { mode });
  await rename(temp, path);
}

/** Runs a tool with `input` on its stdin; resolves with its stdout, rejects with its stderr. */
export function run(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C" }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${file.split("/").pop()} ${args.join(" ")}: ${err.trim() || `exit ${code}`}`));
    });
  });
}

