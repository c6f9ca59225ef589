import { type ChildProcess, spawn } from "node:child_process";

/**
 * One /bin/sh forked ahead of time, waiting for a script on its stdin.
 *
 * fork() is the dearest step of starting a command from this process: it copies the page tables of
 * a Node host (a web framework, schemas, a TypeScript loader: ~3 ms here, growing with its memory)
 * and blocks the event loop while it does. The wrapper shell that every sandboxed command starts as
 * (Isolation) does not need to know the command before it runs, only before it execs bubblewrap: so
 * one is forked when the previous one is taken, and a command costs a write to a waiting shell. The
 * script it then reads (Isolation.script) applies the same limits, joins the same cgroups and execs the
 * same bubblewrap command line as the cold path (Isolation.commandLine).
 *
 * A shell left unused for IDLE_MS is ended: an idle host keeps no process around (and only the first
 * command after a pause pays for a fork). It has an empty environment, and its stdin is the only input
 * it reads; if this process dies, that stdin closes and the shell exits without running anything.
 */
export class Prefork {
  private shell: ChildProcess | undefined;
  private idle: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly idleMs = IDLE_MS) {}

  /** The waiting shell, if there is one alive; another is forked for next time either way. */
  take(): ChildProcess | undefined {
    const shell = this.shell;
    this.shell = undefined;
    clearTimeout(this.idle);
    if (!this.closed) setImmediate(() => this.fork());
    if (!shell || shell.exitCode !== null || shell.signalCode !== null) return undefined;
    holdOpen(shell, true);
    return shell;
  }

  /** Ends the waiting shell, and forks no more. */
  close(): void {
    this.closed = true;
    this.discard();
  }

  private fork(): void {
    if (this.shell || this.closed) return;
    let shell: ChildProcess;
    try {
      shell = spawn("/bin/sh", [], { env: {}, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    } catch {
      return; // the next command spawns cold; the one after tries again
    }
    shell.once("error", () => {
      if (this.shell === shell) this.shell = undefined;
    });
    if (shell.pid === undefined) return;
    shell.stdin!.on("error", () => {}); // a shell that died before reading its script: its close says so
    shell.once("exit", () => {
      if (this.shell === shell) this.shell = undefined;
    });
    // Waiting, it keeps nothing alive: not this process, and not past IDLE_MS.
    holdOpen(shell, false);
    this.shell = shell;
    this.idle = setTimeout(() => this.discard(), this.idleMs);
    this.idle.unref();
  }

  private discard(): void {
    clearTimeout(this.idle);
    const shell = this.shell;
    this.shell = undefined;
    if (!shell) return;
    shell.stdin?.destroy(); // end of its script: it exits
    try {
      process.kill(-shell.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Whether the shell and its pipes keep this process alive (they do once they run a command). */
function holdOpen(shell: ChildProcess, hold: boolean): void {
  for (const handle of [shell, shell.stdin, shell.stdout, shell.stderr] as ({ ref(): unknown; unref(): unknown } | null)[]) {
    if (hold) handle?.ref();
    else handle?.unref();
  }
}

/** How long a forked shell waits for a command before it is ended. */
const IDLE_MS = 2000;
