import type { FileInfo } from "../../schemas/files.ts";
import type { FileStream } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import type { ErrorCode } from "../../schemas/common.ts";
import { WORKSPACE, type WorkspacePath } from "../../core/paths.ts";
import { type AgentConnection, type AgentFailure, Frame, failureOf } from "./agent.ts";

/** Bytes of a download the host takes ahead of the socket (the agent holds back the rest). */
const READ_WINDOW = 2 * 1024 * 1024;

interface AgentFileInfo {
  /** Where the agent found it (relative to /workspace); listings: relative to the listed directory. */
  path: string;
  type: FileInfo["type"];
  size: number;
  mode: number;
  mtimeMs: number;
}

/**
 * The files of one sandbox, through its agent: every operation runs inside the sandbox, as the
 * sandbox's user, walking paths beneath /workspace (service/agent/files.go). The host never resolves
 * a path the sandbox controls, so a directory swapped for a symlink mid-call can at most redirect the
 * operation to somewhere the sandbox could reach itself.
 */
export class SandboxFiles {
  constructor(private readonly agent: () => Promise<AgentConnection>) {}

  async read(path: WorkspacePath): Promise<FileStream> {
    const agent = await this.agent();
    return new Promise<FileStream>((resolve, reject) => {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      let settled = false;
      let owed = 0;
      let stream = 0;
      const body = new ReadableStream<Uint8Array>(
        {
          start(c) {
            controller = c;
          },
          pull() {
            // The queue is below its mark: the agent may send again what arrived so far.
            if (owed > 0) {
              agent.credit(stream, owed);
              owed = 0;
            }
          },
          cancel() {
            agent.forget(stream);
            agent.signal(stream, 9);
          },
        },
        new ByteLengthQueuingStrategy({ highWaterMark: READ_WINDOW / 2 }),
      );
      stream = agent.open(
        { op: "read", path: path.rel, window: READ_WINDOW },
        {
          reply: (value) => {
            const failure = failureOf(value);
            settled = true;
            if (failure) {
              agent.forget(stream);
              reject(mapAgentFailure(failure, path.abs));
            } else resolve({ body, size: (value as { size: number }).size });
          },
          output: (_channel, data) => {
            controller.enqueue(data);
            owed += data.length;
          },
          end: (value) => {
            const failure = failureOf(value);
            if (failure) controller.error(mapAgentFailure(failure, path.abs));
            else controller.close();
          },
          lost: (err) => {
            if (!settled) reject(err);
            else controller.error(err);
          },
        },
      );
    });
  }

  async write(path: WorkspacePath, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<FileInfo> {
    const agent = await this.agent();
    const reader = body.getReader();
    let stream = 0;
    let room = 0;
    let wakeRoom: (() => void) | undefined;
    let failed: unknown;
    let finished = false;
    let result: ((value: unknown) => void) | undefined;
    const ended = new Promise<unknown>((resolve) => (result = resolve));
    const ready = new Promise<void>((resolve, reject) => {
      stream = agent.open(
        { op: "write", path: path.rel },
        {
          reply: (value) => {
            const failure = failureOf(value);
            if (failure) {
              agent.forget(stream);
              reject(mapAgentFailure(failure, path.abs));
            } else resolve();
          },
          grant: (bytes) => {
            room += bytes;
            wakeRoom?.();
          },
          end: (value) => {
            finished = true;
            const failure = failureOf(value);
            if (failure) failed = mapAgentFailure(failure, path.abs);
            result?.(value);
            wakeRoom?.();
          },
          lost: (err) => {
            finished = true;
            failed = err;
            reject(err);
            result?.(undefined);
            wakeRoom?.();
          },
        },
      );
    });
    try {
      await ready;
      let size = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          throw errors.tooLarge(`file is larger than the ${maxBytes}-byte limit`, maxBytes);
        }
        let offset = 0;
        while (offset < value.byteLength) {
          while (room <= 0 && failed === undefined) await new Promise<void>((resolve) => (wakeRoom = resolve));
          if (failed !== undefined) throw failed;
          const part = value.subarray(offset, offset + Math.min(room, value.byteLength - offset));
          agent.send(Frame.data, stream, Buffer.from(part.buffer, part.byteOffset, part.byteLength));
          room -= part.byteLength;
          offset += part.byteLength;
        }
      }
      if (failed !== undefined) throw failed;
      agent.send(Frame.eof, stream);
      const value = await ended;
      if (failed !== undefined) throw failed;
      return infoOf(value as AgentFileInfo, path.abs);
    } catch (err) {
      // The upload failed or was refused: the agent removes its temporary file.
      if (!finished) {
        agent.forget(stream);
        agent.signal(stream, 9);
      }
      discardRest(reader);
      throw err;
    }
  }

  async stat(path: WorkspacePath): Promise<FileInfo> {
    return infoOf(await this.call<AgentFileInfo>({ op: "stat", path: path.rel, follow: false }, path.abs), path.abs);
  }

  async list(path: WorkspacePath, recursive: boolean, limit: number): Promise<{ entries: FileInfo[]; truncated: boolean }> {
    const listed = await this.call<{ entries: AgentFileInfo[]; truncated: boolean }>({ op: "list", path: path.rel, recursive, limit }, path.abs);
    return { entries: listed.entries.map((entry) => infoOf(entry, `${path.abs}/${entry.path}`)), truncated: listed.truncated };
  }

  async mkdir(path: WorkspacePath, recursive: boolean): Promise<FileInfo> {
    return infoOf(await this.call<AgentFileInfo>({ op: "mkdir", path: path.rel, recursive }, path.abs), path.abs);
  }

  async move(from: WorkspacePath, to: WorkspacePath, overwrite: boolean): Promise<FileInfo> {
    return infoOf(await this.call<AgentFileInfo>({ op: "move", path: from.rel, to: to.rel, overwrite }, from.abs), to.abs);
  }

  async remove(path: WorkspacePath, recursive: boolean): Promise<void> {
    await this.call({ op: "delete", path: path.rel, recursive }, path.abs);
  }

  private async call<T>(request: Record<string, unknown>, shown: string): Promise<T> {
    const agent = await this.agent();
    return agent.call<T>(request, (failure) => mapAgentFailure(failure, shown));
  }
}

/** The agent's answer as a FileInfo, named `abs` (the path as the caller gave it). */
function infoOf(value: AgentFileInfo, abs: string): FileInfo {
  return {
    path: abs,
    name: abs === WORKSPACE ? "workspace" : abs.slice(abs.lastIndexOf("/") + 1),
    type: value.type,
    size: value.size,
    mode: value.mode,
    modifiedAt: new Date(Math.round(value.mtimeMs)).toISOString(), // rounded, as Node's own stat does
  };
}

const AGENT_CODES = new Set<ErrorCode>(["invalid_request", "forbidden", "conflict", "not_found", "payload_too_large", "sandbox_unavailable"]);

/** The agent's failure as the service's error: its own codes as they are, system errors by errno. */
export function mapAgentFailure(failure: AgentFailure, shown: string): SandgateError {
  if (failure.code && AGENT_CODES.has(failure.code as ErrorCode)) return new SandgateError(failure.code as ErrorCode, failure.message);
  switch (failure.errno) {
    case "ENOENT":
      return errors.notFound(`no such file or directory: '${shown}'`);
    case "EEXIST":
      return errors.conflict(`'${shown}' already exists`);
    case "ENOTDIR":
      return errors.invalid(`a component of '${shown}' is not a directory`);
    case "EISDIR":
      return errors.invalid(`'${shown}' is a directory`);
    case "ENOTEMPTY":
      return errors.conflict(`'${shown}' is not empty; pass recursive=true to delete it`);
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return errors.forbidden(`permission denied: '${shown}'`);
    case "ENAMETOOLONG":
      return errors.invalid(`path too long: '${shown}'`);
    case "ELOOP":
      return errors.invalid(`too many levels of symbolic links: '${shown}'`);
    case "ENXIO":
    case "EINVAL":
      return errors.invalid(`'${shown}' is not a regular file or directory this operation can use`);
    case "EXDEV":
    case "EBUSY":
      return errors.conflict(`'${shown}' is in use or on another mount`);
    case "EFBIG":
    case "ENOSPC":
    case "EDQUOT":
      return new SandgateError("payload_too_large", `no space left for '${shown}' (the sandbox's disk or file size limit)`);
    default:
      return new SandgateError("internal", `file operation on '${shown}' failed: ${failure.errno ?? failure.code ?? "unknown"} ${failure.message}`);
  }
}

/** What a refused upload may still send, and for how long, before it is cut off. */
const DISCARD_BYTES = 64 * 1024 * 1024;
const DISCARD_MS = 5000;

/**
 * Reads and drops the rest of a refused upload in the background (bounded), then cancels it. An HTTP
 * client still sending its body (fetch does) reads the error only once its body is out; cancelling
 * right away would leave the connection stalled until the server drops it, and the client would see a
 * reset instead of the 413.
 */
function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  const timer = setTimeout(() => void reader.cancel().catch(() => {}), DISCARD_MS);
  timer.unref?.();
  void (async () => {
    let seen = 0;
    try {
      while (seen <= DISCARD_BYTES) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += value.byteLength;
      }
    } catch {
      // the caller went away
    } finally {
      clearTimeout(timer);
    }
    await reader.cancel().catch(() => {});
  })();
}
