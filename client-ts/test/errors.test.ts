/**
 * Every failure of the client is a SandgateError with a code, on REST and Cap'n Web RPC alike: a host
 * that refuses the connection (`unreachable`, status 0), one that never answers (`timeout`, status 0),
 * a wrong token (`unauthorized`, 401, also for a refused WebSocket upgrade), the service's own errors.
 */
import { type Server, type Socket, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandgateClient } from "../src/index.ts";
import { connectRpc } from "../src/rpc.ts";
import { TOKEN, expectSandgateError, useHost } from "./helpers.ts";

const { host, client } = useHost();

/** A loopback port nothing listens on: bound, then closed. */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A server that accepts connections and never answers. */
let silent: Server;
const sockets: Socket[] = [];
beforeAll(async () => {
  silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe("REST client failures", () => {
  it("a refused connection is unreachable, with the cause kept", async () => {
    const sg = createSandgateClient({ baseUrl: await refusedUrl(), token: TOKEN });
    const error = await expectSandgateError(sg.health(), "unreachable", 0);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.cause).toBeInstanceOf(Error);
    await expectSandgateError(sg.sandbox("x").files.read("a"), "unreachable", 0);
    await expectSandgateError(sg.sandbox("x").execStream("true").next(), "unreachable", 0);
  });

  it("no answer within timeoutMs is timeout; a caller's own abort stays an abort", async () => {
    const { port } = silent.address() as { port: number };
    const sg = createSandgateClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200 });
    await expectSandgateError(sg.sandboxes.list(), "timeout", 0);
    const patient = createSandgateClient({ baseUrl: `http://127.0.0.1:${port}` });
    const controller = new AbortController();
    const pending = patient.health({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
  });

  it("a wrong token is unauthorized; the right one works (positive control)", async () => {
    const wrong = createSandgateClient({ baseUrl: host().url, token: "wrong" });
    await expectSandgateError(wrong.sandboxes.list(), "unauthorized", 401);
    expect((await client().sandboxes.list()).sandboxes).toBeInstanceOf(Array);
  });
});

describe("RPC failures", () => {
  it("the service's errors are SandgateError with code and status, pipelined calls too", async () => {
    using api = connectRpc(host().url, { token: TOKEN });
    await expectSandgateError(api.getSandbox({ id: "nope" }), "not_found", 404);
    await expectSandgateError(api.sandbox("nope").exec({ command: "true" }), "not_found", 404);
    expect((await api.health()).ok).toBe(true);
  });

  it("a WebSocket upgrade refused for a wrong token says 401 unauthorized", async () => {
    using api = connectRpc(host().url, { token: "wrong" });
    const error = await expectSandgateError(api.health(), "unauthorized", 401);
    expect(error.message).not.toContain("WebSocket connection failed");
    using good = connectRpc(host().url, { token: TOKEN });
    expect((await good.health()).ok).toBe(true);
  });

  it("an HTTP batch refused for a wrong token is 401 unauthorized", async () => {
    const api = connectRpc(host().url, { token: "wrong", transport: "batch" });
    await expectSandgateError(api.health(), "unauthorized", 401);
  });

  it("a host that refuses the connection is unreachable", async () => {
    const url = await refusedUrl();
    using api = connectRpc(url, { token: TOKEN });
    await expectSandgateError(api.health(), "unreachable", 0);
    const batch = connectRpc(url, { token: TOKEN, transport: "batch" });
    await expectSandgateError(batch.health(), "unreachable", 0);
  });
});
