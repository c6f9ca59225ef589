import { StringDecoder } from "node:string_decoder";
import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import type { SandgateError } from "../../core/errors.ts";
import { type AgentConnection, failureOf } from "./agent.ts";
import { mapAgentFailure } from "./files.ts";

export interface CommandSpec {
  argv: string[];
  /** The whole environment the program starts with. */
  env: Record<string, string>;
  /** As the sandbox sees it (/workspace/...). */
  cwd: string;
  stdin?: string;
  /** Without one (background processes) it runs until it ends or is killed. */
  timeoutMs?: number;
  /** Output the host takes ahead of its reader (default WINDOW). */
  windowBytes?: number;
}

export type OutputStream = "stdout" | "stderr";

/** Output the host takes ahead of its reader, per command (the agent holds the rest back). */
const WINDOW = 1024 * 1024;
/**
 * The window of a background process: its output goes to a log file, and each of the 64 a sandbox
 * may run can have this much in flight towards the host, so it is kept small (host memory per process).
 */
export const BACKGROUND_WINDOW = 64 * 1024;
const SIGKILL = 9;
/** Streamed output queued for a slow reader is merged into events of up to this many characters. */
const MERGED_EVENT_CHARS = 1024 * 1024;

/**
 * A command running in a sandbox's environment, started by its agent as a session of its own. Its
 * output arrives within a window the host re-opens as the output is consumed: pausing (a slow
 * reader, a log file behind) stops the command at its next write, and nothing piles up here.
 */
export class SandboxCommand {
  /** Its pid inside the sandbox, once started. */
  pid: number | undefined;
  readonly started: Promise<void>;
  readonly exited: Promise<{ exitCode: number; timedOut: boolean; durationMs: number }>;
  private readonly startedAt = performance.now();
  private readonly stream: number;
  private timedOut = false;
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private owed = 0;
  private sink: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
  private early: [OutputStream, Buffer][] = [];
  private stdin: Buffer | undefined;

  constructor(private readonly agent: AgentConnection, spec: CommandSpec) {
    let resolveStarted!: () => void;
    let rejectStarted!: (err: unknown) => void;
    let resolveExited!: (value: { exitCode: number; timedOut: boolean; durationMs: number }) => void;
    let rejectExited!: (err: unknown) => void;
    this.started = new Promise((resolve, reject) => ((resolveStarted = resolve), (rejectStarted = reject)));
    this.exited = new Promise((resolve, reject) => ((resolveExited = resolve), (rejectExited = reject)));
    this.started.catch(() => {});
    this.exited.catch(() => {});
    this.stdin = spec.stdin === undefined ? undefined : Buffer.from(spec.stdin);
    const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
    const finish = () => {
      this.done = true;
      clearTimeout(this.timer);
    };
    this.stream = agent.open(
      { op: "exec", argv: spec.argv, env, cwd: spec.cwd, stdin: spec.stdin !== undefined, window: spec.windowBytes ?? WINDOW },
      {
        reply: (value) => {
          const failure = failureOf(value);
          if (failure) {
            finish();
            agent.forget(this.stream);
            const err = mapAgentFailure(failure, spec.cwd);
            rejectStarted(err);
            rejectExited(err);
            return;
          }
          this.pid = (value as { pid: number }).pid;
          resolveStarted();
        },
        output: (channel, data) => this.deliver(channel === 2 ? "stderr" : "stdout", data),
        grant: (bytes) => this.feed(bytes),
        end: (value) => {
          finish();
          const { exitCode } = value as { exitCode: number };
          resolveExited({ exitCode, timedOut: this.timedOut, durationMs: Math.round((performance.now() - this.startedAt) * 100) / 100 });
        },
        lost: (err) => {
          finish();
          rejectStarted(err);
          // Started, it ended with its environment (the sandbox was deleted or stopped): killed.
          if (this.pid !== undefined) resolveExited({ exitCode: 128 + SIGKILL, timedOut: this.timedOut, durationMs: Math.round((performance.now() - this.startedAt) * 100) / 100 });
          else rejectExited(err);
        },
      },
    );
    if (spec.timeoutMs !== undefined) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.kill();
      }, spec.timeoutMs);
    }
  }

  get running(): boolean {
    return !this.done;
  }

  /** SIGKILL to the command and everything it started (its session and descendants). */
  kill(): void {
    this.signal(SIGKILL);
  }

  signal(signal: number): void {
    if (!this.done) this.agent.signal(this.stream, signal);
  }

  /** Where the output goes from now on (what came before is handed over first). */
  onOutput(sink: (stream: OutputStream, chunk: Buffer) => void): void {
    this.sink = sink;
    const early = this.early;
    this.early = [];
    for (const [stream, chunk] of early) this.deliver(stream, chunk);
  }

  /** Stops re-opening the window: the command blocks once it has filled it. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const owed = this.owed;
    this.owed = 0;
    if (!this.done) this.agent.credit(this.stream, owed);
  }

  private deliver(stream: OutputStream, chunk: Buffer): void {
    if (!this.sink) {
      this.early.push([stream, chunk]);
      return;
    }
    this.sink(stream, chunk);
    if (this.paused) this.owed += chunk.length;
    else this.agent.credit(this.stream, chunk.length);
  }

  /** Sends stdin as the agent makes room for it, then its end. */
  private feed(bytes: number): void {
    if (!this.stdin) return;
    const part = this.stdin.subarray(0, bytes);
    this.stdin = this.stdin.subarray(part.length);
    if (part.length > 0) this.agent.send(2, this.stream, part);
    if (this.stdin.length === 0) {
      this.stdin = undefined;
      this.agent.send(3, this.stream);
    }
  }

  /** Runs to the end, keeping at most `maxOutputBytes` of each stream. */
  async collect(maxOutputBytes: number, signal?: AbortSignal): Promise<ExecResult> {
    const out = { stdout: new Capped(maxOutputBytes), stderr: new Capped(maxOutputBytes) };
    this.onOutput((stream, chunk) => out[stream].add(chunk));
    const abort = () => this.kill();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      const { exitCode, timedOut, durationMs } = await this.exited;
      return { exitCode, stdout: out.stdout.text(), stderr: out.stderr.text(), durationMs, timedOut, truncated: out.stdout.truncated || out.stderr.truncated };
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  /** The command's output as events; the window closes while the reader is behind. */
  events(signal: AbortSignal): AsyncIterable<ExecEvent> {
    const queue: ExecEvent[] = [];
    let queuedBytes = 0;
    let wake: (() => void) | undefined;
    let finished = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
    this.onOutput((type, chunk) => {
      const data = decoders[type].write(chunk);
      if (!data) return;
      queue.push({ type, data });
      queuedBytes += chunk.length;
      if (queuedBytes > WINDOW) this.pause();
      notify();
    });
    this.exited
      .then(
        (result) => {
          for (const type of ["stdout", "stderr"] as const) {
            const rest = decoders[type].end();
            if (rest) queue.push({ type, data: rest });
          }
          queue.push({ type: "exit", ...result });
        },
        (err: SandgateError) => queue.push({ type: "error", code: err.code, message: err.message }),
      )
      .finally(() => {
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
            const next = queue.shift();
            if (next) {
              let event: ExecEvent = next;
              if (event.type === "stdout" || event.type === "stderr") {
                // A reader behind gets what is queued of one stream as one event (fewer, larger writes).
                let data = event.data;
                while (queue[0]?.type === event.type && data.length < MERGED_EVENT_CHARS) data += (queue.shift() as { data: string }).data;
                if (data !== event.data) event = { type: event.type, data };
                queuedBytes -= Buffer.byteLength(data);
                if (queuedBytes <= WINDOW / 2) self.resume();
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
          self.resume();
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

