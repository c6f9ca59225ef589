import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import { jsonTextEvent, parseJsonText } from "../../core/json-text.ts";
import type { SandgateError } from "../../core/errors.ts";
import { type AgentConnection, failureOf } from "./agent.ts";
import { mapAgentFailure } from "./files.ts";
import { StringDecoder } from "node:string_decoder";

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
  /**
   * Output as JSON text while it is UTF-8 (the agent escapes it: service/agent/jsontext.go), for
   * events() only: collect() and onOutput() readers take raw bytes.
   */
  jsonText?: boolean;
}

export type OutputStream = "stdout" | "stderr";
export type OutputSink = (stream: OutputStream, chunk: Buffer) => void;
/** Output of a jsonText command while it is UTF-8: pieces of JSON text (the inside of a JSON string). */
export type TextSink = (stream: OutputStream, pieces: Buffer[]) => void;

/** Output the host takes ahead of its reader, per command (the agent holds the rest back). */
const WINDOW = 1024 * 1024;
/**
 * The window of a background process: its output goes to a log file, and each of the 64 a sandbox
 * may run can have this much in flight towards the host, so it is kept small (host memory per process).
 */
export const BACKGROUND_WINDOW = 64 * 1024;
const SIGKILL = 9;
/** Streamed output queued for a slow reader is merged into events of about this many bytes. */
const MERGED_EVENT_BYTES = 1024 * 1024;

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
  /** Credit is given back in batches of this much (a quarter of the window): one pipe write per batch, not per chunk. */
  private readonly creditBatch: number;
  private sink: OutputSink | undefined;
  private textSink: TextSink | undefined;
  private early: [OutputStream, Buffer | Buffer[], number][] = [];
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
    this.creditBatch = Math.max(1, Math.floor((spec.windowBytes ?? WINDOW) / 4));
    const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
    const finish = () => {
      this.done = true;
      clearTimeout(this.timer);
    };
    this.stream = agent.open(
      { op: "exec", argv: spec.argv, env, cwd: spec.cwd, stdin: spec.stdin !== undefined, window: spec.windowBytes ?? WINDOW, ...(spec.jsonText ? { text: "json" } : {}) },
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
        output: (channel, data) => this.deliver(channel === 2 ? "stderr" : "stdout", data, data.length),
        text: (channel, credit, pieces) => this.deliver(channel === 4 ? "stderr" : "stdout", pieces, credit),
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

  /** Where the output goes from now on (what came before is handed over first); JSON text to `text`, or decoded to `sink`. */
  onOutput(sink: OutputSink, text?: TextSink): void {
    this.sink = sink;
    this.textSink = text;
    const early = this.early;
    this.early = [];
    for (const [stream, chunk, credit] of early) this.deliver(stream, chunk, credit);
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

  private deliver(stream: OutputStream, chunk: Buffer | Buffer[], credit: number): void {
    if (!this.sink) {
      this.early.push([stream, chunk, credit]);
      return;
    }
    if (!Array.isArray(chunk)) this.sink(stream, chunk);
    else if (this.textSink) this.textSink(stream, chunk);
    else this.sink(stream, Buffer.from(parseJsonText(chunk)));
    this.owed += credit;
    // The agent still holds three quarters of its window when a batch is due, so it never waits on one.
    if (!this.paused && this.owed >= this.creditBatch) this.resume();
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
    // JSON text (what the agent escaped) stays bytes up to the wire (core/json-text.ts); raw output,
    // once a stream is not UTF-8, is decoded here as before.
    type Output = { type: OutputStream; json: Buffer[]; size: number; text?: undefined } | { type: OutputStream; text: string; json?: undefined };
    type Queued = Output | { type: "end"; event: ExecEvent };
    const queue: Queued[] = [];
    let queuedBytes = 0;
    let wake: (() => void) | undefined;
    let finished = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
    const queued = (item: Output, bytes: number) => {
      queue.push(item);
      queuedBytes += bytes;
      if (queuedBytes > WINDOW) this.pause();
      notify();
    };
    this.onOutput(
      (type, chunk) => {
        const text = decoders[type].write(chunk);
        if (text) queued({ type, text }, chunk.length);
      },
      (type, json) => {
        const size = json.reduce((sum, piece) => sum + piece.length, 0);
        if (size > 0) queued({ type, json, size }, size);
      },
    );
    this.exited
      .then(
        (result) => {
          for (const type of ["stdout", "stderr"] as const) {
            const rest = decoders[type].end();
            if (rest) queue.push({ type, text: rest });
          }
          queue.push({ type: "end", event: { type: "exit", ...result } });
        },
        (err: SandgateError) => queue.push({ type: "end", event: { type: "error", code: err.code, message: err.message } }),
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
              if (next.type === "end") {
                yield next.event;
                return;
              }
              // A reader behind gets what is queued of one stream as one event (fewer, larger writes).
              const items: Output[] = [];
              let size = 0;
              for (let item: Output = next; ; item = queue.shift() as Output) {
                items.push(item);
                size += item.json ? item.size : Buffer.byteLength(item.text);
                if (queue[0]?.type !== next.type || size >= MERGED_EVENT_BYTES) break;
              }
              queuedBytes -= size;
              if (queuedBytes <= WINDOW / 2) self.resume();
              // Each frame's JSON text is whole characters: parsed alone and joined, it is the text parsed whole.
              if (items.every((item) => item.json)) yield jsonTextEvent(next.type, items.flatMap((item) => item.json!));
              else yield { type: next.type, data: items.map((item) => item.text ?? parseJsonText(item.json!)).join("") };
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

