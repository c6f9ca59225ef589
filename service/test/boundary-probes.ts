/**
 * Helpers the boundary suites share: what a host's side looks like (its processes, descriptors,
 * what another host user can open), and commands run as an unprivileged host user.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { TestHost } from "./host.ts";

export const NOBODY = 65534;

/** Runs `argv` on the host as user nobody (no groups, no capabilities): its status and output. */
export function asNobody(argv: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const res = spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", "--", ...argv], { encoding: "utf8", input, timeout: 20_000 });
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** Host processes below `pid`, with command name and real/effective uids (from /proc/<pid>/status). */
export function hostTree(pid: number): { pid: number; comm: string; uids: number[] }[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone
    }
  }
  const below = new Set<number>([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parents) if (below.has(parent) && !below.has(child)) (below.add(child), (grew = true));
  }
  below.delete(pid);
  return [...below].flatMap((p) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      const comm = /^Name:\s+(.*)$/m.exec(status)![1]!;
      const uids = /^Uid:\s+(.*)$/m.exec(status)![1]!.trim().split(/\s+/).map(Number);
      return [{ pid: p, comm, uids }];
    } catch {
      return [];
    }
  });
}

/** The host uid a sandbox was given (its directory's `identity`). */
export function identityOf(host: TestHost, id: string): number {
  return Number(readFileSync(join(host.dataDir, "sandboxes", id, "identity"), "utf8"));
}

/** The host process's descriptors, split into sockets and everything else (pipes, files, ...). */
export function hostFds(host: TestHost): { sockets: number; other: number; targets: string[] } {
  const targets: string[] = [];
  for (const fd of readdirSync(`/proc/${host.pid}/fd`)) {
    try {
      targets.push(readlinkSync(`/proc/${host.pid}/fd/${fd}`));
    } catch {
      // closed while listed
    }
  }
  const sockets = targets.filter((t) => t.startsWith("socket:")).length;
  return { sockets, other: targets.length - sockets, targets };
}

/** Every path below `dir` (not following links), `dir` included. */
export function walk(dir: string): string[] {
  const out = [dir];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

/**
 * Which of `paths` user nobody can open for reading (directories: list), tried by one Python
 * process running as nobody. Also returns how many it tried, and whether the control (a world-
 * readable file of the host) opened, so that "nothing opened" means something.
 */
export function openableByNobody(paths: string[]): { opened: string[]; tried: number; control: boolean } {
  const script = [
    "import os, sys, json",
    "paths = json.load(sys.stdin)",
    "opened = []",
    "for p in paths:",
    "    try:",
    "        if os.path.isdir(p): os.listdir(p)",
    "        else: open(p, 'rb').read(1)",
    "        opened.append(p)",
    "    except OSError: pass",
    "ctl = True",
    "try: open('/etc/passwd', 'rb').read(1)",
    "except OSError: ctl = False",
    "print(json.dumps({'opened': opened, 'tried': len(paths), 'control': ctl, 'uid': os.getuid()}))",
  ].join("\n");
  const res = asNobody(["/usr/bin/python3", "-c", script], JSON.stringify(paths));
  if (res.status !== 0) throw new Error(`probe as nobody failed: ${res.stderr}`);
  const out = JSON.parse(res.stdout) as { opened: string[]; tried: number; control: boolean; uid: number };
  if (out.uid !== NOBODY) throw new Error(`probe ran as ${out.uid}, not nobody`);
  return out;
}

/** A host sysctl's value now. */
export function hostValue(path: string): string {
  return readFileSync(path, "utf8");
}

export function commandExists(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
