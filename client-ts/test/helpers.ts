/** Shared by the client tests: a real Node host (the service's own test launcher) and a client on it. */
import { afterAll, beforeAll, expect } from "vitest";
import { type TestHost, removeDir, startHost } from "../../service/test/host.ts";
import { type ClientErrorCode, SandgateError, createSandgateClient, type ErrorCode, type SandgateClient } from "../src/index.ts";

export const TOKEN = "client-test-token";

/** Starts one host for the file's tests (token on) and stops it after them. */
export function useHost(): { host: () => TestHost; client: () => SandgateClient } {
  let host: TestHost | undefined;
  let client: SandgateClient | undefined;
  beforeAll(async () => {
    host = await startHost({ token: TOKEN });
    client = createSandgateClient({ baseUrl: host.url, token: TOKEN });
  });
  afterAll(async () => {
    if (!host) return;
    await host.stop();
    removeDir(host.dataDir);
  });
  return {
    host: () => host ?? fail("no host"),
    client: () => client ?? fail("no client"),
  };
}

function fail(message: string): never {
  throw new Error(message);
}

/** Awaits `promise`, asserts it rejects with a SandgateError of `code` and `status`, and returns the error. */
export async function expectSandgateError(promise: Promise<unknown>, code: ErrorCode | ClientErrorCode, status: number): Promise<SandgateError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a ${code} error`).toBeInstanceOf(SandgateError);
  const error = caught as SandgateError;
  expect(error.code, error.message).toBe(code);
  expect(error.status).toBe(status);
  expect(error.name).toBe("SandgateError");
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}

/** A ReadableStream of `total` bytes of a deterministic xorshift32 sequence, in `chunkSize` chunks. */
export function prngStream(total: number, chunkSize: number, seed: number): ReadableStream<Uint8Array> {
  let sent = 0;
  let state = seed >>> 0 || 1;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(chunkSize, total - sent);
      const chunk = new Uint8Array(size);
      const words = new Uint32Array(chunk.buffer, 0, size >>> 2);
      for (let i = 0; i < words.length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        words[i] = state >>> 0;
      }
      for (let i = words.length * 4; i < size; i++) chunk[i] = i & 0xff;
      sent += size;
      controller.enqueue(chunk);
    },
  });
}

/**
 * A command that beats (rewrites `beat` every 20 ms) and prints "started" after its first beat: while
 * any of it runs, `beat` keeps changing.
 */
export const BEATER = "date +%s%N > beat; echo started; while true; do date +%s%N > beat.new; mv beat.new beat; sleep 0.02; done";

/**
 * Run in the same sandbox after BEATER should have been killed: prints "stopped" once `beat` has not
 * changed for 5 reads 0.1 s apart (25 beats' time, measured by the sandbox's own clock), "still beating"
 * after 10 s, "never beat" when BEATER never ran. A wait for the condition, with a bound, not a sleep.
 */
export const UNTIL_STOPPED =
  '[ -s beat ] || { echo never beat; exit 0; }; last=; same=0; for i in $(seq 1 100); do now=$(cat beat); if [ "$now" = "$last" ]; then same=$((same+1)); [ $same -ge 5 ] && { echo stopped; exit 0; }; else same=0; fi; last=$now; sleep 0.1; done; echo still beating';
