/**
 * Every operationId of openapi/openapi.json is reachable from the TypeScript client: each maps to a
 * client call below (the ergonomic methods, or the typed `raw` client for the compat profile), and the
 * call is checked to send exactly that operation's method and path. No host needed: a recording fetch.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSandgateClient, type SandgateClient } from "../src/index.ts";

interface Document {
  paths: Record<string, Record<string, { operationId?: string }>>;
}
const document = JSON.parse(readFileSync(new URL("../../openapi/openapi.json", import.meta.url), "utf8")) as Document;

const id = "sb-1";
const drain = async (events: AsyncIterable<unknown>) => {
  for await (const _ of events) void _;
};

/** operationId → a call that reaches it. */
const calls: Record<string, (c: SandgateClient) => Promise<unknown>> = {
  health: (c) => c.health(),
  createSandbox: (c) => c.sandboxes.create({ ttlSeconds: 60 }),
  listSandboxes: (c) => c.sandboxes.list({ label: "a:b" }),
  getSandbox: (c) => c.sandbox(id).get(),
  updateSandbox: (c) => c.sandbox(id).update({ extendBySeconds: 1 }),
  deleteSandbox: (c) => c.sandbox(id).delete(),
  exec: (c) => c.sandbox(id).exec("true"),
  execStream: (c) => drain(c.sandbox(id).execStream("true")),
  readFile: (c) => c.sandbox(id).files.read("f"),
  writeFile: (c) => c.sandbox(id).files.write("f", "x"),
  readFileJson: (c) => c.sandbox(id).files.readJson("f"),
  writeFileJson: (c) => c.sandbox(id).files.writeJson("f", "x"),
  listFiles: (c) => c.sandbox(id).files.list(),
  statFile: (c) => c.sandbox(id).files.stat("f"),
  mkdir: (c) => c.sandbox(id).files.mkdir("d"),
  moveFile: (c) => c.sandbox(id).files.move("a", "b"),
  deleteFile: (c) => c.sandbox(id).files.delete("f"),
  createToken: (c) => c.createToken({ sandboxId: id, scopes: ["exec"] }),
  startProcess: (c) => c.sandbox(id).startProcess("sleep 1"),
  listProcesses: (c) => c.sandbox(id).listProcesses(),
  getProcess: (c) => c.sandbox(id).process("p-1").get(),
  getProcessLogs: (c) => c.sandbox(id).process("p-1").logs({ offset: 0 }),
  streamProcessLogs: (c) => drain(c.sandbox(id).process("p-1").follow()),
  killProcess: (c) => c.sandbox(id).process("p-1").kill("KILL"),
  waitForPort: (c) => c.sandbox(id).process("p-1").waitForPort(8080),
  waitForLog: (c) => c.sandbox(id).process("p-1").waitForLog("ready"),
  createPortLink: (c) => c.sandbox(id).portLink(8080),
  gitCheckout: (c) => c.sandbox(id).gitCheckout("file:///workspace/origin.git"),
  createSnapshot: (c) => c.sandbox(id).snapshot({ excludes: ["node_modules"] }),
  restoreSnapshot: (c) => c.sandbox(id).restore("snap-1", { killProcesses: true }),
  forkSandbox: (c) => c.sandbox(id).fork(2, { labels: { k: "v" } }),
  listSnapshots: (c) => c.snapshots.list({ sandboxId: id }),
  getSnapshot: (c) => c.snapshots.get("snap-1"),
  deleteSnapshot: (c) => c.snapshots.delete("snap-1"),
  updateSnapshot: (c) => c.snapshots.update("snap-1", { labels: { k: "v" }, ttlSeconds: null }),
  exportSnapshot: (c) => c.snapshots.export("snap-1"),
  importSnapshot: (c) => c.snapshots.import(new Uint8Array(1024), { name: "imported" }),
  // The compat profile (seed-001 format) has no ergonomic methods; the typed raw client reaches it.
  compatCreate: (c) => c.raw.POST("/sandbox/create", { body: { sandbox_id: id } }),
  compatGet: (c) => c.raw.GET("/sandbox/{sandbox_id}", { params: { path: { sandbox_id: id } } }),
  compatUpdate: (c) => c.raw.POST("/sandbox/{sandbox_id}/update", { params: { path: { sandbox_id: id } }, body: { keepalive_longer_by_seconds: 1 } }),
  compatKill: (c) => c.raw.POST("/sandbox/{sandbox_id}/kill", { params: { path: { sandbox_id: id } } }),
  compatExec: (c) => c.raw.POST("/sandbox/{sandbox_id}/exec", { params: { path: { sandbox_id: id } }, body: { command: "true" } }),
  compatDownload: (c) => c.raw.POST("/sandbox/{sandbox_id}/download", { params: { path: { sandbox_id: id } }, body: { file_path: "f" } }),
  compatUpload: (c) => c.raw.POST("/sandbox/{sandbox_id}/upload", { params: { path: { sandbox_id: id } }, body: { file_path: "f", content: "x" } }),
};

const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).flatMap(([method, op]) => (op.operationId ? [{ operationId: op.operationId, method: method.toUpperCase(), path }] : [])),
);

function recordingClient(): { client: SandgateClient; requests: { method: string; path: string }[] } {
  const requests: { method: string; path: string }[] = [];
  const client = createSandgateClient({
    baseUrl: "http://sandgate.test",
    token: "t",
    fetch: async (request) => {
      requests.push({ method: request.method, path: new URL(request.url).pathname });
      if (request.method === "DELETE") return new Response(null, { status: 204 });
      if (request.url.includes("/logs/stream")) return new Response('event: exit\ndata: {"type":"exit","status":"exited","exitCode":0,"nextOffset":0}\n\n', { headers: { "content-type": "text/event-stream" } });
      if (request.url.includes("/exec/stream")) return new Response('event: exit\ndata: {"type":"exit","exitCode":0,"durationMs":1,"timedOut":false}\n\n', { headers: { "content-type": "text/event-stream" } });
      if (request.url.includes("/files/content") && request.method === "GET") return new Response("bytes");
      return Response.json({ id, processes: [], sandboxes: [], path: "/x" });
    },
  });
  return { client, requests };
}

describe("operation coverage", () => {
  it("the document has operations, and the map names exactly the document's operationIds", () => {
    expect(documented.length).toBeGreaterThanOrEqual(24);
    expect(Object.keys(calls).sort()).toEqual(documented.map((d) => d.operationId).sort());
  });

  it.each(documented)("$operationId is reachable: $method $path", async ({ operationId, method, path }) => {
    const call = calls[operationId];
    expect(call, `no client call for ${operationId}`).toBeDefined();
    const { client, requests } = recordingClient();
    await call!(client);
    const template = new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe(method);
    expect(requests[0]!.path).toMatch(template);
  });
});
