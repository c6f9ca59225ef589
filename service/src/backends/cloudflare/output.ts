/**
 * A process's output as the SDK streams it (`streamProcessLogs`: all of stdout so far, all of stderr
 * so far, then live events and `exit`), as deltas: the stream is reopened when the platform cuts it
 * while the process runs (idle streams end, sdk-stand-in.ts), and what a reopened stream replays is
 * skipped, so every character comes once. Exec and execStream are built on this: a command is an SDK
 * process, so a timeout or a caller hanging up can kill it (the SDK's own exec cannot: in a session a
 * timeout leaves the command running, and `execStream` ignores its timeout).
 */
import type { LogEvent as SdkLogEvent, Process as SdkProcess } from "@cloudflare/sandbox";
import { SandgateError } from "../../core/errors.ts";
import { parseServerSentEvents } from "../sse.ts";

/** `exitCode` null: the container no longer knows the process (it stopped), or did not say. */
export type OutputEvent = { type: "stdout" | "stderr"; data: string } | { type: "exit"; exitCode: number | null };

export interface OutputSource {
  streamProcessLogs(processId: string): Promise<ReadableStream<Uint8Array>>;
  getProcess(processId: string): Promise<Pick<SdkProcess, "status" | "exitCode"> | null>;
}

/** How often a cut stream is reopened before giving up. */
const MAX_REOPENS = 1000;

export async function* processOutput(source: OutputSource, processId: string): AsyncGenerator<OutputEvent> {
  const sent = { stdout: 0, stderr: 0 };
  for (let reopened = 0; ; reopened++) {
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = await source.streamProcessLogs(processId);
    } catch (err) {
      if (!(err instanceof SandgateError && err.code === "not_found")) throw err;
      // The container no longer knows the process (it stopped): its output and exit are gone.
      yield { type: "exit", exitCode: null };
      return;
    }
    const got = { stdout: 0, stderr: 0 };
    const before = sent.stdout + sent.stderr;
    const events = parseServerSentEvents<SdkLogEvent | { type: "process_info" }>(stream)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await events.next();
        if (next.done) break;
        const event = next.value;
        if (event.type === "stdout" || event.type === "stderr") {
          const data = event.data ?? "";
          const start = got[event.type];
          got[event.type] += data.length;
          if (got[event.type] > sent[event.type]) {
            const fresh = data.slice(Math.max(0, sent[event.type] - start));
            sent[event.type] = got[event.type];
            yield { type: event.type, data: fresh };
          }
        } else if (event.type === "exit") {
          // The exit event carries the code; only an event without one costs a lookup.
          const exitCode = event.exitCode ?? (await source.getProcess(processId).catch(() => null))?.exitCode ?? null;
          yield { type: "exit", exitCode };
          return;
        } else if (event.type === "error") {
          throw new SandgateError("sandbox_unavailable", event.data || "the sandbox broke off the process's output");
        }
      }
    } catch (err) {
      // A cut stream (RPC: "ReadableStream received over RPC disconnected prematurely") is reopened below.
      if (err instanceof SandgateError || reopened >= MAX_REOPENS) throw err;
    } finally {
      events.return?.(undefined).catch(() => {});
      await stream.cancel().catch(() => {});
    }
    if (reopened >= MAX_REOPENS) throw new SandgateError("sandbox_unavailable", "the sandbox kept cutting the process's output");
    // A stream that brought nothing new is not reopened at once, so a container that keeps cutting is not spun on.
    if (sent.stdout + sent.stderr === before) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * (reopened + 1))));
  }
}

/** Keeps the first `maxBytes` bytes of a stream of text, cut between characters. */
export class CappedText {
  private parts: string[] = [];
  private bytes = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(text: string): void {
    if (this.truncated) return;
    const encoded = new TextEncoder().encode(text);
    if (this.bytes + encoded.byteLength <= this.maxBytes) {
      this.parts.push(text);
      this.bytes += encoded.byteLength;
      return;
    }
    let cut = this.maxBytes - this.bytes;
    while (cut > 0 && (encoded[cut]! & 0xc0) === 0x80) cut--;
    this.parts.push(new TextDecoder().decode(encoded.subarray(0, cut)));
    this.bytes += cut;
    this.truncated = true;
  }

  get text(): string {
    return this.parts.join("");
  }
}
