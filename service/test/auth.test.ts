import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { newHttpBatchRpcSession } from "capnweb";
import type { SandgateRpc } from "../src/surfaces/rpc.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operations } from "../src/core/operations.ts";
import { type TestHost, badCredentials, eventually, startHost, tempDir } from "./host.ts";

const TOKEN = "s3cret-token-value-that-must-not-leak";
let host: TestHost;
beforeAll(async () => {
  host = await startHost({ token: TOKEN });
  expect((await host.json("POST", "/v1/sandboxes", { id: "authbox" })).status).toBe(201);
});
afterAll(async () => {
  await host.stop();
});

/** A concrete request for every protected operation in the table, so a new operation is covered by default. */
const protectedRoutes = Object.values(operations)
  .filter((op) => !("public" in op && op.public))
  .map((op) => ({ method: op.method.toUpperCase(), path: op.path.replace("{id}", "authbox") + (op.query ? "?path=x" : "") }));

describe("auth", () => {
  it("covers every protected operation", () => {
    expect(protectedRoutes.length).toBe(Object.keys(operations).length - 1);
  });

  const bad = badCredentials(TOKEN);
  for (const [name, headers] of bad) {
    it(`refuses ${name} on every protected route with 401 and no detail`, async () => {
      for (const route of protectedRoutes) {
        const res = await fetch(host.url + route.path, { method: route.method, headers: { ...headers, "content-type": "application/json" }, body: route.method === "GET" || route.method === "DELETE" ? undefined : "{}" });
        expect(res.status, `${route.method} ${route.path}`).toBe(401);
        // RFC 9110: a 401 names the scheme that would succeed.
        expect(res.headers.get("www-authenticate"), `${route.method} ${route.path}`).toBe('Bearer realm="sandgate"');
        expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "missing or invalid token" } });
      }
    });
  }

  it("accepts the token as a bearer or in x-sandgate-token", async () => {
    const viaBearer = await fetch(`${host.url}/v1/sandboxes/authbox`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(viaBearer.status).toBe(200);
    const viaHeader = await fetch(`${host.url}/v1/sandboxes/authbox`, { headers: { "x-sandgate-token": TOKEN } });
    expect(viaHeader.status).toBe(200);
  });

  it("keeps /health and /openapi.json public", async () => {
    expect((await fetch(`${host.url}/health`)).status).toBe(200);
    expect((await fetch(`${host.url}/openapi.json`)).status).toBe(200);
  });

  it("never writes the token to its logs", async () => {
    await fetch(`${host.url}/v1/sandboxes`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(host.logs()).not.toContain(TOKEN);
    expect(host.logs()).not.toContain("auth is OFF");
  });

  it("never hands the token (or any host variable) to sandboxed commands", async () => {
    const res = await host.json("POST", "/v1/sandboxes/authbox/exec", { command: "env; cat /proc/1/cmdline" });
    expect(res.body.stdout).not.toContain(TOKEN);
    expect(res.body.stdout).not.toContain("SANDGATE_");
  });
});

describe("fail closed", () => {
  it("can require the token for the document too", async () => {
    const strict = await startHost({ token: TOKEN, args: ["--protect-docs"] });
    try {
      expect((await fetch(`${strict.url}/openapi.json`)).status).toBe(401);
      expect((await fetch(`${strict.url}/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${strict.url}/health`)).status).toBe(200);
    } finally {
      await strict.stop();
    }
  });

  it("refuses a non-loopback address without a token, and starts with --insecure", async () => {
    const refused = await runHost(["--host", "0.0.0.0", "--port", "0"]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("refusing to listen on 0.0.0.0 without a token");
    const insecure = await startHost({ args: ["--host", "0.0.0.0", "--insecure"] });
    await insecure.stop();
  });

  it("prints that auth is off when it serves loopback without a token", async () => {
    const open = await startHost();
    expect(open.logs()).toContain("auth is OFF");
    await open.stop();
  });

  it("rejects bad configuration with a usage message", async () => {
    const res = await runHost(["--isolation", "chroot"]);
    expect(res.code).toBe(2);
    expect(res.output).toContain("--isolation must be bwrap or none");
  });

  it("names a token file it cannot read, and one that is empty, instead of a bare ENOENT", async () => {
    const missing = await runHost(["--token-file", "/nonexistent/sandgate-token"]);
    expect(missing.code).toBe(2);
    expect(missing.output).toContain("--token-file /nonexistent/sandgate-token: cannot read the token (no such file)");
    expect(missing.output).not.toMatch(/^Error: ENOENT/m);
    const empty = join(tempDir(), "empty-token");
    writeFileSync(empty, "\n");
    const emptyRes = await runHost(["--token-file", empty]);
    expect(emptyRes.code).toBe(2);
    expect(emptyRes.output).toContain("the file is empty");
  });

  it("answers a 401 over /rpc and with a wrong token with the Bearer challenge; a 200 has none", async () => {
    const rpc = await fetch(`${host.url}/rpc`, { method: "POST", body: "[]" });
    expect(rpc.status).toBe(401);
    expect(rpc.headers.get("www-authenticate")).toBe('Bearer realm="sandgate"');
    const ok = await fetch(`${host.url}/v1/sandboxes/authbox`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("www-authenticate")).toBeNull();
  });
});

function runHost(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/node.ts", "--data-dir", tempDir(), ...args], { env: { PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d));
    child.stderr.on("data", (d: Buffer) => (output += d));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("scoped tokens", () => {
  const mint = async (body: unknown, token = TOKEN) =>
    fetch(`${host.url}/v1/tokens`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const as = (token: string, method: string, path: string, body?: unknown) =>
    fetch(host.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("work only on their sandbox and scopes, and never as the API token", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "scoped-own" });
    await host.json("POST", "/v1/sandboxes", { id: "scoped-other" });
    const minted = await mint({ sandboxId: "scoped-own", scopes: ["exec", "files:read"], ttlSeconds: 600 });
    expect(minted.status).toBe(201);
    const { token, scopes, expiresAt } = (await minted.json()) as { token: string; scopes: string[]; expiresAt: string };
    expect(scopes).toEqual(["exec", "files:read"]);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(590_000);

    expect(await (await as(token, "POST", "/v1/sandboxes/scoped-own/exec", { command: "echo ok > f; echo ran" })).json()).toMatchObject({ stdout: "ran\n" });
    expect(await (await as(token, "GET", "/v1/sandboxes/scoped-own/files/content?path=f")).text()).toBe("ok\n");

    const refusals: [string, string, unknown?][] = [
      ["POST", "/v1/sandboxes/scoped-other/exec", { command: "true" }], // another sandbox
      ["PUT", "/v1/sandboxes/scoped-own/files/content?path=g"], // files:write not granted
      ["GET", "/v1/sandboxes/scoped-own"], // sandbox:read not granted
      ["DELETE", "/v1/sandboxes/scoped-own"], // API token only
      ["GET", "/v1/sandboxes"],
      ["POST", "/v1/sandboxes", { id: "made-by-scoped" }],
      ["POST", "/v1/tokens", { sandboxId: "scoped-own", scopes: ["files:write"] }], // no escalation
      ["POST", "/sandbox/scoped-own/exec", { command: "true" }], // compat needs the API token
    ];
    for (const [method, path, body] of refusals) {
      const res = await as(token, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    }
    expect((await host.json("GET", "/v1/sandboxes/scoped-own")).status).toBe(200); // still there
  });

  it("are refused when tampered with, expired, or minted under another API token", async () => {
    const { token, expiresAt } = (await (await mint({ sandboxId: "scoped-own", scopes: ["exec"], ttlSeconds: 1 })).json()) as { token: string; expiresAt: string };
    const [prefix, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>;
    const forged = `${prefix}.${Buffer.from(JSON.stringify({ ...claims, sb: "scoped-other" })).toString("base64url")}.${signature}`;
    expect((await as(forged, "POST", "/v1/sandboxes/scoped-other/exec", { command: "true" })).status).toBe(401);
    expect((await as(`${token}x`, "POST", "/v1/sandboxes/scoped-own/exec", { command: "true" })).status).toBe(401);
    // Control: a token minted the same way but not yet expired is taken.
    const { token: live } = (await (await mint({ sandboxId: "scoped-own", scopes: ["exec"], ttlSeconds: 600 })).json()) as { token: string };
    expect((await as(live, "POST", "/v1/sandboxes/scoped-own/exec", { command: "true" })).status).toBe(200);
    // Wait for the expiry the token states (bounded), not a fixed time.
    const expires = Date.parse(expiresAt);
    expect(expires - Date.now()).toBeLessThanOrEqual(1000);
    await eventually(() => Date.now() > expires, 5000);
    expect((await as(token, "POST", "/v1/sandboxes/scoped-own/exec", { command: "true" })).status).toBe(401);
  });

  it("are checked on Cap'n Web sessions too", async () => {
    const { token } = (await (await mint({ sandboxId: "scoped-own", scopes: ["exec"] })).json()) as { token: string };
    const api = newHttpBatchRpcSession<SandgateRpc>(new Request(`${host.url}/rpc`, { headers: { authorization: `Bearer ${token}` } }));
    const [own, other] = await Promise.allSettled([api.sandbox("scoped-own").exec({ command: "echo rpc" }), api.sandbox("scoped-other").exec({ command: "true" })]);
    expect(own).toMatchObject({ status: "fulfilled", value: { stdout: "rpc\n" } });
    expect(other).toMatchObject({ status: "rejected", reason: { code: "forbidden" } });
  });

  it("cannot be minted for unknown sandboxes, or without an API token", async () => {
    expect((await mint({ sandboxId: "no-such-box", scopes: ["exec"] })).status).toBe(404);
    expect((await mint({ sandboxId: "scoped-own", scopes: [] })).status).toBe(400);
    const open = await startHost();
    try {
      await open.json("POST", "/v1/sandboxes", { id: "x" });
      const res = await open.json("POST", "/v1/tokens", { sandboxId: "x", scopes: ["exec"] });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain("SANDGATE_TOKEN");
    } finally {
      await open.stop();
    }
  });
});
