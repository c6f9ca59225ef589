import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
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
    if (agent.hostPid !== undefined) return this.readLent(agent, agent.hostPid, path);
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
    if (agent.hostPid !== undefined) return this.writeLent(agent, agent.hostPid, path, body, maxBytes);
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

  /**
   * A download from a descriptor the agent opened inside the sandbox and lends to the host: the host
   * reads the open file (/proc/<agent>/fd/<n>) at disk speed and never resolves a path of the sandbox.
   */
  private async readLent(agent: AgentConnection, hostPid: number, path: WorkspacePath): Promise<FileStream> {
    const { stream, value } = await lend<{ fd: number; size: number }>(agent, { op: "lend-read", path: path.rel }, path.abs);
    const release = () => agent.send(Frame.eof, stream);
    let handle: FileHandle;
    try {
      handle = await open(`/proc/${hostPid}/fd/${value.fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
      const stats = await handle.stat();
      if (!stats.isFile()) throw errors.invalid(`'${path.abs}' is not a regular file`);
    } catch (err) {
      release();
      throw err instanceof SandgateError ? err : new SandgateError("sandbox_unavailable", `the sandbox's file could not be opened: ${(err as Error).message}`);
    }
    return { body: fileBody(handle, value.size, release), size: value.size };
  }

  /** An upload into a temporary file the agent made inside and lends; its end commits it (rename), a failure removes it. */
  private async writeLent(agent: AgentConnection, hostPid: number, path: WorkspacePath, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<FileInfo> {
    const reader = body.getReader();
    let stream = 0;
    let committed: Promise<unknown> | undefined;
    try {
      const lent = await lend<{ fd: number }>(agent, { op: "lend-write", path: path.rel }, path.abs);
      stream = lent.stream;
      committed = lent.ended;
      const handle = await open(`/proc/${hostPid}/fd/${lent.value.fd}`, constants.O_WRONLY);
      try {
        let size = 0;
        let batch: Uint8Array[] = [];
        let batched = 0;
        let writing: Promise<void> | undefined;
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (!done) {
              size += value.byteLength;
              if (size > maxBytes) throw errors.tooLarge(`file is larger than the ${maxBytes}-byte limit`, maxBytes);
              batch.push(value);
              batched += value.byteLength;
            }
            // Network chunks are small: gathered into one writev per WRITE_BATCH, the next batch read
            // while the previous one is written (at most two held).
            if (batched >= WRITE_BATCH || (done && batched > 0)) {
              await writing;
              writing = writeAll(handle, batch, batched);
              writing.catch(() => {});
              batch = [];
              batched = 0;
            }
            if (done) break;
          }
          await writing;
        } finally {
          await writing?.catch(() => {});
        }
      } finally {
        await handle.close().catch(() => {});
      }
      agent.send(Frame.eof, stream); // commit: the agent renames it into place
      const result = await committed;
      const failure = failureOf(result);
      if (failure) throw mapAgentFailure(failure, path.abs);
      return infoOf(result as AgentFileInfo, path.abs);
    } catch (err) {
      if (stream !== 0) agent.signal(stream, 9); // abort: the agent removes its temporary file
      discardRest(reader);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EFBIG" || code === "EDQUOT") throw new SandgateError("payload_too_large", `no space left for '${path.abs}' (the sandbox's disk quota)`);
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

/** Opens a lending stream: its first reply (the descriptor), and its end (what the agent answers last). */
function lend<T>(agent: AgentConnection, request: Record<string, unknown>, shown: string): Promise<{ stream: number; value: T; ended: Promise<unknown> }> {
  return new Promise((resolve, reject) => {
    let endWith!: (value: unknown) => void;
    const ended = new Promise<unknown>((r) => (endWith = r));
    const stream = agent.open(request, {
      reply: (value) => {
        const failure = failureOf(value);
        if (failure) {
          agent.forget(stream);
          reject(mapAgentFailure(failure, shown));
        } else resolve({ stream, value: value as T, ended });
      },
      end: (value) => endWith(value),
      lost: (err) => {
        reject(err);
        endWith({ error: { code: err.code, message: err.message } });
      },
    });
  });
}

/** Downloads read the file in chunks this size, READ_AHEAD chunks ahead of the socket. */
const READ_CHUNK = 1024 * 1024;
const READ_AHEAD = 2;
/** Uploads write in batches of at least this many bytes, one batch in flight while the next fills. */
const WRITE_BATCH = 1024 * 1024;

/** writev until every byte is on disk (a regular file takes it all at once; the loop is for the rest). */
async function writeAll(handle: FileHandle, chunks: Uint8Array[], total: number): Promise<void> {
  let written = (await handle.writev(chunks)).bytesWritten;
  if (written === total) return;
  const rest = Buffer.concat(chunks, total);
  while (written < total) written += (await handle.write(rest, written)).bytesWritten;
}

/**
 * A pull stream of exactly `size` bytes, read as the consumer asks for them, READ_AHEAD chunks
 * ahead of it (the disk and the socket work at the same time, with bounded memory); `done` runs
 * once it is closed, whichever way.
 */
function fileBody(handle: FileHandle, size: number, done: () => void): ReadableStream<Uint8Array> {
  let position = 0;
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await handle.close().catch(() => {});
    done();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const want = Math.min(READ_CHUNK, size - position);
          if (want <= 0) {
            await finish();
            controller.close();
            return;
          }
          // Uninitialised memory is fine: only the bytes read are ever handed on.
          const buffer = Buffer.allocUnsafeSlow(want);
          const { bytesRead } = await handle.read(buffer, 0, want, position);
          if (bytesRead === 0) throw errors.conflict("the file shrank while it was read");
          position += bytesRead;
          controller.enqueue(bytesRead === want ? buffer : buffer.subarray(0, bytesRead));
        } catch (err) {
          await finish();
          controller.error(err);
        }
      },
      async cancel() {
        await finish();
      },
    },
    { highWaterMark: READ_AHEAD },
  );
}
