import type { ChildProcess } from "node:child_process";
import { SandgateError } from "../../core/errors.ts";

/**
 * The host's end of the agent that runs inside a sandbox's environment (service/agent, Go). One
 * pipe each way carries frames (u32 length | u8 type | u32 stream | payload); every request is a
 * stream of its own, and both directions are flow-controlled per stream (credit), so a slow reader
 * of one command holds back that command only, and nothing is buffered past a window.
 */
export const Frame = {
  open: 1,
  data: 2,
  eof: 3,
  credit: 4,
  signal: 5,
  reply: 16,
  output: 17,
  end: 18,
  grant: 19,
  hello: 20,
} as const;

const HEADER = 9;
/** What a JSON text output frame's payload starts with: u8 channel, u32 credit. */
const TEXT_HEAD = 5;
/** The agent never sends frames larger than its read chunk plus a header; anything far past it is a broken agent. */
const MAX_INCOMING_FRAME = 64 * 1024 * 1024;

/** What a stream of the connection is told as frames arrive for it. */
export interface StreamHandler {
  reply(value: unknown): void;
  output?(channel: number, data: Buffer): void;
  /**
   * Output sent as JSON text (channels 3 and 4, see service/agent/jsontext.go), in the pieces it
   * arrived in (never copied together), with the output bytes it stands for (the credit to give back).
   * Without this handler such a frame goes to `output` whole.
   */
  text?(channel: number, credit: number, pieces: Buffer[]): void;
  end?(value: unknown): void;
  grant?(bytes: number): void;
  /** The connection ended before the stream did. */
  lost(error: SandgateError): void;
}

export interface AgentFailure {
  errno?: string;
  code?: string;
  message: string;
}

export function failureOf(value: unknown): AgentFailure | undefined {
  if (value && typeof value === "object" && "error" in value) return (value as { error: AgentFailure }).error;
  return undefined;
}

export class AgentConnection {
  private nextId = 1;
  private readonly handlers = new Map<number, StreamHandler>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closedWith: SandgateError | undefined;
  /** Resolves with the agent's pid (inside the sandbox) once it is ready. */
  readonly ready: Promise<number>;
  /**
   * The agent's pid on the host, where the host may open the descriptors the agent lends it
   * (/proc/<pid>/fd/<fd>: root hosts); undefined where it cannot, and transfers go through the pipe.
   */
  hostPid: number | undefined;
  private resolveReady!: (pid: number) => void;
  private rejectReady!: (err: Error) => void;

  constructor(private readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    child.stdout!.on("data", (chunk: Buffer) => this.receive(chunk));
    child.stdin!.on("error", () => {}); // the agent is gone: its exit says so
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Opens a stream: the request goes out at once, frames for it go to `handler`. */
  open(request: Record<string, unknown>, handler: StreamHandler): number {
    if (this.closedWith) throw this.closedWith;
    const id = this.nextId++;
    if (this.nextId > 0xffff_fff0) this.nextId = 1;
    this.handlers.set(id, handler);
    this.send(Frame.open, id, Buffer.from(JSON.stringify(request)));
    return id;
  }

  /** A one-shot request: resolves with the agent's reply, or rejects with what it failed with. */
  call<T>(request: Record<string, unknown>, mapError: (failure: AgentFailure) => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.open(request, {
        reply: (value) => {
          this.forget(id);
          const failure = failureOf(value);
          if (failure) reject(mapError(failure));
          else resolve(value as T);
        },
        lost: reject,
      });
    });
  }

  send(type: number, stream: number, payload?: Buffer): void {
    if (this.closedWith) return;
    const head = Buffer.allocUnsafe(HEADER);
    head.writeUInt32BE(5 + (payload?.length ?? 0), 0);
    head.writeUInt8(type, 4);
    head.writeUInt32BE(stream, 5);
    this.child.stdin!.write(payload && payload.length > 0 ? Buffer.concat([head, payload]) : head);
  }

  credit(stream: number, bytes: number): void {
    if (bytes <= 0) return;
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(Math.min(bytes, 0xffff_ffff), 0);
    this.send(Frame.credit, stream, payload);
  }

  signal(stream: number, signal: number): void {
    this.send(Frame.signal, stream, Buffer.from(JSON.stringify({ signal })));
  }

  forget(stream: number): void {
    this.handlers.delete(stream);
  }

  /** The agent is gone: every open stream fails with `error`. */
  close(error: SandgateError): void {
    if (this.closedWith) return;
    this.closedWith = error;
    this.rejectReady(error);
    const handlers = [...this.handlers.values()];
    this.handlers.clear();
    for (const handler of handlers) handler.lost(error);
  }

  private receive(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= HEADER) {
      const head = this.peek(HEADER);
      const length = head.readUInt32BE(0);
      if (length < 5 || length > MAX_INCOMING_FRAME) {
        this.child.kill("SIGKILL");
        this.close(new SandgateError("sandbox_unavailable", "the sandbox's agent sent a malformed frame"));
        return;
      }
      if (this.pendingBytes < 4 + length) return;
      // A large output frame spans several pipe reads: its pieces are taken as they are.
      if (head[4] === Frame.output && this.pending[0]!.length < 4 + length && length >= TEXT_HEAD) {
        this.dispatchPieces(this.takePieces(4 + length));
        continue;
      }
      const frame = this.take(4 + length);
      this.dispatch(frame.readUInt8(4), frame.readUInt32BE(5), frame.subarray(HEADER));
    }
  }

  private peek(bytes: number): Buffer {
    if (this.pending[0]!.length >= bytes) return this.pending[0]!;
    this.pending = [Buffer.concat(this.pending)];
    return this.pending[0]!;
  }

  private take(bytes: number): Buffer {
    let first = this.pending[0]!;
    if (first.length < bytes) {
      const merged = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [merged];
      first = merged;
    }
    const frame = first.subarray(0, bytes);
    if (first.length === bytes) this.pending.shift();
    else this.pending[0] = first.subarray(bytes);
    this.pendingBytes -= bytes;
    return frame;
  }

  private takePieces(bytes: number): Buffer[] {
    const pieces: Buffer[] = [];
    for (let need = bytes; need > 0; ) {
      const first = this.pending[0]!;
      if (first.length <= need) {
        pieces.push(first);
        this.pending.shift();
        need -= first.length;
      } else {
        pieces.push(first.subarray(0, need));
        this.pending[0] = first.subarray(need);
        need = 0;
      }
    }
    this.pendingBytes -= bytes;
    return pieces;
  }

  /** An output frame in pieces: header, channel and credit copied out (14 bytes), the rest left where it is. */
  private dispatchPieces(pieces: Buffer[]): void {
    const head = Buffer.alloc(HEADER + TEXT_HEAD);
    let filled = 0;
    for (const piece of pieces) {
      filled += piece.copy(head, filled, 0, Math.min(piece.length, head.length - filled));
      if (filled === head.length) break;
    }
    const handler = this.handlers.get(head.readUInt32BE(5));
    if (!handler) return;
    const channel = head.readUInt8(HEADER);
    const skip = channel > 2 && handler.text ? HEADER + TEXT_HEAD : HEADER + 1;
    let rest = pieces;
    for (let skipped = 0; skipped < skip; ) {
      const take = Math.min(rest[0]!.length, skip - skipped);
      skipped += take;
      rest = take === rest[0]!.length ? rest.slice(1) : [rest[0]!.subarray(take), ...rest.slice(1)];
    }
    if (skip === HEADER + TEXT_HEAD) handler.text!(channel, head.readUInt32BE(HEADER + 1), rest);
    else handler.output?.(channel, Buffer.concat(rest));
  }

  private dispatch(type: number, stream: number, payload: Buffer): void {
    if (type === Frame.hello) {
      this.resolveReady((JSON.parse(payload.toString("utf8")) as { pid: number }).pid);
      return;
    }
    const handler = this.handlers.get(stream);
    if (!handler) return; // a stream the host already let go of
    switch (type) {
      case Frame.reply:
        handler.reply(JSON.parse(payload.toString("utf8")));
        break;
      case Frame.output: {
        const channel = payload.readUInt8(0);
        if (channel > 2 && handler.text && payload.length >= TEXT_HEAD) handler.text(channel, payload.readUInt32BE(1), [payload.subarray(TEXT_HEAD)]);
        else handler.output?.(channel, payload.subarray(1));
        break;
      }
      case Frame.end:
        this.handlers.delete(stream);
        handler.end?.(JSON.parse(payload.toString("utf8")));
        break;
      case Frame.grant:
        handler.grant?.(payload.readUInt32BE(0));
        break;
    }
  }
}
