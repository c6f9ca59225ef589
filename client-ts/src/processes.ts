/** Background processes: a handle on one, its logs (a buffered tail, or followed across reconnects). */
import { SandgateError } from "./errors.js";
import { type CallOptions, type Context, signalOf, sleep, unwrap } from "./internal.js";
import type { components } from "./schema.js";
import { parseServerSentEvents } from "./sse.js";

type Schemas = components["schemas"];
export type ProcessInfo = Schemas["ProcessInfo"];
export type ProcessList = Schemas["ProcessList"];
export type ProcessStatus = Schemas["ProcessStatus"];
export type StartProcessRequest = Schemas["StartProcessRequest"];
export type ProcessLogs = Schemas["ProcessLogs"];
export type LogChunk = Schemas["LogChunk"];
export type ProcessLogEvent = Schemas["ProcessLogEvent"];
export type ProcessStdoutEvent = Schemas["ProcessStdoutEvent"];
export type ProcessStderrEvent = Schemas["ProcessStderrEvent"];
export type ProcessLogGapEvent = Schemas["ProcessLogGapEvent"];
export type ProcessExitEvent = Schemas["ProcessExitEvent"];
export type ProcessLogErrorEvent = Schemas["ProcessLogErrorEvent"];
export type Signal = Schemas["Signal"];
export type WaitResult = Schemas["WaitResult"];
export type WaitForPortRequest = Schemas["WaitForPortRequest"];
export type WaitForLogRequest = Schemas["WaitForLogRequest"];

/** A shell command line (`/bin/sh -c`), an argv array (no shell), or the whole request body. */
export type ProcessCommand = string | readonly string[] | StartProcessRequest;
export type StartProcessOptions = Omit<StartProcessRequest, "command" | "argv"> & CallOptions;

export interface LogsOptions extends CallOptions {
  /** Start at this byte offset (a `nextOffset` from before); without it, the tail that fits in `limitBytes`. */
  offset?: number;
  /** At most this many bytes of output (the host's default: 1 MiB). */
  limitBytes?: number;
}

export interface FollowOptions extends CallOptions {
  /** Start at this byte offset (a `nextOffset` from before); default 0, everything the host still keeps. */
  offset?: number;
  /**
   * How many times in a row to reconnect when the stream drops before the `exit` event, without an event
   * in between (default 5). Every reconnection resumes at the last event's `nextOffset`.
   */
  maxRetries?: number;
  /** The first reconnection's delay in milliseconds (default 250), doubled on each further try. */
  backoffMs?: number;
  /** The longest delay between reconnections (default 5000). */
  maxBackoffMs?: number;
  /**
   * Reconnect when a stream stays silent this long (default 60000; the host sends a keep-alive every
   * 15 s), so a connection that died without closing does not hang the loop.
   */
  idleTimeoutMs?: number;
}

export interface WaitForPortOptions extends Omit<WaitForPortRequest, "port">, CallOptions {}
export interface WaitForLogOptions extends Omit<WaitForLogRequest, "pattern">, CallOptions {}

/** A handle on one background process. Methods make one request each, except `follow` and `wait`. */
export interface ProcessHandle {
  readonly id: string;
  readonly sandboxId: string;
  /** What the last start, get, kill or wait through this handle answered; undefined before any. */
  readonly info: ProcessInfo | undefined;
  /** Fetches the process's current state (and keeps it in `info`). */
  get(options?: CallOptions): Promise<ProcessInfo>;
  /** Buffered output: the tail within `limitBytes`, or from `offset` on; continue from its `nextOffset`. */
  logs(options?: LogsOptions): Promise<ProcessLogs>;
  /**
   * Follows the output: `stdout`/`stderr` (and `gap`, when the host dropped output before it was sent)
   * events from `offset`, as they come, then one `exit` (or `error`), then the loop ends. When the
   * connection drops, it reconnects from the last event's `nextOffset` (bounded retries, exponential
   * backoff), so no byte is yielded twice or skipped. Leaving the loop closes the stream; the process
   * keeps running.
   */
  follow(options?: FollowOptions): AsyncGenerator<ProcessLogEvent, void, undefined>;
  /** Signals the process and all its descendants (default TERM); answers once they ended or after a grace. */
  kill(signal?: Signal, options?: CallOptions): Promise<ProcessInfo>;
  /** Waits until `port` in the sandbox accepts connections (with `path`: answers GET there with `status`). */
  waitForPort(port: number, options?: WaitForPortOptions): Promise<WaitResult>;
  /**
   * Waits until a line of output matches `pattern` (a JavaScript regular expression, matched on the host;
   * a RegExp given here must have no flags). `timeout` error past `timeoutMs`, `conflict` if it ends first.
   */
  waitForLog(pattern: string | RegExp, options?: WaitForLogOptions): Promise<WaitResult>;
  /** Waits until the process ends (following its log from the current end) and answers its final state. */
  wait(options?: Omit<FollowOptions, "offset">): Promise<ProcessInfo>;
}

const logEventTypes = new Set<string>(["stdout", "stderr", "gap", "exit", "error"]);
/** Statuses worth reconnecting after: the host or a proxy in front of it is briefly unavailable. */
const retryableStatuses = new Set([502, 503, 504]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ProcessImpl implements ProcessHandle {
  constructor(
    private readonly ctx: Context,
    readonly sandboxId: string,
    readonly id: string,
    public info: ProcessInfo | undefined,
  ) {}

  private get params() {
    return { path: { id: this.sandboxId, processId: this.id } };
  }

  async get(options?: CallOptions): Promise<ProcessInfo> {
    this.info = await unwrap(this.ctx.raw.GET("/v1/sandboxes/{id}/processes/{processId}", { params: this.params, ...signalOf(options) }));
    return this.info;
  }

  logs(options: LogsOptions = {}): Promise<ProcessLogs> {
    const { signal: _signal, ...query } = options;
    return unwrap(this.ctx.raw.GET("/v1/sandboxes/{id}/processes/{processId}/logs", { params: { ...this.params, query }, ...signalOf(options) }));
  }

  async *follow(options: FollowOptions = {}): AsyncGenerator<ProcessLogEvent, void, undefined> {
    const maxRetries = options.maxRetries ?? 5;
    const firstDelay = options.backoffMs ?? 250;
    const maxDelay = options.maxBackoffMs ?? 5000;
    const idleMs = options.idleTimeoutMs ?? 60_000;
    const outer = options.signal;
    let position = options.offset ?? 0;
    let failures = 0;
    for (;;) {
      let cause: unknown;
      // One connection: aborted by the caller's signal, or when it stays silent past idleMs (a dead peer).
      const attempt = new AbortController();
      let body: TransformStreamDefaultController<Uint8Array> | undefined;
      // Aborting the request stops a body from fetch; erroring our own stage stops any body (a custom fetch's too).
      const stop = (reason: unknown) => {
        attempt.abort(reason);
        body?.error(reason);
      };
      const onAbort = () => stop(outer?.reason);
      outer?.addEventListener("abort", onAbort, { once: true });
      let idle: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => stop(new SandgateError("timeout", `the log stream was silent for ${idleMs} ms`, 504)), idleMs);
      };
      try {
        arm();
        const { data, error, response } = await this.ctx.raw.GET("/v1/sandboxes/{id}/processes/{processId}/logs/stream", {
          params: { ...this.params, query: { offset: position } },
          headers: { accept: "text/event-stream" },
          parseAs: "stream",
          signal: attempt.signal,
        });
        if (!response.ok) {
          const failure = SandgateError.fromBody(response.status, error);
          if (!retryableStatuses.has(response.status)) throw new Fatal(failure);
          cause = failure;
        } else if (data) {
          const watched = data.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              start(controller) {
                body = controller;
              },
              transform(chunk, controller) {
                arm();
                controller.enqueue(chunk);
              },
            }),
          );
          for await (const message of parseServerSentEvents(watched)) {
            const event = parseLogEvent(message.data);
            const fresh = event && unseen(event, position);
            if (!fresh) continue;
            failures = 0;
            if (fresh.type !== "error") position = Math.max(position, fresh.nextOffset);
            // A slow consumer is not a silent server: no idle timer while the event is being handled.
            clearTimeout(idle);
            yield fresh;
            if (fresh.type === "exit" || fresh.type === "error") return;
            arm();
          }
        }
      } catch (err) {
        if (err instanceof Fatal) throw err.error;
        if (outer?.aborted) throw outer.reason;
        cause = err;
      } finally {
        clearTimeout(idle);
        outer?.removeEventListener("abort", onAbort);
        attempt.abort();
      }
      // The stream ended, or failed, before its exit event: resume where the last event ended.
      if (failures >= maxRetries) {
        if (cause !== undefined) throw cause;
        throw new SandgateError("sandbox_unavailable", `the log stream of process '${this.id}' ended ${failures + 1} times in a row before the process's exit`, 503);
      }
      await sleep(Math.min(maxDelay, firstDelay * 2 ** failures), outer);
      failures++;
    }
  }

  async kill(signal?: Signal, options?: CallOptions): Promise<ProcessInfo> {
    this.info = await unwrap(
      this.ctx.raw.DELETE("/v1/sandboxes/{id}/processes/{processId}", {
        params: { ...this.params, query: signal !== undefined ? { signal } : {} },
        ...signalOf(options),
      }),
    );
    return this.info;
  }

  async waitForPort(port: number, options: WaitForPortOptions = {}): Promise<WaitResult> {
    const { signal: _signal, ...rest } = options;
    const result = await unwrap(
      this.ctx.raw.POST("/v1/sandboxes/{id}/processes/{processId}/wait-for-port", { params: this.params, body: { ...rest, port }, ...signalOf(options) }),
    );
    this.info = result.process;
    return result;
  }

  async waitForLog(pattern: string | RegExp, options: WaitForLogOptions = {}): Promise<WaitResult> {
    if (typeof pattern !== "string" && pattern.flags !== "") {
      throw new TypeError(`waitForLog matches on the host without flags; /${pattern.source}/${pattern.flags} has some`);
    }
    const { signal: _signal, ...rest } = options;
    const body = { ...rest, pattern: typeof pattern === "string" ? pattern : pattern.source };
    const result = await unwrap(
      this.ctx.raw.POST("/v1/sandboxes/{id}/processes/{processId}/wait-for-log", { params: this.params, body, ...signalOf(options) }),
    );
    this.info = result.process;
    return result;
  }

  async wait(options: Omit<FollowOptions, "offset"> = {}): Promise<ProcessInfo> {
    // Only the end matters: follow from the output's current end, not from the start.
    const { nextOffset } = await this.logs({ limitBytes: 1, ...signalOf(options) });
    for await (const event of this.follow({ ...options, offset: nextOffset })) {
      if (event.type === "error") throw new SandgateError(event.code as SandgateError["code"], event.message, 500);
    }
    return this.get(options);
  }
}

/** Marks an error that ends `follow` at once (a refusal, not a dropped connection). */
class Fatal {
  constructor(readonly error: SandgateError) {}
}

function parseLogEvent(data: string): ProcessLogEvent | undefined {
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch {
    return undefined;
  }
  // Event types a newer server may add are skipped rather than mistyped.
  const type = (event as { type?: unknown } | null)?.type;
  return typeof type === "string" && logEventTypes.has(type) ? (event as ProcessLogEvent) : undefined;
}

/**
 * The part of `event` after `position` (the log's byte offset the caller has seen up to), or undefined
 * when it lies wholly before it: after a reconnection, a host may replay from an earlier offset.
 */
function unseen(event: ProcessLogEvent, position: number): ProcessLogEvent | undefined {
  switch (event.type) {
    case "stdout":
    case "stderr": {
      if (event.nextOffset <= position) return undefined;
      if (event.offset >= position) return event;
      const data = decoder.decode(encoder.encode(event.data).subarray(position - event.offset));
      return { ...event, data, offset: position };
    }
    case "gap":
      if (event.nextOffset <= position) return undefined;
      return event.offset >= position ? event : { ...event, offset: position };
    default:
      return event;
  }
}
