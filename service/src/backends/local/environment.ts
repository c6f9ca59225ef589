import { type ChildProcess, spawn } from "node:child_process";
import type { Writable } from "node:stream";
import { readFileSync } from "node:fs";
import { SandgateError } from "../../core/errors.ts";
import { AgentConnection } from "./agent.ts";
import type { CommandLine } from "./isolation.ts";

/** How long the agent may take to report ready after the environment is spawned. */
const READY_TIMEOUT_MS = 15_000;
/** How long a stopped environment may take to be gone before it is reported as stuck. */
const STOP_TIMEOUT_MS = 5_000;

export interface EnvironmentHooks {
  /** Everything that must exist before the environment starts (disk, cgroups, network); returns its command line. */
  prepare(): Promise<CommandLine>;
  /** After the environment is gone: what prepare made that must not outlive it (a mounted disk). */
  release(): Promise<void>;
  log(message: string): void;
}

/**
 * One sandbox's long-lived isolated environment on this machine: its namespaces, cgroup and limits,
 * held by bubblewrap with the sandbox's agent inside, started on first use and kept while the
 * sandbox lives (or until it has been idle for a while). Every command, background process and
 * file operation of the sandbox runs in it, through the agent.
 */
export class Environment {
  private child: ChildProcess | undefined;
  private connection: AgentConnection | undefined;
  private starting: Promise<AgentConnection> | undefined;
  private exited: Promise<void> | undefined;
  private stopped = false;
  /** An environment whose exit keeps what prepare made (a restart: the disk stays mounted for the next start). */
  private keepPreparedFor: ChildProcess | undefined;
  /** Requests and commands in flight; the environment is idle when none are. */
  private busy = 0;
  private lastUsed = Date.now();

  constructor(
    readonly sandboxId: string,
    private readonly hooks: EnvironmentHooks,
  ) {}

  /** The host pid of the environment (bubblewrap), while it runs. */
  get pid(): number | undefined {
    return this.connection && !this.connection.closed ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.connection !== undefined && !this.connection.closed;
  }

  idleFor(now = Date.now()): number {
    return this.busy > 0 ? 0 : now - this.lastUsed;
  }

  /** Marks the environment in use until the returned function is called. */
  hold(): () => void {
    this.busy++;
    this.lastUsed = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.busy--;
      this.lastUsed = Date.now();
    };
  }

  /** The agent, starting the environment first if it is not running. */
  agent(): Promise<AgentConnection> {
    if (this.stopped) return Promise.reject(new SandgateError("not_found", `sandbox '${this.sandboxId}' is being deleted`));
    this.lastUsed = Date.now();
    if (this.connection && !this.connection.closed) return Promise.resolve(this.connection);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(): Promise<AgentConnection> {
    if (this.exited) await this.exited; // a previous environment is still going away
    const command = await this.hooks.prepare();
    if (this.stopped) throw new SandgateError("not_found", `sandbox '${this.sandboxId}' is being deleted`);
    // cwd "/": the shell exports its working directory (PWD), which PID 1 inside would show.
    const child = spawn(command.file, command.args, { env: command.env, cwd: "/", detached: true, stdio: ["pipe", "pipe", "pipe", command.argsOnFd3 ? "pipe" : "ignore"] });
    if (command.argsOnFd3) {
      const fd3 = child.stdio[3] as Writable;
      fd3.on("error", () => {}); // a program that exits before reading: its exit is reported below
      fd3.end(command.argsOnFd3.map((arg) => `${arg}\0`).join(""));
    }
    this.child = child;
    const connection = new AgentConnection(child);
    let stderr = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => {
      if (stderr.length < 4096) stderr += text;
    });
    this.exited = new Promise<void>((resolve) => {
      child.once("error", (err) => {
        connection.close(new SandgateError("sandbox_unavailable", `could not start the sandbox: ${err.message}`));
        resolve();
      });
      child.once("exit", () => {
        // The environment ended (stopped, or everything in it died): every stream fails with it.
        connection.close(new SandgateError("sandbox_unavailable", this.stopped ? `sandbox '${this.sandboxId}' was deleted` : `the sandbox's environment ended${stderr ? `: ${stderr.trim().slice(0, 500)}` : ""}`));
        resolve();
      });
    }).then(async () => {
      if (this.keepPreparedFor === child) {
        this.keepPreparedFor = undefined;
        return;
      }
      await this.hooks.release().catch((err: Error) => this.hooks.log(`releasing the environment of '${this.sandboxId}' failed: ${err.message}`));
    });
    const timer = setTimeout(() => {
      connection.close(new SandgateError("sandbox_unavailable", `the sandbox's environment did not start in ${READY_TIMEOUT_MS} ms`));
      kill(child);
    }, READY_TIMEOUT_MS);
    try {
      await connection.ready;
    } catch (err) {
      kill(child);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    connection.hostPid = process.getuid?.() === 0 ? agentOnHost(child.pid) : undefined;
    this.connection = connection;
    return connection;
  }

  /**
   * Ends the environment and everything in it (SIGKILL to bubblewrap's process group: the PID
   * namespace goes with its init), then releases what it held. `final`: no new start follows.
   * `restart`: a start follows at once, so what prepare made (a mounted disk) is kept for it (an
   * unmount would write back all the disk's dirty pages, only for the start to mount it again).
   */
  async stop(final: boolean, restart = false): Promise<void> {
    if (final) this.stopped = true;
    await this.starting?.catch(() => {});
    const child = this.child;
    if (child) {
      if (restart && !final) this.keepPreparedFor = child;
      kill(child);
    }
    const exited = this.exited;
    if (!exited) return;
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (!gone) {
      // Stuck past SIGKILL (a process in uninterruptible sleep): its streams end now all the same, so
      // that nothing waiting on them (a delete, the reaper, a reader) waits on the kernel.
      this.hooks.log(`the environment of sandbox '${this.sandboxId}' did not end within ${STOP_TIMEOUT_MS} ms of SIGKILL`);
      this.connection?.close(new SandgateError("sandbox_unavailable", `sandbox '${this.sandboxId}' was ${final ? "deleted" : "stopped"}`));
    }
    this.connection = undefined;
  }
}

/** The agent's host pid: the process named `agent` below the environment's bubblewrap. */
function agentOnHost(root: number | undefined): number | undefined {
  const queue = root === undefined ? [] : [root];
  for (let steps = 0; queue.length > 0 && steps < 16; steps++) {
    const pid = queue.shift()!;
    let children: number[];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      continue;
    }
    for (const child of children) {
      try {
        if (readFileSync(`/proc/${child}/comm`, "utf8").trim() === "agent") return child;
      } catch {
        // gone
      }
      queue.push(child);
    }
  }
  return undefined;
}

function kill(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}
