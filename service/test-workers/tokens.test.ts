/**
 * Scoped tokens and port links in the Worker (the RemoteBackend over a real Node host): bound to the
 * sandbox's instance, which comes from the host behind the Worker, so a sandbox re-created there (by
 * anyone holding that host's token) ends them too; links capped at the minting token's expiry; Cap'n
 * Web WebSocket sessions that stop honouring a token once it expires or its sandbox goes.
 */
import { env, exports as workerExports } from "cloudflare:workers";
import { newWebSocketRpcSession } from "capnweb";
import { describe, expect, it } from "vitest";
import type { SandgateRpc } from "../src/surfaces/rpc.ts";
import { HOST_TOKEN, WORKER_TOKEN } from "./constants.ts";

const worker = workerExports as unknown as { default: Fetcher };
const UNAUTHORIZED = { error: { code: "unauthorized", message: "missing or invalid token" } };
const NO_LINK = "invalid or expired port link";

function as(token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return worker.default.fetch(`http://sandgate${path}`, {
    method,
    redirect: "manual",
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The Node host behind the Worker, called directly with its own token. */
function onHost(method: string, path: string, body?: unknown): Promise<Response> {
  const isJson = body !== undefined && typeof body !== "string";
  return fetch(`${env.TEST_HOST_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${HOST_TOKEN}`, ...(isJson ? { "content-type": "application/json" } : {}) },
    body: isJson ? JSON.stringify(body) : (body as string | undefined),
  });
}

async function create(id: string): Promise<{ instance: string }> {
  const res = await as(WORKER_TOKEN, "POST", "/v1/sandboxes", { id });
  expect(res.status).toBe(201);
  return (await res.json()) as { instance: string };
}

async function mint(sandboxId: string, scopes: string[], ttlSeconds?: number): Promise<{ token: string; expiresAt: string }> {
  const res = await as(WORKER_TOKEN, "POST", "/v1/tokens", { sandboxId, scopes, ...(ttlSeconds ? { ttlSeconds } : {}) });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; expiresAt: string };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectUnauthorized(res: Response, what: string, message = UNAUTHORIZED.error.message): Promise<void> {
  expect(res.status, what).toBe(401);
  expect(await res.json(), what).toEqual({ error: { code: "unauthorized", message } });
}

async function session(token: string): Promise<{ api: ReturnType<typeof newWebSocketRpcSession<SandgateRpc>>; close(): void }> {
  const res = await worker.default.fetch("http://sandgate/rpc", { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } });
  expect(res.status).toBe(101);
  const socket = res.webSocket!;
  socket.accept();
  return { api: newWebSocketRpcSession<SandgateRpc>(socket as unknown as WebSocket), close: () => socket.close() };
}

describe("scoped tokens through the Worker", () => {
  it("are refused once the sandbox is re-created, through the Worker or on the host behind it", async () => {
    const first = await create("wt-reborn");
    const old = await mint("wt-reborn", ["exec", "files:read", "sandbox:read"]);
    expect(await (await as(old.token, "POST", "/v1/sandboxes/wt-reborn/exec", { command: "echo mine" })).json()).toMatchObject({ stdout: "mine\n" });

    expect((await as(WORKER_TOKEN, "DELETE", "/v1/sandboxes/wt-reborn")).status).toBe(204);
    await expectUnauthorized(await as(old.token, "GET", "/v1/sandboxes/wt-reborn"), "deleted");
    const second = await create("wt-reborn");
    expect(second.instance).not.toBe(first.instance);
    await expectUnauthorized(await as(old.token, "POST", "/v1/sandboxes/wt-reborn/exec", { command: "true" }), "re-created through the Worker");

    // A token for the second sandbox works, until the host behind the Worker re-creates the id itself.
    const secondToken = await mint("wt-reborn", ["files:read"]);
    expect((await as(secondToken.token, "GET", "/v1/sandboxes/wt-reborn/files?path=/workspace")).status).toBe(200);
    expect((await onHost("DELETE", "/v1/sandboxes/wt-reborn")).status).toBe(204);
    expect((await onHost("POST", "/v1/sandboxes", { id: "wt-reborn" })).status).toBe(201);
    expect((await onHost("PUT", "/v1/sandboxes/wt-reborn/files/content?path=secret", "the host's")).status).toBe(200);
    await expectUnauthorized(await as(secondToken.token, "GET", "/v1/sandboxes/wt-reborn/files/content?path=secret"), "re-created on the host");

    const third = await mint("wt-reborn", ["files:read"]);
    const read = await as(third.token, "GET", "/v1/sandboxes/wt-reborn/files/content?path=secret");
    expect(await read.text()).toBe("the host's");
    await as(WORKER_TOKEN, "DELETE", "/v1/sandboxes/wt-reborn");
  });
});

describe("port links through the Worker", () => {
  it("expire with the scoped token that minted them, and with their sandbox", async () => {
    await create("wt-links");
    const short = await mint("wt-links", ["ports"], 2);
    const minted = await as(short.token, "POST", "/v1/sandboxes/wt-links/port-links", { port: 8080, ttlSeconds: 7 * 24 * 3600 });
    expect(minted.status).toBe(201);
    const link = (await minted.json()) as { path: string; expiresAt: string };
    expect(link.expiresAt).toBe(short.expiresAt);
    const long = (await (await as(WORKER_TOKEN, "POST", "/v1/sandboxes/wt-links/port-links", { port: 8080, ttlSeconds: 7 * 24 * 3600 })).json()) as { path: string };

    // A valid link answers the redirect that trades it for a cookie; an invalid one 401.
    const open = (path: string) => worker.default.fetch(`http://sandgate${path}`, { redirect: "manual" });
    expect((await open(link.path)).status).toBe(302);
    await until(() => Date.now() > Date.parse(short.expiresAt) + 100);
    await expectUnauthorized(await open(link.path), "after the minting token expired", NO_LINK);
    expect((await open(long.path)).status).toBe(302); // control: the API token's link keeps its week

    expect((await as(WORKER_TOKEN, "DELETE", "/v1/sandboxes/wt-links")).status).toBe(204);
    await create("wt-links");
    await expectUnauthorized(await open(long.path), "after the sandbox was re-created", NO_LINK);
    const fresh = (await (await as(WORKER_TOKEN, "POST", "/v1/sandboxes/wt-links/port-links", { port: 8080 })).json()) as { path: string };
    expect((await open(fresh.path)).status).toBe(302);
    await as(WORKER_TOKEN, "DELETE", "/v1/sandboxes/wt-links");
  });
});

describe("Cap'n Web WebSocket sessions in the Worker", () => {
  it("answer unauthorized once the token expires, or its sandbox is re-created", async () => {
    await create("wt-rpc");
    const short = await mint("wt-rpc", ["exec"], 2);
    const long = await mint("wt-rpc", ["exec"]);
    const expiring = await session(short.token);
    const doomed = await session(long.token);
    const admin = await session(WORKER_TOKEN);
    try {
      expect(await expiring.api.sandbox("wt-rpc").exec({ command: "echo before" })).toMatchObject({ stdout: "before\n" });
      await until(() => Date.now() > Date.parse(short.expiresAt) + 100);
      await expect(expiring.api.sandbox("wt-rpc").exec({ command: "echo after" })).rejects.toMatchObject({ code: "unauthorized" });

      expect(await doomed.api.sandbox("wt-rpc").exec({ command: "echo alive" })).toMatchObject({ stdout: "alive\n" });
      await admin.api.deleteSandbox({ id: "wt-rpc" });
      await admin.api.createSandbox({ id: "wt-rpc" });
      await expect(doomed.api.sandbox("wt-rpc").exec({ command: "true" })).rejects.toMatchObject({ code: "unauthorized" });
      // Control: the API token's session goes on.
      expect(await admin.api.sandbox("wt-rpc").exec({ command: "echo admin" })).toMatchObject({ stdout: "admin\n" });
    } finally {
      expiring.close();
      doomed.close();
      admin.close();
      await as(WORKER_TOKEN, "DELETE", "/v1/sandboxes/wt-rpc");
    }
  });
});
