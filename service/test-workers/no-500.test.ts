/** The Worker answers malformed Cap'n Web batches and commands too large to start with 4xx in the envelope, never 500. */
import { exports as workerExports } from "cloudflare:workers";
import { newHttpBatchRpcSession } from "capnweb";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SandgateRpc } from "../src/surfaces/rpc.ts";
import { WORKER_TOKEN } from "./constants.ts";

const worker = workerExports as unknown as { default: Fetcher };
const auth = { authorization: `Bearer ${WORKER_TOKEN}` };

afterEach(() => vi.restoreAllMocks());

async function refusal(res: Response, what: string, status = 400, code = "invalid_request"): Promise<string> {
  expect(res.status, what).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code, what).toBe(code);
  return body.error.message;
}

/** A well-formed batch over the network path a client takes (the session's fetch reaches this Worker's fetch). */
async function batchWorks(): Promise<void> {
  const network = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    const request = new Request(input as RequestInfo, init);
    return new URL(request.url).host === "sandgate" ? worker.default.fetch(request) : network(request);
  });
  const api = newHttpBatchRpcSession<SandgateRpc>(new Request("http://sandgate/rpc", { headers: auth }));
  expect(await api.health()).toMatchObject({ ok: true });
  vi.restoreAllMocks();
}

describe("/rpc in the Worker", () => {
  it("answers malformed batches with 400 in the envelope", async () => {
    await batchWorks();
    const bodies = ["[]", "{}", "x", "null", "[1]", '["push"]', '["pull",1]', '["abort",1]', '["release",1,1]', '["push",1]\n', '["push",["pipeline",99,["health"]]]\n["pull",1]'];
    for (const body of bodies) await refusal(await worker.default.fetch("http://sandgate/rpc", { method: "POST", headers: auth, body }), JSON.stringify(body));
    await refusal(await worker.default.fetch("http://sandgate/rpc", { method: "POST", headers: auth, body: new Uint8Array([0x5b, 0xff, 0x5d]) }), "not UTF-8");
    await refusal(await worker.default.fetch("http://sandgate/rpc", { headers: auth }), "GET without an upgrade");
    await batchWorks();
  });
});

describe("commands in the Worker", () => {
  it("answers a 200,000-character command with 400, and runs one at the limit", async () => {
    const call = (path: string, body: unknown) =>
      worker.default.fetch(`http://sandgate${path}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await call("/v1/sandboxes", { id: "w-long" })).status).toBe(201);
    const long = `echo ${"a".repeat(200_000)}`;
    for (const path of ["/v1/sandboxes/w-long/exec", "/v1/sandboxes/w-long/exec/stream", "/v1/sandboxes/w-long/processes", "/sandbox/w-long/exec"]) {
      expect(await refusal(await call(path, { command: long }), path)).toContain("131071 bytes");
    }
    const counted = `printf %s ${"a".repeat(131_000)} | wc -c`;
    expect(await (await call("/v1/sandboxes/w-long/exec", { command: counted })).json()).toMatchObject({ exitCode: 0, stdout: "131000\n" });
    await worker.default.fetch("http://sandgate/v1/sandboxes/w-long", { method: "DELETE", headers: auth });
  });
});
