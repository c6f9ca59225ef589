/**
 * Background processes and the port proxy through the Worker's REST surface (the RemoteBackend over a
 * real Node host): an HTTP and WebSocket app in two sandboxes on one port, large bodies both ways, a
 * WebSocket echo through the Worker, followed logs across reconnects, kill, delete, git.
 */
import { exports as workerExports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkAppBytes, patternBody } from "../test/backend-contract.ts";
import portApp from "../test/fixtures/port-app.mjs?raw";
import { type SseEvent, readEvents } from "../test/sse.ts";
import { WORKER_TOKEN } from "./constants.ts";

const worker = workerExports as unknown as { default: Fetcher };
const auth = { authorization: `Bearer ${WORKER_TOKEN}` };
const call = (path: string, init: RequestInit = {}) =>
  worker.default.fetch(`http://sandgate${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string> | undefined) } });
async function json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await call(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sandboxes = ["w-port-a", "w-port-b", "w-proc", "w-gone", "w-git"];

beforeAll(async () => {
  for (const id of sandboxes) expect((await json("POST", "/v1/sandboxes", { id })).status).toBe(201);
});
afterAll(async () => {
  for (const id of sandboxes) await call(`/v1/sandboxes/${id}`, { method: "DELETE" });
});

/** Starts port-app.mjs in a sandbox and waits, through the Worker, until it answers HTTP. */
async function startApp(id: string, port: number, name: string): Promise<string> {
  expect((await call(`/v1/sandboxes/${id}/files/content?path=app.mjs`, { method: "PUT", body: portApp })).status).toBe(200);
  const started = await json("POST", `/v1/sandboxes/${id}/processes`, { argv: ["node", "app.mjs", String(port), name], name: "app" });
  expect(started.status).toBe(201);
  const ready = await json("POST", `/v1/sandboxes/${id}/processes/${started.body.id}/wait-for-port`, { port, path: "/", timeoutMs: 20_000 });
  expect(ready.status).toBe(200);
  expect(ready.body.process).toMatchObject({ id: started.body.id, status: "running" });
  return started.body.id;
}

describe("the port proxy through the Worker", () => {
  it("reaches one port number in two sandboxes, each its own app", async () => {
    await Promise.all([startApp("w-port-a", 8080, "a"), startApp("w-port-b", 8080, "b")]);
    for (const name of ["a", "b"]) {
      const res = await call(`/v1/sandboxes/w-port-${name}/ports/8080/hello?x=1`);
      expect(res.status).toBe(200);
      const seen = (await res.json()) as { name: string; url: string; headers: Record<string, string> };
      expect(seen).toMatchObject({ name, url: "/hello?x=1" });
      // The app never sees a credential.
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.headers["x-forwarded-prefix"]).toBe(`/v1/sandboxes/w-port-${name}/ports/8080`);
    }
    const redirect = await call("/v1/sandboxes/w-port-a/ports/8080/redirect", { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("/v1/sandboxes/w-port-a/ports/8080/hello?from=redirect");
    const absolute = await call("/v1/sandboxes/w-port-a/ports/8080/redirect-absolute", { redirect: "manual" });
    expect(absolute.headers.get("location")).toBe("http://sandgate/v1/sandboxes/w-port-a/ports/8080/hello?abs=1");

    const nothing = await call("/v1/sandboxes/w-port-a/ports/8099/");
    expect(nothing.status).toBe(502);
    expect(((await nothing.json()) as { error: { code: string } }).error.code).toBe("upstream_unavailable");
    expect((await worker.default.fetch("http://sandgate/v1/sandboxes/w-port-a/ports/8080/")).status).toBe(401);
  });

  it("streams 10 MiB up and down", async () => {
    const size = 10 * 1024 * 1024;
    const { body, sha256 } = await patternBody(size);
    const posted = await call("/v1/sandboxes/w-port-a/ports/8080/sha256", { method: "POST", body: body() });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toMatchObject({ name: "a", bytes: size, sha256 });
    const got = await call(`/v1/sandboxes/w-port-b/ports/8080/bytes?n=${size}`);
    expect(got.status).toBe(200);
    expect(checkAppBytes(new Uint8Array(await got.arrayBuffer()), size)).toBe(0);
  });

  it("carries a WebSocket through the Worker: 1,000 messages echoed in order", async () => {
    const res = await call("/v1/sandboxes/w-port-b/ports/8080/ws", { headers: { upgrade: "websocket", connection: "Upgrade" } });
    expect(res.status).toBe(101);
    const socket = res.webSocket!;
    socket.accept();
    const received: string[] = [];
    const all = new Promise<void>((resolve, reject) => {
      socket.addEventListener("message", (e) => {
        // Binary messages arrive as Blobs (or ArrayBuffers, by compatibility date).
        const data = e.data as string | Blob | ArrayBuffer;
        received.push(typeof data === "string" ? data : `binary:${data instanceof Blob ? data.size : data.byteLength}`);
        if (received.length === 1000) resolve();
      });
      socket.addEventListener("close", () => reject(new Error(`closed after ${received.length} messages`)));
    });
    const sent: string[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 100 === 99) {
        socket.send(new Uint8Array(i));
        sent.push(`binary:${i}`);
      } else {
        socket.send(`message ${i} ${"x".repeat(i % 50)}`);
        sent.push(`message ${i} ${"x".repeat(i % 50)}`);
      }
    }
    await all;
    expect(received).toEqual(sent);
    socket.close(1000, "done");
  });
});

describe("background processes through the Worker", () => {
  it("follows a printing process across reconnects: every line exactly once, then exit", async () => {
    const command = 'for i in $(seq 1 80); do echo "line $i"; [ $((i % 16)) = 0 ] && echo "warn $i" >&2; sleep 0.02; done';
    const started = await json("POST", "/v1/sandboxes/w-proc/processes", { command });
    expect(started.status).toBe(201);
    const pid = started.body.id;
    const received: SseEvent[] = [];
    let offset = 0;
    let connections = 0;
    for (;;) {
      expect(++connections).toBeLessThan(200);
      const res = await call(`/v1/sandboxes/w-proc/processes/${pid}/logs/stream?offset=${offset}`);
      expect(res.status).toBe(200);
      let seen = 0;
      // Hang up after a few events while it runs, then come back from the last offset.
      const events = await readEvents(res, (e) => ++seen >= 5 && e.event !== "exit");
      received.push(...events);
      const last = events.at(-1);
      if (last?.event === "exit") break;
      if (last?.data.nextOffset !== undefined) offset = last.data.nextOffset;
    }
    expect(connections).toBeGreaterThan(2);
    const output = received.filter((e) => e.event === "stdout" || e.event === "stderr");
    let at = 0;
    for (const e of output) {
      expect(e.data.offset).toBe(at);
      at = e.data.nextOffset;
    }
    expect(output.filter((e) => e.event === "stdout").map((e) => e.data.data).join("")).toBe(Array.from({ length: 80 }, (_, i) => `line ${i + 1}\n`).join(""));
    expect(output.filter((e) => e.event === "stderr").map((e) => e.data.data).join("")).toBe("warn 16\nwarn 32\nwarn 48\nwarn 64\nwarn 80\n");
    expect(received.filter((e) => e.event === "exit").map((e) => e.data)).toEqual([{ type: "exit", status: "exited", exitCode: 0, nextOffset: at }]);
    const logs = await json("GET", `/v1/sandboxes/w-proc/processes/${pid}/logs?offset=${at - 8}`);
    expect(logs.body).toMatchObject({ stderr: "warn 80\n", nextOffset: at, status: "exited" });
  });

  it("kills a process and its children", async () => {
    // A child beats into a file (renamed into place, so a read never meets half a write); once the tree is gone, it stops.
    const command = "(while true; do date +%s%N > beat.new; mv beat.new beat; sleep 0.05; done) & sleep 600 & while true; do sleep 0.05; done";
    const pid = (await json("POST", "/v1/sandboxes/w-proc/processes", { command, name: "tree" })).body.id;
    const beat = async () => (await call("/v1/sandboxes/w-proc/files/content?path=beat")).text();
    let lastBeat = "";
    await until(async () => ((lastBeat = await beat()).match(/^\d+\n$/) ? true : undefined)).catch((err) => {
      throw new Error(`${err.message}: ${lastBeat}`);
    });
    const killed = await json("DELETE", `/v1/sandboxes/w-proc/processes/${pid}?signal=TERM`);
    expect(killed.status).toBe(200);
    expect(killed.body).toMatchObject({ id: pid, name: "tree", status: "killed" });
    const first = await beat();
    await new Promise((r) => setTimeout(r, 400));
    expect(await beat()).toBe(first);
    const listed = await json("GET", "/v1/sandboxes/w-proc/processes");
    expect(listed.body.processes.find((p: { id: string }) => p.id === pid)).toMatchObject({ status: "killed" });
  });

  it("ends a sandbox's processes when the sandbox is deleted", async () => {
    const pid = await startApp("w-gone", 8090, "gone");
    expect((await call("/v1/sandboxes/w-gone/ports/8090/")).status).toBe(200);
    expect((await call("/v1/sandboxes/w-gone", { method: "DELETE" })).status).toBe(204);
    expect((await json("GET", `/v1/sandboxes/w-gone/processes/${pid}`)).status).toBe(404);
    expect((await call("/v1/sandboxes/w-gone/ports/8090/")).status).toBe(404);
    expect((await json("POST", "/v1/sandboxes", { id: "w-gone" })).status).toBe(201);
    expect((await json("GET", "/v1/sandboxes/w-gone/processes")).body).toEqual({ processes: [] });
    expect((await call("/v1/sandboxes/w-gone/ports/8090/")).status).toBe(502);
  });

  it("replaces the sandbox-wide env through PATCH", async () => {
    const patched = await json("PATCH", "/v1/sandboxes/w-proc", { env: { GREETING: "patched" } });
    expect(patched.status).toBe(200);
    expect(patched.body.network).toBe("egress");
    const run = await json("POST", "/v1/sandboxes/w-proc/exec", { command: 'echo "$GREETING"' });
    expect(run.body.stdout).toBe("patched\n");
  });

  it("clones a bare repository", async () => {
    const setup = await json("POST", "/v1/sandboxes/w-git/exec", {
      command:
        "set -e; git init -q -b main src; cd src; echo hi > README; git add README; git -c user.name=t -c user.email=t@example.com commit -q -m one; cd ..; git clone -q --bare src origin.git",
    });
    expect(setup.body).toMatchObject({ exitCode: 0 });
    const cloned = await json("POST", "/v1/sandboxes/w-git/git/checkout", { url: "file:///workspace/origin.git", dir: "repo" });
    expect(cloned.status).toBe(201);
    expect(cloned.body).toMatchObject({ dir: "/workspace/repo", branch: "main" });
    expect(await (await call("/v1/sandboxes/w-git/files/content?path=repo/README")).text()).toBe("hi\n");
  });
});
