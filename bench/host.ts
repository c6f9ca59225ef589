/** A Sandgate Node host as a child process, for the benchmarks (which measure it from outside). */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "..");

export interface Host {
  url: string;
  child: ChildProcess;
  /** Everything the host wrote to stderr, for the error report. */
  output: () => string;
}

/** Starts a host on a free port; none of the caller's SANDGATE_* variables leak in, `env` is added. */
export async function startHost(dataDir: string, env: Record<string, string> = {}): Promise<Host> {
  const childEnv: NodeJS.ProcessEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SANDGATE_"))), ...env };
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "service/src/node.ts"), "--port", "0", "--data-dir", dataDir], {
    cwd: REPO,
    env: childEnv,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the host did not start within 30 s:\n${stderr}`));
    }, 30_000);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the host exited (${signal ?? code}) before listening:\n${stderr}`));
    });
  });
  return { url, child, output: () => stderr };
}

/** SIGTERM, then SIGKILL if it has not exited within 8 s. */
export async function stopHost(host: Host): Promise<void> {
  const { child } = host;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 8000);
  await exited;
  clearTimeout(timer);
}
