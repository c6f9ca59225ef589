/**
 * Snapshots through the remote backend: this side's REST app (core over RemoteBackend) forwards every
 * snapshot operation to a real Node host, whose own API is checked to hold what was forwarded.
 */
import { zstdDecompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteBackend } from "../src/backends/remote/index.ts";
import { SandgateCore } from "../src/core/core.ts";
import { createRestApp } from "../src/surfaces/rest.ts";
import { type TestHost, startHost } from "./host.ts";

let host: TestHost;
let front: { json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>; raw(method: string, path: string, body?: BodyInit, headers?: Record<string, string>): Promise<Response> };

beforeAll(async () => {
  host = await startHost({ token: "upstream" });
  const app = createRestApp({ core: new SandgateCore(new RemoteBackend({ url: host.url, token: "upstream" })), auth: { token: "front", protectDocs: false } });
  const auth = { authorization: "Bearer front" };
  const raw = (method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}) => Promise.resolve(app.request(path, { method, headers: { ...auth, ...headers }, body, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit));
  front = {
    raw,
    async json(method, path, body) {
      const res = await app.request(path, { method, headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}, 60_000);
afterAll(async () => {
  await host?.stop();
});

describe("RemoteBackend snapshots (to a real Node host)", () => {
  it("create, list, get, update, export, import, restore, fromSnapshot, fork and delete forward; errors keep their codes", async () => {
    const sh = async (id: string, command: string) => (await front.json("POST", `/v1/sandboxes/${id}/exec`, { command })).body as { stdout: string; exitCode: number };
    expect((await front.json("POST", "/v1/sandboxes", { id: "rs-a" })).status).toBe(201);
    await sh("rs-a", "mkdir -p d empty && echo hello > d/f.txt && ln -s d/f.txt link && echo skip > skip.log");

    const snap = await front.json("POST", "/v1/sandboxes/rs-a/snapshots", { name: "one", labels: { k: "v" }, excludes: ["*.log"], ttlSeconds: 3600 });
    expect(snap.status, JSON.stringify(snap.body)).toBe(201);
    expect(snap.body).toMatchObject({ sandboxId: "rs-a", name: "one", labels: { k: "v" }, sizeBytes: 6 });
    expect(Date.parse(snap.body.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    // The upstream holds the very snapshot this side answered.
    expect((await host.json("GET", `/v1/snapshots/${snap.body.id}`)).body.digest).toBe(snap.body.digest);

    const listed = await front.json("GET", "/v1/snapshots?sandboxId=rs-a&label=k:v");
    expect(listed.body.snapshots.map((s: { id: string }) => s.id)).toEqual([snap.body.id]);
    expect((await front.json("GET", "/v1/snapshots?label=k:other")).body.snapshots).toEqual([]);
    expect((await front.json("GET", `/v1/snapshots/${snap.body.id}`)).body.id).toBe(snap.body.id);

    const patched = await front.json("PATCH", `/v1/snapshots/${snap.body.id}`, { labels: { k: "w" }, ttlSeconds: null });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ labels: { k: "w" }, expiresAt: null });
    expect((await host.json("GET", `/v1/snapshots/${snap.body.id}`)).body.labels).toEqual({ k: "w" });

    // Break the workspace, restore, and the old tree is back (the excluded file is not).
    await sh("rs-a", "rm -rf d link empty && echo junk > junk");
    const restored = await front.json("POST", "/v1/sandboxes/rs-a/restore", { snapshotId: snap.body.id });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(restored.body).toMatchObject({ sandbox: { id: "rs-a" }, snapshot: { id: snap.body.id }, killedProcesses: 0 });
    expect((await sh("rs-a", "cat link; ls -a | tr '\\n' ' '")).stdout).toBe("hello\n. .. d empty link ");

    // Restore while a background process runs: 409 from the upstream, then killProcesses.
    const proc = await front.json("POST", "/v1/sandboxes/rs-a/processes", { argv: ["sleep", "600"] });
    expect(proc.status).toBe(201);
    expect((await front.json("POST", "/v1/sandboxes/rs-a/restore", { snapshotId: snap.body.id })).body.error.code).toBe("conflict");
    const killed = await front.json("POST", "/v1/sandboxes/rs-a/restore", { snapshotId: snap.body.id, killProcesses: true });
    expect(killed.status, JSON.stringify(killed.body)).toBe(200);
    expect(killed.body.killedProcesses).toBe(1);

    const copy = await front.json("POST", "/v1/sandboxes", { id: "rs-b", fromSnapshot: snap.body.id });
    expect(copy.status, JSON.stringify(copy.body)).toBe(201);
    expect((await sh("rs-b", "cat d/f.txt")).stdout).toBe("hello\n");

    // Export streams the upstream's tar; importing it back makes an equal tree.
    const archive = await front.raw("GET", `/v1/snapshots/${snap.body.id}/archive`);
    expect(archive.status).toBe(200);
    expect(archive.headers.get("content-type")).toContain("application/x-tar");
    const bytes = new Uint8Array(await archive.arrayBuffer());
    const imported = await front.raw("POST", "/v1/snapshots?name=imp&label=from:remote&ttlSeconds=600", new Blob([bytes]).stream());
    const importedBody = (await imported.json()) as { id: string; digest: string; name: string; labels: Record<string, string>; sandboxId: string | null; expiresAt: string };
    expect(imported.status, JSON.stringify(importedBody)).toBe(201);
    expect(importedBody).toMatchObject({ digest: snap.body.digest, name: "imp", labels: { from: "remote" }, sandboxId: null });
    expect(Date.parse(importedBody.expiresAt) - Date.now()).toBeGreaterThan(500_000);
    // Asked for zstd through the front, the upstream compresses it and the Content-Type comes through.
    const zstd = await front.raw("GET", `/v1/snapshots/${snap.body.id}/archive`, undefined, { accept: "application/zstd" });
    expect(zstd.headers.get("content-type")).toBe("application/zstd");
    const zstdBytes = new Uint8Array(await zstd.arrayBuffer());
    expect([...zstdBytes.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    expect(Buffer.compare(zstdDecompressSync(zstdBytes), Buffer.from(bytes))).toBe(0);
    // A truncated archive: the upstream's 400 comes back as it is, and nothing new is listed.
    const before = (await host.json("GET", "/v1/snapshots")).body.snapshots.length;
    const truncated = await front.raw("POST", "/v1/snapshots", new Blob([bytes.subarray(0, 700)]).stream());
    expect(truncated.status).toBe(400);
    expect((await host.json("GET", "/v1/snapshots")).body.snapshots.length).toBe(before);

    const forked = await front.json("POST", "/v1/sandboxes/rs-a/fork", { count: 2, labels: { f: "1" } });
    expect(forked.status, JSON.stringify(forked.body)).toBe(201);
    expect(forked.body.sandboxes).toHaveLength(2);
    for (const sandbox of forked.body.sandboxes as { id: string }[]) expect((await sh(sandbox.id, "cat d/f.txt")).stdout).toBe("hello\n");
    // The fork's own snapshot was deleted upstream.
    expect((await host.json("GET", "/v1/snapshots?label=sandgate.fork-of:rs-a")).body.snapshots).toEqual([]);

    // Paging through the forwarded list.
    const page1 = await front.json("GET", "/v1/snapshots?limit=1");
    expect(page1.body.snapshots).toHaveLength(1);
    const page2 = await front.json("GET", `/v1/snapshots?limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body.snapshots).toHaveLength(1);
    expect(page2.body.snapshots[0].id).not.toBe(page1.body.snapshots[0].id);

    expect((await front.json("DELETE", `/v1/snapshots/${importedBody.id}`)).status).toBe(204);
    expect((await host.json("GET", `/v1/snapshots/${importedBody.id}`)).status).toBe(404);
    expect((await front.json("GET", "/v1/snapshots/nope")).body.error.code).toBe("not_found");
    expect((await front.json("GET", "/v1/snapshots/nope")).status).toBe(404);
    expect((await front.json("POST", "/v1/sandboxes", { fromSnapshot: "nope" })).status).toBe(404);
  }, 180_000);
});
