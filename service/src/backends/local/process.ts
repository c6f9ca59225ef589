import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import { SandgateError } from "../../core/errors.ts";
import type { CommandLine } from "./isolation.ts";

export interface Launch {
  command: CommandLine;
  /** Host working directory for the spawn itself (matters only without isolation). */
  hostCwd?: string;
  stdin?: string;
  /** Without one (background processes) it runs until it ends or is killed. */
  timeoutMs?: number;
}

/** A shell forked ahead of time (prefork.ts) and the script that makes it the command (Isolation.script). */
export interface Preforked {
  shell: ChildProcess;
  script: string;
}

/** Streamed output waits for the reader once this much is queued, pausing the command's pipes. */
const STREAM_HIGH_WATER = 1024 * 1024;

/**
 * A running sandboxed command. It leads its own process group, so killing it takes the wrapper,
 * bubblewrap and (through --die-with-parent and the PID namespace) everything inside with it.
 */
export class SandboxProcess {
  readonly child: ChildProcess;
  readonly started = performance.now();
  readonly exited: Promise<{ exitCode: number; timedOut: boolean; durationMs: number }>;
  private timedOut = false;
  private readonly timer: NodeJS.Timeout | undefined;

  /**
   * Runs `launch.command`, or, given `preforked`, has that waiting shell run the equivalent script
   * (the same programs, arguments and limits, without a fork on the way: see prefork.ts).
   */
  constructor(launch: Launch, preforked?: Preforked) {
    if (preforked) {
      this.child = preforked.shell;
      this.child.stdin!.end(preforked.script);
    } else {
      this.child = spawn(launch.command.file, launch.command.args, {
        env: launch.command.env,
        cwd: launch.hostCwd,
        detached: true,
        stdio: [launch.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
    }
    if (!preforked && launch.stdin !== undefined && this.child.stdin) {
      this.child.stdin.on("error", () => {}); // the command may exit without reading its input
      this.child.stdin.end(launch.stdin);
    }
    this.timer =
      launch.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            this.timedOut = true;
            this.kill();
          }, launch.timeoutMs);
    this.exited = new Promise((resolve, reject) => {
      this.child.once("error", (err) => {
        clearTimeout(this.timer);
        reject(new SandgateError("sandbox_unavailable", `could not start the sandbox: ${err.message}`));
      });
      this.child.once("close", (code, signal) => {
        clearTimeout(this.timer);
        const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 9) : 9);
        resolve({ exitCode, timedOut: this.timedOut, durationMs: Math.round((performance.now() - this.started) * 100) / 100 });
      });
    });
    this.exited.catch(() => {});
  }

  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      this.child.kill("SIGKILL");
    }
  }

  /** Runs to the end, keeping at most `maxOutputBytes` of each stream. */
  async collect(maxOutputBytes: number, signal?: AbortSignal): Promise<ExecResult> {
    const stdout = new Capped(maxOutputBytes);
    const stderr = new Capped(maxOutputBytes);
    this.child.stdout?.on("data", (chunk: Buffer) => stdout.add(chunk));
    this.child.stderr?.on("data", (chunk: Buffer) => stderr.add(chunk));
    const abort = () => this.kill();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      const { exitCode, timedOut, durationMs } = await this.exited;
      return { exitCode, stdout: stdout.text(), stderr: stderr.text(), durationMs, timedOut, truncated: stdout.truncated || stderr.truncated };
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  /** The command's output as events, pausing its pipes while the reader falls behind. */
  events(signal: AbortSignal): AsyncIterable<ExecEvent> {
    const queue: ExecEvent[] = [];
    let queuedBytes = 0;
    let wake: (() => void) | undefined;
    let finished = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const streams = [
      { type: "stdout" as const, pipe: this.child.stdout, decoder: new StringDecoder("utf8") },
      { type: "stderr" as const, pipe: this.child.stderr, decoder: new StringDecoder("utf8") },
    ];
    for (const { type, pipe, decoder } of streams) {
      pipe?.on("data", (chunk: Buffer) => {
        const data = decoder.write(chunk);
        if (!data) return;
        queue.push({ type, data });
        queuedBytes += chunk.length;
        if (queuedBytes > STREAM_HIGH_WATER) for (const s of streams) s.pipe?.pause();
        notify();
      });
      pipe?.on("end", () => {
        const rest = decoder.end();
        if (rest) queue.push({ type, data: rest });
      });
    }
    this.exited.then(
      (result) => queue.push({ type: "exit", ...result }),
      (err: SandgateError) => queue.push({ type: "error", code: err.code, message: err.message }),
    ).finally(() => {
      finished = true;
      notify();
    });
    const abort = () => this.kill();
    signal.addEventListener("abort", abort, { once: true });

    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          while (true) {
            const event = queue.shift();
            if (event) {
              if (event.type === "stdout" || event.type === "stderr") {
                queuedBytes -= Buffer.byteLength(event.data);
                if (queuedBytes <= STREAM_HIGH_WATER / 2) for (const s of streams) s.pipe?.resume();
              }
              yield event;
              if (event.type === "exit" || event.type === "error") return;
              continue;
            }
            if (finished && queue.length === 0) return;
            await new Promise<void>((resolve) => (wake = resolve));
          }
        } finally {
          // A reader that stops early (disconnect, break) ends the command with it.
          signal.removeEventListener("abort", abort);
          self.kill();
          for (const s of streams) s.pipe?.resume(); // let the pipes drain so the child can be reaped
        }
      },
    };
  }
}

/** Keeps the first `limit` bytes of a stream and notes whether more came. */
class Capped {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept !== chunk) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.size).toString("utf8");
  }
}
