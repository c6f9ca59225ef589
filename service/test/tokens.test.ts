/**
 * Scoped tokens and port links are bound to one instance of a sandbox and never outlive what minted
 * them, tried as an attacker would on a real Node host (real sandboxes, REST, the port proxy and Cap'n
 * Web over real sockets): a token kept after its sandbox was deleted and re-created under the same id,
 * a long link minted with a short token, a WebSocket session held open past its token's expiry.
 */
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { type RpcStub, newHttpBatchRpcSession, newWebSocketRpcSession } from "capnweb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { SandgateRpc } from "../src/surfaces/rpc.ts";
import { type TestHost, eventually, removeDir, startHost, tempDir } from "./host.ts";

const TOKEN = "tokens-test-api-token";
const APP = readFileSync(new URL("./fixtures/port-app.mjs", import.meta.url));
const UNAUTHORIZED = { error: { code: "unauthorized", message: "missing or invalid token" } };
const ALL_SCOPES = ["sandbox:read", "exec", "files:read", "files:write", "ports"];

let host: TestHost;
beforeAll(async () => {
  host = await startHost({ token: TOKEN });
});
afterAll(async () => {
  await host.stop();
});

interface Minted {
  token: string;
  expiresAt: string;
}

async function mint(sandboxId: string, scopes: string[], ttlSeconds?: number): Promise<Minted> {
  const res = await host.json("POST", "/v1/tokens", { sandboxId, scopes, ...(ttlSeconds ? { ttlSeconds } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A request with `token` (a scoped token, or the API token) and a JSON body if given. */
function as(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const isJson = body !== undefined && typeof body !== "string";
  return fetch(host.url + path, {
    method,
    redirect: "manual",
    headers: { authorization: `Bearer ${token}`, ...(isJson ? { "content-type": "application/json" } : {}), ...headers },
    body: isJson ? JSON.stringify(body) : (body as string | undefined),
  });
}

async function create(id: string): Promise<{ id: string; instance: string }> {
  const res = await host.json("POST", "/v1/sandboxes", { id });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function recreate(id: string): Promise<{ id: string; instance: string }> {
  expect((await host.call("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
  return create(id);
}

async function startApp(id: string, port: number, name: string): Promise<void> {
  expect((await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=port-app.mjs`, APP)).status).toBe(200);
  const started = await host.json("POST", `/v1/sandboxes/${id}/processes`, { argv: ["node", "port-app.mjs", String(port), name] });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const ready = await host.json("POST", `/v1/sandboxes/${id}/processes/${started.body.id}/wait-for-port`, { port, timeoutMs: 30_000 });
  expect(ready.status, JSON.stringify(ready.body)).toBe(200);
}

/** Signs claims the way the service does (HMAC-SHA256, key from the API token): tokens of any vintage, minted here. */
function sign(claims: object, context: string, prefix: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const key = createHash("sha256").update(`${context}\n${TOKEN}`).digest();
  return `${prefix}${payload}.${createHmac("sha256", key).update(payload).digest("base64url")}`;
}

/** Every route a scoped token with all scopes reaches on sandbox `id`. */
function sandboxRoutes(id: string): [string, string, unknown?][] {
  const base = `/v1/sandboxes/${id}`;
  return [
    ["GET", base],
    ["POST", `${base}/exec`, { command: "cat secret" }],
    ["POST", `${base}/exec/stream`, { command: "cat secret" }],
    ["GET", `${base}/files/content?path=secret`],
    ["PUT", `${base}/files/content?path=planted`, "planted by the old token"],
    ["POST", `${base}/files/read`, { path: "secret" }],
    ["POST", `${base}/files/write`, { path: "planted", content: "x" }],
    ["GET", `${base}/files?path=/workspace`],
    ["GET", `${base}/files/stat?path=secret`],
    ["POST", `${base}/files/mkdir`, { path: "planted-dir" }],
    ["POST", `${base}/files/move`, { from: "secret", to: "stolen" }],
    ["DELETE", `${base}/files?path=secret`],
    ["POST", `${base}/processes`, { command: "sleep 60" }],
    ["GET", `${base}/processes`],
    ["POST", `${base}/port-links`, { port: 8080 }],
    ["GET", `${base}/ports/8080/`],
  ];
}

/** The new owner's sandbox is as it was: only its secret, unchanged, and no process started. */
async function untouched(id: string, secret: string): Promise<void> {
  const listed = await host.json("GET", `/v1/sandboxes/${id}/files?path=/workspace`);
  expect(listed.body.entries.map((e: { path: string }) => e.path)).toEqual(["/workspace/secret"]);
  expect(await (await host.call("GET", `/v1/sandboxes/${id}/files/content?path=secret`)).text()).toBe(secret);
  expect((await host.json("GET", `/v1/sandboxes/${id}/processes`)).body.processes).toEqual([]);
}

describe("scoped tokens are bound to the sandbox's instance", () => {
  it("gives every sandbox an instance of its own, a new one when the id is re-created", async () => {
    const first = await create("inst");
    expect(first.instance).toMatch(/^i-[a-z2-7]{20}$/);
    expect((await host.json("GET", "/v1/sandboxes/inst")).body.instance).toBe(first.instance);
    expect((await host.json("PATCH", "/v1/sandboxes/inst", { labels: { a: "b" } })).body.instance).toBe(first.instance);
    const second = await recreate("inst");
    expect(second.instance).toMatch(/^i-[a-z2-7]{20}$/);
    expect(second.instance).not.toBe(first.instance);
  });

  it("refuses a token on a re-created id with 401 on every route, and the new owner's token works", async () => {
    await create("reborn");
    const old = await mint("reborn", ALL_SCOPES);
    // Positive control: the token works on the sandbox it was minted for.
    const ran = await as(old.token, "POST", "/v1/sandboxes/reborn/exec", { command: "echo mine > mine; echo ok" });
    expect(await ran.json()).toMatchObject({ exitCode: 0, stdout: "ok\n" });

    // Deleted: the token answers 401, not 404 (it is dead, whatever the id holds).
    expect((await host.call("DELETE", "/v1/sandboxes/reborn")).status).toBe(204);
    const gone = await as(old.token, "GET", "/v1/sandboxes/reborn");
    expect(gone.status).toBe(401);
    expect(await gone.json()).toEqual(UNAUTHORIZED);

    // Someone else creates the same id and keeps a secret there.
    await create("reborn");
    const secret = "the new owner's secret";
    expect((await host.call("PUT", "/v1/sandboxes/reborn/files/content?path=secret", secret)).status).toBe(200);
    for (const [method, path, body] of sandboxRoutes("reborn")) {
      const res = await as(old.token, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(await res.json(), `${method} ${path}`).toEqual(UNAUTHORIZED);
    }
    await untouched("reborn", secret);

    // A token minted for the new sandbox works there.
    const fresh = await mint("reborn", ["files:read"]);
    const read = await as(fresh.token, "GET", "/v1/sandboxes/reborn/files/content?path=secret");
    expect(read.status).toBe(200);
    expect(await read.text()).toBe(secret);
  });

  it("keeps a sandbox's instance, and so its tokens, across a restart of the host", async () => {
    const dataDir = tempDir();
    let restarted = await startHost({ token: TOKEN, dataDir });
    try {
      const created = await restarted.json("POST", "/v1/sandboxes", { id: "lasting" });
      const minted = await restarted.json("POST", "/v1/tokens", { sandboxId: "lasting", scopes: ["sandbox:read"] });
      await restarted.stop();
      restarted = await startHost({ token: TOKEN, dataDir });
      const res = await fetch(`${restarted.url}/v1/sandboxes/lasting`, { headers: { authorization: `Bearer ${minted.body.token}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { instance: string }).instance).toBe(created.body.instance);
    } finally {
      await restarted.stop();
      removeDir(dataDir);
    }
  });

  it("refuses tokens minted before instances existed, and honours the same claims bound to the instance", async () => {
    const { instance } = await create("vintage");
    const expires = new Date(Date.now() + 600_000).toISOString();
    const legacy = sign({ sb: "vintage", sc: ["exec"], exp: expires }, "sandgate scoped tokens v1", "sgs1.");
    const res = await as(legacy, "POST", "/v1/sandboxes/vintage/exec", { command: "true" });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(UNAUTHORIZED);
    // Positive control: the signing above is the service's own; with the instance the token holds.
    const bound = sign({ sb: "vintage", in: instance, sc: ["exec"], exp: expires }, "sandgate scoped tokens v1", "sgs1.");
    expect(await (await as(bound, "POST", "/v1/sandboxes/vintage/exec", { command: "echo bound" })).json()).toMatchObject({ stdout: "bound\n" });
    // An instance that is not this sandbox's (a well-formed one, signed): refused.
    const other = sign({ sb: "vintage", in: "i-aaaaaaaaaaaaaaaaaaaa", sc: ["exec"], exp: expires }, "sandgate scoped tokens v1", "sgs1.");
    expect((await as(other, "POST", "/v1/sandboxes/vintage/exec", { command: "true" })).status).toBe(401);
  });
});

describe("port links", () => {
  beforeAll(async () => {
    await create("linked");
    await startApp("linked", 8080, "first");
  }, 60_000);

  async function link(id: string, body: Record<string, unknown>, token = TOKEN): Promise<{ path: string; expiresAt: string }> {
    const res = await as(token, "POST", `/v1/sandboxes/${id}/port-links`, body);
    expect(res.status).toBe(201);
    return (await res.json()) as { path: string; expiresAt: string };
  }

  /** Opens a link as a browser does: the redirect, then the page with the cookie it set. */
  async function open(path: string): Promise<{ status: number; cookie?: string; page?: Response }> {
    const first = await fetch(host.url + path, { redirect: "manual" });
    if (first.status !== 302) return { status: first.status };
    const cookie = first.headers.getSetCookie()[0]!;
    const page = await fetch(host.url + first.headers.get("location")!, { headers: { cookie: cookie.split(";")[0]! } });
    return { status: first.status, cookie, page };
  }

  /** The status a WebSocket upgrade to the app gets with this link in its URL. */
  function upgradeWith(path: string): Promise<number> {
    const url = `${host.url.replace(/^http/, "ws")}${path.replace("/ports/8080/", "/ports/8080/ws")}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once("open", () => {
        ws.close();
        resolve(101);
      });
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      ws.once("error", reject);
    });
  }

  it("stops working when its sandbox is re-created, links and their cookies alike", async () => {
    const old = await link("linked", { port: 8080 });
    const opened = await open(old.path);
    expect(opened.status).toBe(302);
    expect(((await opened.page!.json()) as { name: string }).name).toBe("first");
    expect(await upgradeWith(old.path)).toBe(101);
    const cookie = opened.cookie!.split(";")[0]!;

    await recreate("linked");
    await startApp("linked", 8080, "second");
    const again = await fetch(host.url + old.path, { redirect: "manual" });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const withCookie = await fetch(`${host.url}/v1/sandboxes/linked/ports/8080/`, { headers: { cookie } });
    expect(withCookie.status).toBe(401);
    expect(await upgradeWith(old.path)).toBe(401);

    // Positive control: a link minted now opens the new app.
    const fresh = await open((await link("linked", { port: 8080 })).path);
    expect(((await fresh.page!.json()) as { name: string }).name).toBe("second");
  });

  it("refuses links minted before instances existed, and honours the same claims bound to the instance", async () => {
    const { instance } = (await host.json("GET", "/v1/sandboxes/linked")).body as { instance: string };
    const exp = new Date(Date.now() + 600_000).toISOString();
    const path = (link: string) => `/v1/sandboxes/linked/ports/8080/?sandgate_link=${link}`;
    const legacy = sign({ sb: "linked", p: 8080, exp }, "sandgate port links v1", "sgl1.");
    expect((await fetch(host.url + path(legacy), { redirect: "manual" })).status).toBe(401);
    const bound = sign({ sb: "linked", in: instance, p: 8080, exp }, "sandgate port links v1", "sgl1.");
    expect((await open(path(bound))).page!.status).toBe(200);
  });

  it("never outlives the scoped token that minted it", async () => {
    const short = await mint("linked", ["ports"], 3);
    const week = 7 * 24 * 3600;
    const minted = await link("linked", { port: 8080, ttlSeconds: week }, short.token);
    expect(minted.expiresAt).toBe(short.expiresAt);
    // While the token lives, the link works, and its cookie lasts no longer than the token.
    const opened = await open(minted.path);
    expect(opened.status).toBe(302);
    expect(Number(/Max-Age=(\d+)/.exec(opened.cookie!)![1])).toBeLessThanOrEqual(3);
    expect(opened.page!.status).toBe(200);
    const cookie = opened.cookie!.split(";")[0]!;
    // The API token's link keeps its week (control: the cap is the minting token's).
    const long = await link("linked", { port: 8080, ttlSeconds: week });
    expect(Date.parse(long.expiresAt) - Date.now()).toBeGreaterThan((week - 60) * 1000);

    await eventually(() => Date.now() > Date.parse(short.expiresAt) + 100, 10_000);
    expect((await fetch(host.url + minted.path, { redirect: "manual" })).status).toBe(401);
    expect((await fetch(`${host.url}/v1/sandboxes/linked/ports/8080/`, { headers: { cookie } })).status).toBe(401);
    expect(await upgradeWith(minted.path)).toBe(401);
    expect((await as(short.token, "GET", "/v1/sandboxes/linked/ports/8080/")).status).toBe(401);
    const stillOpen = await open(long.path);
    expect(stillOpen.page!.status).toBe(200);
  });
});

describe("Cap'n Web sessions", () => {
  const wsUrl = () => `${host.url.replace("http", "ws")}/rpc`;
  function session(token: string): { api: RpcStub<SandgateRpc>; close(): void } {
    // Node's WebSocket (undici) takes headers, so the token never goes into the URL.
    const socket = new globalThis.WebSocket(wsUrl(), { headers: { authorization: `Bearer ${token}` } } as unknown as string[]);
    const api = newWebSocketRpcSession<SandgateRpc>(socket);
    return { api, close: () => socket.close() };
  }

  it("stop honouring a token once it expires: the next call answers unauthorized", async () => {
    await create("rpc-expiring");
    const short = await mint("rpc-expiring", ["exec", "sandbox:read"], 2);
    const scoped = session(short.token);
    const admin = session(TOKEN);
    try {
      expect(await scoped.api.sandbox("rpc-expiring").exec({ command: "echo before" })).toMatchObject({ stdout: "before\n" });
      await eventually(() => Date.now() > Date.parse(short.expiresAt) + 100, 10_000);
      await expect(scoped.api.sandbox("rpc-expiring").exec({ command: "echo after" })).rejects.toMatchObject({ code: "unauthorized" });
      await expect(scoped.api.getSandbox({ id: "rpc-expiring" })).rejects.toMatchObject({ code: "unauthorized" });
      // REST agrees, and an HTTP batch with the token is refused before any call.
      expect((await as(short.token, "GET", "/v1/sandboxes/rpc-expiring")).status).toBe(401);
      const batch = newHttpBatchRpcSession<SandgateRpc>(new Request(`${host.url}/rpc`, { headers: { authorization: `Bearer ${short.token}` } }));
      await expect(batch.getSandbox({ id: "rpc-expiring" })).rejects.toThrow(/401/);
      // Control: a session on the API token, opened at the same time, goes on.
      expect(await admin.api.sandbox("rpc-expiring").exec({ command: "echo admin" })).toMatchObject({ stdout: "admin\n" });
    } finally {
      scoped.close();
      admin.close();
    }
  });

  it("stop honouring a token whose sandbox is deleted or re-created", async () => {
    await create("rpc-reborn");
    await create("rpc-bystander");
    const doomed = await mint("rpc-reborn", ["exec", "files:read"]);
    const bystander = await mint("rpc-bystander", ["exec"]);
    const scoped = session(doomed.token);
    const other = session(bystander.token);
    try {
      expect(await scoped.api.sandbox("rpc-reborn").exec({ command: "echo alive" })).toMatchObject({ stdout: "alive\n" });
      expect((await host.call("DELETE", "/v1/sandboxes/rpc-reborn")).status).toBe(204);
      await expect(scoped.api.sandbox("rpc-reborn").exec({ command: "true" })).rejects.toMatchObject({ code: "unauthorized" });
      await create("rpc-reborn");
      expect((await host.call("PUT", "/v1/sandboxes/rpc-reborn/files/content?path=secret", "theirs")).status).toBe(200);
      await expect(scoped.api.sandbox("rpc-reborn").exec({ command: "cat secret" })).rejects.toMatchObject({ code: "unauthorized" });
      await expect(scoped.api.sandbox("rpc-reborn").readFileJson({ path: "secret" })).rejects.toMatchObject({ code: "unauthorized" });
      // Controls: another sandbox's session is unaffected; a token for the new sandbox works in a new session.
      expect(await other.api.sandbox("rpc-bystander").exec({ command: "echo fine" })).toMatchObject({ stdout: "fine\n" });
      const fresh = session((await mint("rpc-reborn", ["files:read"])).token);
      try {
        expect(await fresh.api.sandbox("rpc-reborn").readFileJson({ path: "secret" })).toMatchObject({ content: "theirs" });
      } finally {
        fresh.close();
      }
    } finally {
      scoped.close();
      other.close();
    }
  });
});
