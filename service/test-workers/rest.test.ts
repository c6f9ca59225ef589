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

  it("forwards snapshots and fork through the Worker's remote backend to the Node host", async () => {
    const json = { ...auth, "content-type": "application/json" };
    expect((await call("/v1/sandboxes", { method: "POST", headers: json, body: JSON.stringify({ id: "fork-src-w" }) })).status).toBe(201);
    const put = await call("/v1/sandboxes/fork-src-w/files/content?path=kept.txt", { method: "PUT", headers: auth, body: "kept" });
    expect(put.status).toBe(200);
    const snap = await call("/v1/sandboxes/fork-src-w/snapshots", { method: "POST", headers: json, body: JSON.stringify({ name: "w" }) });
    expect(snap.status).toBe(201);
    const snapshot = (await snap.json()) as { id: string; sizeBytes: number };
    expect(snapshot.sizeBytes).toBe(4);
    const listed = (await (await call("/v1/snapshots?sandboxId=fork-src-w", { headers: auth })).json()) as { snapshots: { id: string }[] };
    expect(listed.snapshots.map((s) => s.id)).toEqual([snapshot.id]);
    const before = ((await (await call("/v1/sandboxes", { headers: auth })).json()) as { sandboxes: unknown[] }).sandboxes.length;
    const fork = await call("/v1/sandboxes/fork-src-w/fork", { method: "POST", headers: json, body: JSON.stringify({ count: 2 }) });
    expect(fork.status).toBe(201);
    const copies = ((await fork.json()) as { sandboxes: { id: string }[] }).sandboxes;
    expect(copies).toHaveLength(2);
    for (const copy of copies) expect(await (await call(`/v1/sandboxes/${copy.id}/files/content?path=kept.txt`, { headers: auth })).text()).toBe("kept");
    expect(((await (await call("/v1/sandboxes", { headers: auth })).json()) as { sandboxes: unknown[] }).sandboxes.length).toBe(before + 2);
    // The host's 404 comes back as it is; a bad count is refused as input before the backend is asked.
    expect((await call("/v1/sandboxes", { method: "POST", headers: json, body: JSON.stringify({ fromSnapshot: "snap-x" }) })).status).toBe(404);
    expect((await call("/v1/sandboxes/fork-src-w/fork", { method: "POST", headers: json, body: JSON.stringify({ count: 0 }) })).status).toBe(400);
    for (const copy of copies) await call(`/v1/sandboxes/${copy.id}`, { method: "DELETE", headers: auth });
    expect((await call(`/v1/snapshots/${snapshot.id}`, { method: "DELETE", headers: auth })).status).toBe(204);
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
