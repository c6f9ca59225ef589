/** REST through the Worker's fetch: the same app as the Node host, behind the Worker's auth. */
import { env, exports as workerExports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/worker.ts";
import { operations } from "../src/core/operations.ts";
import { WORKER_TOKEN } from "./constants.ts";

/** This Worker's own default export, as a fetcher. */
const exports = workerExports as unknown as { default: Fetcher };

const auth = { authorization: `Bearer ${WORKER_TOKEN}` };
const call = (path: string, init: RequestInit = {}) => exports.default.fetch(`http://sandgate${path}`, init);

describe("REST through the Worker", () => {
  it("creates, runs, writes and reads", async () => {
    const created = await call("/v1/sandboxes", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ id: "rest-w" }) });
    expect(created.status).toBe(201);
    const run = await call("/v1/sandboxes/rest-w/exec", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ argv: ["uname", "-s"] }) });
    expect(await run.json()).toMatchObject({ exitCode: 0, stdout: "Linux\n" });
    const put = await call("/v1/sandboxes/rest-w/files/content?path=a.txt", { method: "PUT", headers: auth, body: "through the worker" });
    expect(put.status).toBe(200);
    const get = await call("/v1/sandboxes/rest-w/files/content?path=a.txt", { headers: auth });
    expect(await get.text()).toBe("through the worker");
    expect(get.headers.get("content-length")).toBe("18");
    const doc = await call("/openapi.json");
    expect(((await doc.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });

  it("answers 501 not_implemented for snapshots and fork (R2 snapshots are not built yet), and a fork makes no sandbox", async () => {
    const json = { ...auth, "content-type": "application/json" };
    expect((await call("/v1/sandboxes", { method: "POST", headers: json, body: JSON.stringify({ id: "fork-src-w" }) })).status).toBe(201);
    const before = ((await (await call("/v1/sandboxes", { headers: auth })).json()) as { sandboxes: unknown[] }).sandboxes.length;
    for (const [method, path, body] of [
      ["POST", "/v1/sandboxes/fork-src-w/snapshots", {}],
      ["POST", "/v1/sandboxes/fork-src-w/fork", { count: 3 }],
      ["GET", "/v1/snapshots", undefined],
      ["POST", "/v1/sandboxes", { fromSnapshot: "snap-x" }],
    ] as const) {
      const res = await call(path, { method, headers: json, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect(res.status, `${method} ${path}`).toBe(501);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_implemented");
    }
    // Positive control: the same call with a bad count is refused as input before the backend is asked.
    expect((await call("/v1/sandboxes/fork-src-w/fork", { method: "POST", headers: json, body: JSON.stringify({ count: 0 }) })).status).toBe(400);
    expect(((await (await call("/v1/sandboxes", { headers: auth })).json()) as { sandboxes: unknown[] }).sandboxes.length).toBe(before);
  });

  it("answers 401 on every protected route for missing, wrong and empty tokens", async () => {
    const routes = Object.values(operations).filter((o) => !("public" in o && o.public));
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }, { authorization: "Bearer " }, { "x-sandgate-token": "" }];
    for (const headers of attempts) {
      for (const op of routes) {
        const res = await call(op.path.replace("{id}", "rest-w") + "?path=x", { method: op.method.toUpperCase(), headers });
        expect(res.status, `${op.method} ${op.path}`).toBe(401);
        expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "missing or invalid token" } });
      }
    }
    expect((await call("/rpc", { method: "POST", body: "[]" })).status).toBe(401);
  });

  it("fails closed without a token secret, unless the dev var allows it", async () => {
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const noToken = { ...env, SANDGATE_TOKEN: "" };
    const refused = await worker.fetch(new Request("http://sandgate/v1/sandboxes"), noToken, ctx);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("no token configured");
    expect((await worker.fetch(new Request("http://sandgate/health"), noToken, ctx)).status).toBe(200);
    const allowed = await worker.fetch(new Request("http://sandgate/v1/sandboxes"), { ...noToken, SANDGATE_ALLOW_NO_TOKEN: "true" }, ctx);
    expect(allowed.status).toBe(200);
  });
});
