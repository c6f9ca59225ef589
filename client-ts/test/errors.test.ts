/**
 * Every failure of the client is a SandgateError with a code, on REST and Cap'n Web RPC alike: a host
 * that refuses the connection (`unreachable`, status 0), one that never answers (`timeout`, status 0),
 * a wrong token (`unauthorized`, 401, also for a refused WebSocket upgrade), the service's own errors.
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { type Server, type Socket, createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandgateError, createSandgateClient } from "../src/index.ts";
import { codeOfStatus } from "../src/errors.ts";
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

describe("error codes by status", () => {
  const document = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "openapi", "openapi.json"), "utf8")) as {
    components: { schemas: { ErrorCode: { enum: string[] } } };
    paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: { error?: { code: string } } }> }> }> }>>;
  };

  it("maps every code the document names, each from the status the document gives it", () => {
    const pairs = new Map<number, string>();
    for (const methods of Object.values(document.paths))
      for (const operation of Object.values(methods))
        for (const [status, response] of Object.entries(operation.responses))
          for (const media of Object.values(response.content ?? {}))
            for (const example of Object.values(media.examples ?? {})) if (example.value.error) pairs.set(Number(status), example.value.error.code);
    expect(pairs.size).toBeGreaterThan(10); // control: the examples were read
    for (const [status, code] of pairs) expect(codeOfStatus[status], `status ${status}`).toBe(code);
    expect(Object.values(codeOfStatus).sort()).toEqual([...document.components.schemas.ErrorCode.enum].sort());
  });

  it("a method a path does not take is method_not_allowed (405), with or without the envelope", async () => {
    // The host's own answer carries the envelope.
    const response = await fetch(`${host().url}/health`, { method: "DELETE" });
    expect(response.status).toBe(405);
    const fromHost = await SandgateError.fromResponse(response);
    expect([fromHost.code, fromHost.status]).toEqual(["method_not_allowed", 405]);

    // A proxy in front answering 405 as plain text: the code comes from the status.
    const proxy = createHttpServer((req, res) => {
      if (req.url === "/health" && req.method === "GET") res.writeHead(405, { "content-type": "text/plain" }).end("Method Not Allowed");
      else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sandboxes: [] }));
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = proxy.address() as { port: number };
      const sg = createSandgateClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN });
      expect((await sg.sandboxes.list()).sandboxes).toEqual([]); // control: the client reaches the proxy
      const error = await expectSandgateError(sg.health(), "method_not_allowed", 405);
      expect(error.message).toContain("Method Not Allowed");
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
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
