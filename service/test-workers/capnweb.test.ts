/** Cap'n Web at the Worker's /rpc, over WebSocket and HTTP batch, with pipelined calls. */
import { exports as workerExports } from "cloudflare:workers";
import { newHttpBatchRpcSession, newWebSocketRpcSession } from "capnweb";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SandgateRpc } from "../src/surfaces/rpc.ts";
import { WORKER_TOKEN } from "./constants.ts";

/** This Worker's own default export, as a fetcher. */
const exports = workerExports as unknown as { default: Fetcher };

afterEach(() => vi.restoreAllMocks());

async function openSocket(token: string): Promise<Response> {
  return exports.default.fetch("http://sandgate/rpc", { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } });
}

describe("Cap'n Web at /rpc", () => {
  it("serves a WebSocket session with pipelining", async () => {
    const res = await openSocket(WORKER_TOKEN);
    expect(res.status).toBe(101);
    const socket = res.webSocket!;
    socket.accept();
    const api = newWebSocketRpcSession<SandgateRpc>(socket as unknown as WebSocket);
    await api.createSandbox({ id: "capn-ws" });
    const result = await api.sandbox("capn-ws").exec({ command: "echo over websocket" });
    expect(result.stdout).toBe("over websocket\n");
    await expect(api.getSandbox({ id: "missing" })).rejects.toMatchObject({ code: "not_found" });
    socket.close();
  });

  it("refuses a WebSocket without the token", async () => {
    expect((await openSocket("wrong")).status).toBe(401);
  });

  it("serves an HTTP batch with a pipelined call", async () => {
    // The session's fetch goes to this Worker's own fetch handler, as a client's would over the network.
    const requests: string[] = [];
    const network = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const request = new Request(input as RequestInfo, init);
      if (new URL(request.url).host !== "sandgate") return network(request); // the Worker's own calls to its backend
      requests.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("authorization") ? "auth" : "noauth"}`);
      return exports.default.fetch(request);
    });
    await newHttpBatchRpcSession<SandgateRpc>(new Request("http://sandgate/rpc", { headers: { authorization: `Bearer ${WORKER_TOKEN}` } })).createSandbox({ id: "capn-batch" });
    requests.length = 0;
    const api = newHttpBatchRpcSession<SandgateRpc>(new Request("http://sandgate/rpc", { headers: { authorization: `Bearer ${WORKER_TOKEN}` } }));
    const [info, result] = await Promise.all([api.getSandbox({ id: "capn-batch" }), api.sandbox("capn-batch").exec({ command: "echo batched" })]);
    expect(info.id).toBe("capn-batch");
    expect(result.stdout).toBe("batched\n");
    expect(requests).toEqual(["POST /rpc auth"]); // one round trip for the handle, the call on it and the get
  });
});
