import { errors } from "../../../core/errors.ts";
import { type AgentConnection, Frame, failureOf } from "../agent.ts";
import { mapAgentFailure } from "../files.ts";
import { LentCopies, type Lending } from "./lent-copies.ts";

/** Tar bytes the host takes ahead of what it has stored (the agent holds back the rest). */
const WINDOW = 4 * 1024 * 1024;

/**
 * A tar stream the agent writes from inside the sandbox (`tar-out`, service/agent/snapshot.go): its
 * bytes, credited as they are consumed, and the agent's last word (`changed`: files that moved while
 * read), which settles once the bytes have all arrived.
 */
export function tarFromAgent(agent: AgentConnection, request: Record<string, unknown>): { body: AsyncIterable<Uint8Array>; end: Promise<{ changed: string[] }> } {
  const queue: Buffer[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failed: unknown;
  let endWith!: (value: { changed: string[] }) => void;
  let failEnd!: (err: unknown) => void;
  const end = new Promise<{ changed: string[] }>((resolve, reject) => ((endWith = resolve), (failEnd = reject)));
  end.catch(() => {});
  const stop = (err: unknown) => {
    failed ??= err;
    finished = true;
    failEnd(err);
    wake?.();
  };
  const stream = agent.open(
    { op: "tar-out", window: WINDOW, ...request },
    {
      reply: (value) => {
        const failure = failureOf(value);
        if (failure) {
          agent.forget(stream);
          stop(mapAgentFailure(failure, "/workspace"));
        }
      },
      output: (_channel, data) => {
        queue.push(data);
        wake?.();
      },
      end: (value) => {
        const failure = failureOf(value);
        if (failure) stop(mapAgentFailure(failure, "/workspace"));
        else {
          finished = true;
          endWith(value as { changed: string[] });
          wake?.();
        }
      },
      lost: (err) => stop(err),
    },
  );
  const body = (async function* () {
    let done = false;
    try {
      for (;;) {
        while (queue.length > 0) {
          const chunk = queue.shift()!;
          yield chunk;
          agent.credit(stream, chunk.length);
        }
        if (failed !== undefined) throw failed;
        if (finished) {
          done = true;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      if (!done) {
        // The reader gave up (a bad member, a limit): the agent stops.
        agent.forget(stream);
        agent.signal(stream, 9);
        stop(errors.conflict("the snapshot was abandoned"));
      }
    }
  })();
  return { body, end };
}

/**
 * Sends a tar stream to the agent (`tar-in`), within the room it grants; resolves with its last word
 * once it has extracted all of it, or rejects with what it refused. With `lending`, the stream's
 * files come as headers alone and their content is copied into the files the agent lends (LentCopies).
 */
export async function tarToAgent(agent: AgentConnection, request: Record<string, unknown>, source: AsyncIterable<Uint8Array>, lending?: Lending): Promise<{ entries: number }> {
  let room = 0;
  let wakeRoom: (() => void) | undefined;
  let failed: unknown;
  let finished = false;
  let result!: (value: unknown) => void;
  const ended = new Promise<unknown>((resolve) => (result = resolve));
  let stream = 0;
  let copyFailed!: (err: unknown) => void;
  const failedCopy = new Promise<never>((_, reject) => (copyFailed = reject));
  failedCopy.catch(() => {});
  const copies = lending
    ? new LentCopies(
        lending,
        (count) => agent.credit(stream, count),
        (err) => {
          failed ??= err;
          wakeRoom?.();
          copyFailed(err);
        },
      )
    : undefined;
  const ready = new Promise<void>((resolve, reject) => {
    stream = agent.open(
      { op: "tar-in", ...request, ...(lending ? { lend: true } : {}) },
      {
        output: (_channel, data) => copies?.lent(data),
        reply: (value) => {
          const failure = failureOf(value);
          if (failure) {
            agent.forget(stream);
            reject(mapAgentFailure(failure, "/workspace"));
          } else resolve();
        },
        grant: (bytes) => {
          room += bytes;
          wakeRoom?.();
        },
        end: (value) => {
          finished = true;
          const failure = failureOf(value);
          if (failure) failed = mapAgentFailure(failure, "/workspace");
          result(value);
          wakeRoom?.();
        },
        lost: (err) => {
          finished = true;
          failed = err;
          reject(err);
          result(undefined);
          wakeRoom?.();
        },
      },
    );
  });
  try {
    await ready;
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        while (room <= 0 && failed === undefined && !finished) await new Promise<void>((resolve) => (wakeRoom = resolve));
        if (failed !== undefined) throw failed;
        if (finished) throw errors.invalid("the sandbox stopped reading the archive early");
        const part = chunk.subarray(offset, offset + Math.min(room, chunk.byteLength - offset, 1024 * 1024));
        agent.send(Frame.data, stream, Buffer.from(part.buffer, part.byteOffset, part.byteLength));
        room -= part.byteLength;
        offset += part.byteLength;
      }
    }
    if (failed !== undefined) throw failed;
    agent.send(Frame.eof, stream);
    // A lending restore ends once the agent has every copy: a failed copy ends it first, here.
    const value = await (copies ? Promise.race([ended, failedCopy]) : ended);
    if (failed !== undefined) throw failed;
    return value as { entries: number };
  } catch (err) {
    // The agent removes its staging directory; a lending one waits for this signal before it lets go
    // of the files it lent (the descriptor numbers are then free for it to reuse).
    if (!finished || copies) agent.signal(stream, 9);
    if (!finished) agent.forget(stream);
    throw err;
  } finally {
    copies?.dispose();
  }
}
