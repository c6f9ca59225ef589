/** Starts real Node hosts (a child process each, real bubblewrap sandboxes) for the tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const serviceDir = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface TestHost {
  url: string;
  pid: number;
  dataDir: string;
  /** Everything the host printed, for assertions on logs. */
  logs(): string;
  /** Calls the REST API with the host's token (if any) and JSON bodies. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Resident memory of the host process, in bytes. */
  rss(): number;
}

export interface HostOptions {
  token?: string;
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  /** A command the host runs under (e.g. setpriv to another user); it must exec the host. */
  wrapper?: string[];
  /**
   * Give the host this file open at fd 40 without close-on-exec, as a host-side library might hold one.
   * (Node marks the low descriptors it inherits close-on-exec at startup, so a pipe at fd 3 would not do.)
   */
  inheritedFile?: string;
}

/** Every directory tempDir made in this test file; test/cleanup.ts removes them after the file's tests. */
const madeDirs = new Set<string>();

/** A fresh directory under the system's temp dir, removed after the test file (see removeTempDirs). */
export function tempDir(prefix = "sandgate-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.add(dir);
  return dir;
}

/**
 * Removes what tempDir made (a host's data dir among them), so a run leaves no /tmp/sandgate-test-*
 * behind. Runs after every afterAll of the file, when its hosts have stopped; a directory a live host
 * still holds (a mount) is left and named.
 */
export function removeTempDirs(): void {
  for (const dir of madeDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
      madeDirs.delete(dir);
    } catch (err) {
      console.warn(`could not remove ${dir}: ${(err as Error).message}`);
    }
  }
}

/** Spawns `node src/node.ts` and resolves with its URL once it listens; rejects with its output if it exits. */
export async function startHost(options: HostOptions = {}): Promise<TestHost> {
  const dataDir = options.dataDir ?? tempDir();
  const command = [process.execPath, "--import", "tsx", "src/node.ts", "--port", "0", "--data-dir", dataDir, ...(options.args ?? [])];
  const opensFile = options.inheritedFile ? ["bash", "-c", 'exec 40<"$0"; exec "$@"', options.inheritedFile] : [];
  const argv = [...(options.wrapper ?? []), ...opensFile, ...command];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: serviceDir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...(options.token ? { SANDGATE_TOKEN: options.token } : {}), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start:\n${output}`)), 30_000);
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code}:\n${output}`));
    });
  });
  return hostHandle(child, url, dataDir, options.token, () => output);
}

function hostHandle(child: ChildProcess, url: string, dataDir: string, token: string | undefined, logs: () => string): TestHost {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const isJson = body !== undefined && !(body instanceof Uint8Array) && typeof body !== "string" && !(body instanceof ReadableStream);
    return fetch(url + path, {
      method,
      headers: { ...auth, ...(isJson ? { "content-type": "application/json" } : {}), ...headers },
      body: isJson ? JSON.stringify(body) : (body as BodyInit | undefined),
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
  };
  return {
    url,
    pid: child.pid!,
    dataDir,
    logs,
    call,
    async json(method, path, body) {
      const res = await call(method, path, body);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
    },
  };
}

/** Pids of every live descendant of `pid` (walks /proc), leaving out tsx's esbuild service. */
/**
 * The processes `pid` started that are still alive: commands and what they started. The sandboxes'
 * environments themselves (bubblewrap and the agent inside, which live as long as their sandbox)
 * are not counted, but whatever runs below them is.
 */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  const environment = new Set<number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (stat.includes("(esbuild)")) continue;
      if (stat.includes("(bwrap)") || stat.includes("(agent)") || stat.includes("(sandgate-agent)")) environment.add(Number(name));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) for (const c of children.get(todo.pop()!) ?? []) (out.push(c), todo.push(c));
  return out.filter((p) => !environment.has(p));
}

export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}

/** Whether these tests run as root: cgroups, namespaces and per-sandbox identities need it. */
export const isRoot = process.getuid?.() === 0;

/**
 * The cgroup model ("v1" or "v2") a host says (when it listens) limits its sandboxes' memory and
 * processes, or undefined when it runs without cgroups.
 */
export function cgroupModelOf(host: TestHost): string | undefined {
  return /listening on .*cgroup (v[12])/.exec(host.logs())?.[1];
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export { readEvents } from "./sse.ts";

/** Credentials that must all be refused with a bare 401, for a host whose API token is `token`. */
export function badCredentials(token: string): [string, Record<string, string>][] {
  return [
    ["no token", {}],
    ["wrong bearer", { authorization: "Bearer nope" }],
    ["empty bearer", { authorization: "Bearer " }],
    ["malformed authorization", { authorization: token }],
    ["basic scheme", { authorization: `Basic ${token}` }],
    ["wrong header token", { "x-sandgate-token": "nope" }],
    ["empty header token", { "x-sandgate-token": "" }],
    ["token prefix", { authorization: `Bearer ${token.slice(0, -1)}` }],
  ];
}

/**
 * The host directory that is /workspace for sandbox `id`: on its own disk (`disk/workspace`, mounted
 * while its environment runs) where the host gives sandboxes disk quotas, else `workspace`.
 */
export function workspaceOnHost(dataDir: string, id: string): string {
  const dir = join(realpathSync(dataDir), "sandboxes", id);
  return existsSync(join(dir, "workspace")) ? join(dir, "workspace") : join(dir, "disk", "workspace");
}
