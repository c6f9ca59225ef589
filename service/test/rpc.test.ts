import { type RpcStub, newHttpBatchRpcSession, newWebSocketRpcSession } from "capnweb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as WsClient } from "ws";
import { operations } from "../src/core/operations.ts";
import { type SandgateRpc, SandboxHandle, SandgateApi, readNdjson, rpcMethodNames, sandboxMethodNames } from "../src/surfaces/rpc.ts";
import type { ExecEvent } from "../src/schemas/exec.ts";
import { type TestHost, startHost } from "./host.ts";

const TOKEN = "rpc-test-token";
let host: TestHost;
let wsUrl: string;
beforeAll(async () => {
  host = await startHost({ token: TOKEN });
  wsUrl = `${host.url.replace("http", "ws")}/rpc`;
});
afterAll(async () => {
  await host.stop();
});

function connectWebSocket(token = TOKEN): { api: RpcStub<SandgateRpc>; socket: WebSocket } {
  // Node's WebSocket (undici) takes headers, so the token never goes into the URL.
  const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } } as unknown as string[]);
  return { api: newWebSocketRpcSession<SandgateRpc>(socket), socket };
}

function batch(token = TOKEN): RpcStub<SandgateRpc> {
  return newHttpBatchRpcSession<SandgateRpc>(new Request(`${host.url}/rpc`, { headers: { authorization: `Bearer ${token}` } }));
}

describe("parity", () => {
  it("has one RPC method per REST operation, and the reverse", () => {
    const rest = Object.values(operations).map((o) => o.operationId).sort();
    expect([...rpcMethodNames].sort()).toEqual(rest);
    for (const name of rest) expect(typeof (SandgateApi.prototype as unknown as Record<string, unknown>)[name]).toBe("function");
    const scoped = Object.values(operations).filter((o) => o.path.includes("{id}")).map((o) => o.operationId).sort();
    expect([...sandboxMethodNames].sort()).toEqual(scoped);
    for (const name of scoped) expect(typeof (SandboxHandle.prototype as unknown as Record<string, unknown>)[name]).toBe("function");
  });
});

describe("Cap'n Web over WebSocket", () => {
  it("runs the lifecycle, exec, files and streams", async () => {
    const { api, socket } = connectWebSocket();
    try {
      const created = await api.createSandbox({ id: "rpc-ws", labels: { via: "ws" } });
      expect(created).toMatchObject({ id: "rpc-ws", status: "ready", labels: { via: "ws" } });
      const box = api.sandbox("rpc-ws");
      const result = await box.exec({ command: "echo hi; echo err >&2; exit 2" });
      expect(result).toMatchObject({ exitCode: 2, stdout: "hi\n", stderr: "err\n" });

      const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
      const info = await box.writeFile({ path: "data/blob.bin", body: bytes });
      expect(info).toMatchObject({ path: "/workspace/data/blob.bin", size: bytes.length });
      const file = await box.readFile({ path: "data/blob.bin" });
      expect(file.size).toBe(bytes.length);
      const back = new Uint8Array(await new Response(file.body).arrayBuffer());
      expect(Buffer.compare(back, bytes)).toBe(0);

      const stream = await box.execStream({ command: "echo one; echo two >&2" });
      const events: ExecEvent[] = [];
      for await (const event of readNdjson<ExecEvent>(stream)) events.push(event);
      expect(events.at(-1)).toMatchObject({ type: "exit", exitCode: 0 });
      expect(events.filter((e) => e.type === "stdout").map((e) => (e as { data: string }).data).join("")).toBe("one\n");

      const listing = await box.listFiles({ path: "data" });
      expect(listing.entries.map((e) => e.name)).toEqual(["blob.bin"]);
      await box.deleteSandbox();
      await expect(api.getSandbox({ id: "rpc-ws" })).rejects.toMatchObject({ code: "not_found" });
    } finally {
      socket.close();
    }
  });

  it("carries error codes and validation failures", async () => {
    const { api, socket } = connectWebSocket();
    try {
      await expect(api.exec({ id: "nope", command: "true" })).rejects.toMatchObject({ code: "not_found", message: "sandbox 'nope' not found" });
      await expect(api.createSandbox({ id: "Not Valid" })).rejects.toMatchObject({ code: "invalid_request" });
      await api.createSandbox({ id: "rpc-err" });
      await expect(api.createSandbox({ id: "rpc-err" })).rejects.toMatchObject({ code: "conflict" });
      await expect(api.sandbox("rpc-err").readFile({ path: "/etc/passwd" })).rejects.toMatchObject({ code: "forbidden" });
      // @ts-expect-error a wrong type on purpose
      await expect(api.exec({ id: "rpc-err", command: 42 })).rejects.toMatchObject({ code: "invalid_request" });
    } finally {
      socket.close();
    }
  });

  it("refuses an upgrade without the right token with 401", async () => {
    /** The upgrade's answer: 101 when it opened, else the HTTP status of the refusal. */
    const upgrade = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WsClient(wsUrl, { headers });
        socket.once("open", () => (socket.terminate(), resolve(101)));
        socket.once("unexpected-response", (_req, res) => (res.resume(), resolve(res.statusCode ?? 0)));
        socket.once("error", (err) => reject(err));
      });
    expect(await upgrade({ authorization: `Bearer ${TOKEN}` })).toBe(101); // control: the right token opens
    for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) expect(await upgrade(headers)).toBe(401);
  });
});

describe("Cap'n Web over HTTP batch", () => {
  it("pipelines a call on a sandbox handle in one round trip", async () => {
    await batch().createSandbox({ id: "rpc-batch" });
    const api = batch();
    // One batch: the handle is never awaited, the call on it is pipelined.
    const [result, info] = await Promise.all([api.sandbox("rpc-batch").exec({ command: "echo pipelined" }), api.getSandbox({ id: "rpc-batch" })]);
    expect(result.stdout).toBe("pipelined\n");
    expect(info.id).toBe("rpc-batch");
  });

  it("refuses a batch without the right token", async () => {
    const res = await fetch(`${host.url}/rpc`, { method: "POST", body: "[]" });
    expect(res.status).toBe(401);
    expect(await batch().health()).toMatchObject({ ok: true }); // control: the right token is answered
    await expect(batch("wrong").health()).rejects.toThrow(/RPC request failed: 401/);
  });
});

describe("the operation context over Cap'n Web", () => {
  it("gives port links the origin the caller reached, as REST does", async () => {
    const { api, socket } = connectWebSocket();
    try {
      await api.createSandbox({ id: "rpc-link" });
      const overWs = await api.sandbox("rpc-link").createPortLink({ port: 8080, ttlSeconds: 60 });
      expect(overWs.url).toBe(`${host.url}${overWs.path}`);
      const overBatch = await batch().sandbox("rpc-link").createPortLink({ port: 8080, ttlSeconds: 60 });
      expect(overBatch.url).toBe(`${host.url}${overBatch.path}`);
      // Control: REST gives the same kind of url for the same operation.
      const rest = await host.json("POST", "/v1/sandboxes/rpc-link/port-links", { port: 8080, ttlSeconds: 60 });
      expect(rest.body.url).toBe(`${host.url}${rest.body.path}`);
    } finally {
      await api.deleteSandbox({ id: "rpc-link" });
      socket.close();
    }
  });
});
