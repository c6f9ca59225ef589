/**
 * The port proxy, /v1/sandboxes/{id}/ports/{port}/..., on a real Node host with real sandboxes: a small
 * HTTP + WebSocket app (fixtures/port-app.mjs) runs as a background process inside two sandboxes on the
 * same port, and everything goes through the proxy: bodies both ways, WebSockets, headers, redirects,
 * tokens, scoped tokens, port links and their cookies. Every request that must be refused is counted
 * for `npm run reliability` (test/attempts.ts): attempts made, and how many got through to the app.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { type IncomingHttpHeaders, request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { rewriteLocation, rewriteSetCookie, splitLinkParam, upstreamHeaders } from "../src/core/proxy.ts";
import { Attempts } from "./attempts.ts";
import { type TestHost, badCredentials, eventually, startHost } from "./host.ts";

const figures = new Attempts("ports");
afterAll(() => figures.save());

/** Counts one request that must be refused; any answer but 401 or 403 got through. Returns the status. */
function refused(name: string, status: number): number {
  figures.record(name, 1, status === 401 || status === 403 ? 0 : 1, "requests");
  return status;
}
const HTTP = "proxy requests without valid credentials (HTTP)";
const LINKS = "proxy requests with a link or cookie for another port, sandbox, or expired";
const SOCKETS = "proxy WebSocket upgrades without valid credentials";

const TOKEN = "ports-test-token-that-must-not-reach-a-sandbox";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const APP = readFileSync(new URL("./fixtures/port-app.mjs", import.meta.url));
const MiB = 1024 * 1024;

let host: TestHost;

/** A URL under the proxy for a sandbox's port. */
const portUrl = (id: string, port: number | string, rest = "/") => `${host.url}/v1/sandboxes/${id}/ports/${port}${rest}`;
const wsUrl = (id: string, port: number | string, rest = "/ws") => portUrl(id, port, rest).replace(/^http/, "ws");

async function startApp(id: string, port: number, name: string): Promise<void> {
  expect((await host.call("PUT", `/v1/sandboxes/${id}/files/content?path=port-app.mjs`, APP)).status).toBe(200);
  const started = await host.json("POST", `/v1/sandboxes/${id}/processes`, { argv: ["node", "port-app.mjs", String(port), name] });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const ready = await host.json("POST", `/v1/sandboxes/${id}/processes/${started.body.id}/wait-for-port`, { port, timeoutMs: 30_000 });
  expect(ready.status, JSON.stringify(ready.body)).toBe(200);
}

beforeAll(async () => {
  host = await startHost({ token: TOKEN });
  for (const id of ["pa", "pb"]) expect((await host.json("POST", "/v1/sandboxes", { id })).status).toBe(201);
  await Promise.all([startApp("pa", 8080, "alpha"), startApp("pb", 8080, "beta")]);
}, 90_000);

afterAll(async () => {
  await host?.stop();
});

/** What the app reports it was sent. */
interface Seen {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** A request with exactly these headers (fetch refuses hop-by-hop ones), answered in full. */
function rawRequest(url: string, headers: Record<string, string>, method = "GET"): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Opens a WebSocket; a refused handshake rejects with its status and body. */
function openSocket(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; upgradeHeaders: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("upgrade", (res) => ws.once("open", () => resolve({ ws, upgradeHeaders: res.headers })));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => reject(Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once("error", reject);
  });
}

/** The answer to an upgrade that must be refused; one that opened answers 101 (and is counted as through). */
async function refusal(promise: Promise<{ ws: WebSocket }>): Promise<{ status: number; body: string }> {
  try {
    const opened = await promise;
    opened.ws.terminate();
    return { status: 101, body: "the WebSocket opened" };
  } catch (err) {
    const { status, body } = err as { status?: number; body?: string };
    if (status !== undefined) return { status, body: body ?? "" };
    throw err;
  }
}

const UNAUTHORIZED = { error: { code: "unauthorized", message: "missing or invalid token" } };

describe("HTTP through the proxy", () => {
  it("answers GET with the app's page, the path and query as sent", async () => {
    const res = await fetch(portUrl("pa", 8080, "/echo/a%20b?x=1&y=%2F&z"), { headers: AUTH });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Seen;
    expect(seen).toMatchObject({ name: "alpha", method: "GET", url: "/echo/a%20b?x=1&y=%2F&z" });
  });

  it("serves the same port of two sandboxes at once, each its own app", async () => {
    const answers = await Promise.all(
      ["pa", "pb", "pa", "pb"].map(async (id) => ((await (await fetch(portUrl(id, 8080, "/who"), { headers: AUTH })).json()) as Seen).name),
    );
    expect(answers).toEqual(["alpha", "beta", "alpha", "beta"]);
  });

  it("streams a 10 MiB request body of unknown length to the app", async () => {
    const hash = createHash("sha256");
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10 * MiB) return controller.close();
        const chunk = randomBytes(64 * 1024);
        hash.update(chunk);
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(portUrl("pa", 8080, "/sha256"), { method: "POST", headers: AUTH, body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "alpha", method: "POST", bytes: 10 * MiB, sha256: hash.digest("hex") });
  });

  it("streams the request and the response at once: the app answers before the body ends", async () => {
    const transcript = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(portUrl("pb", 8080, "/early"), { method: "POST", headers: { ...AUTH, "content-type": "text/plain" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
          // Only once the first line came back through the proxy does the rest of the body go out.
          if (text === "first 5\n") req.end("world!");
        });
        res.on("end", () => resolve(text));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.flushHeaders();
      req.write("hello");
    });
    expect(transcript).toBe("first 5\ntotal 11\n");
  });

  it("streams a 10 MiB body of known length with PUT", async () => {
    const body = randomBytes(10 * MiB);
    const res = await fetch(portUrl("pb", 8080, "/sha256"), { method: "PUT", headers: AUTH, body });
    expect(await res.json()).toEqual({ name: "beta", method: "PUT", bytes: 10 * MiB, sha256: createHash("sha256").update(body).digest("hex") });
  });

  it("streams a 10 MiB response from the app", async () => {
    const res = await fetch(portUrl("pa", 8080, `/bytes?n=${10 * MiB}`), { headers: AUTH });
    expect(res.status).toBe(200);
    const expected = createHash("sha256");
    const chunk = Buffer.alloc(65536);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + 3) & 255;
    for (let i = 0; i < 160; i++) expected.update(chunk);
    const got = createHash("sha256");
    let bytes = 0;
    for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
      got.update(piece);
      bytes += piece.length;
    }
    expect(bytes).toBe(10 * MiB);
    expect(got.digest("hex")).toBe(expected.digest("hex"));
  });

  it("forwards other methods, and HEAD without a body", async () => {
    for (const method of ["DELETE", "PATCH", "OPTIONS"]) {
      const res = await fetch(portUrl("pb", 8080, "/m"), { method, headers: AUTH });
      expect(((await res.json()) as Seen).method).toBe(method);
    }
    const head = await fetch(portUrl("pb", 8080, "/m"), { method: "HEAD", headers: AUTH });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("drops hop-by-hop headers and Sandgate credentials, and sets Host and the forwarded headers", async () => {
    const res = await rawRequest(portUrl("pa", 8080, "/headers"), {
      connection: "keep-alive, x-hop-secret",
      "x-hop-secret": "must not pass",
      "keep-alive": "timeout=9",
      te: "trailers",
      "proxy-authorization": "Basic c2VjcmV0",
      "x-sandgate-token": TOKEN,
      cookie: "sandgate_link_pa_8080=not-a-link; theme=dark; sandgate_link_pb_8080=other",
      "x-forwarded-for": "10.9.8.7",
      "x-end-to-end": "kept",
    });
    expect(res.status, res.body).toBe(200);
    const { headers } = JSON.parse(res.body) as Seen;
    for (const name of ["x-hop-secret", "keep-alive", "te", "proxy-authorization", "x-sandgate-token", "authorization"]) expect(headers[name], name).toBeUndefined();
    expect(res.body).not.toContain(TOKEN);
    expect(headers.cookie).toBe("theme=dark");
    expect(headers["x-end-to-end"]).toBe("kept");
    expect(headers.host).toBe("localhost:8080");
    const public_ = new URL(host.url);
    expect(headers["x-forwarded-for"]).toBe("10.9.8.7, 127.0.0.1");
    expect(headers["x-forwarded-proto"]).toBe("http");
    expect(headers["x-forwarded-host"]).toBe(public_.host);
    expect(headers["x-forwarded-port"]).toBe(public_.port);
    expect(headers["x-forwarded-prefix"]).toBe("/v1/sandboxes/pa/ports/8080");
    expect(headers.forwarded).toBe(`for=127.0.0.1;host="${public_.host}";proto=http`);
    // The app's own hop-by-hop header stops here too.
    expect(res.headers["x-app-hop"]).toBeUndefined();
  });

  it("never passes the bearer token on", async () => {
    const seen = (await (await fetch(portUrl("pa", 8080, "/bearer"), { headers: AUTH })).json()) as Seen;
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(TOKEN);
  });

  it("rewrites the app's redirects and cookies under the prefix", async () => {
    const prefix = "/v1/sandboxes/pa/ports/8080";
    const res = await fetch(portUrl("pa", 8080, "/redirect"), { headers: AUTH, redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${prefix}/hello?from=redirect`);
    expect(res.headers.getSetCookie()).toEqual([`app=1; Path=${prefix}/`, `deep=2; Path=${prefix}/sub; HttpOnly`, "plain=3"]);

    const absolute = await fetch(portUrl("pa", 8080, "/redirect-absolute"), { headers: AUTH, redirect: "manual" });
    expect(absolute.status).toBe(301);
    expect(absolute.headers.get("location")).toBe(`${host.url}${prefix}/hello?abs=1`);
    expect(absolute.headers.get("content-location")).toBe(`${prefix}/doc`);

    const elsewhere = await fetch(portUrl("pa", 8080, "/redirect-elsewhere"), { headers: AUTH, redirect: "manual" });
    expect(elsewhere.headers.get("location")).toBe("https://example.com/x");
    const relative = await fetch(portUrl("pa", 8080, "/redirect-relative"), { headers: AUTH, redirect: "manual" });
    expect(relative.headers.get("location")).toBe("hello");

    // Followed, the rewritten redirect lands on the app's page.
    const followed = await fetch(portUrl("pa", 8080, "/redirect"), { headers: AUTH });
    expect(((await followed.json()) as Seen).url).toBe("/hello?from=redirect");
  });

  it("redirects /ports/{port} to /ports/{port}/", async () => {
    const res = await fetch(`${host.url}/v1/sandboxes/pa/ports/8080?q=1`, { headers: AUTH, redirect: "manual" });
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/v1/sandboxes/pa/ports/8080/?q=1");
  });

  it("refuses ports outside 1-65535 and invalid ids with 400, unknown sandboxes with 404", async () => {
    for (const port of ["0", "65536", "abc", "080", "-1", "", "99999999999"]) {
      const res = await fetch(portUrl("pa", port), { headers: AUTH });
      expect(res.status, port).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    }
    const badId = await fetch(`${host.url}/v1/sandboxes/Not_An_Id/ports/8080/`, { headers: AUTH });
    expect(badId.status).toBe(400);
    const unknown = await fetch(portUrl("nosuchbox", 8080), { headers: AUTH });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  it("answers 502 upstream_unavailable when nothing listens", async () => {
    const res = await fetch(portUrl("pa", 9999, "/"), { headers: AUTH });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("upstream_unavailable");
    expect(body.error.message).toContain("nothing is listening on port 9999");
  });

  it("aborts the upstream request when the client goes away", async () => {
    const before = ((await (await fetch(portUrl("pa", 8080, "/stats"), { headers: AUTH })).json()) as { closed: number }).closed;
    const controller = new AbortController();
    const res = await fetch(portUrl("pa", 8080, "/hold"), { headers: AUTH, signal: controller.signal });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("held\n");
    controller.abort();
    await eventually(async () => ((await (await fetch(portUrl("pa", 8080, "/stats"), { headers: AUTH })).json()) as { closed: number }).closed > before);
  });
});

describe("auth on the proxy", () => {
  const bad: [string, Record<string, string>][] = [
    ...badCredentials(TOKEN),
    ["a forged link cookie", { cookie: "sandgate_link_pa_8080=sgl1.e30.AAAA" }],
  ];
  it.each(bad)("refuses %s with 401 and no detail, whatever the path", async (_name, headers) => {
    for (const [method, path] of [
      ["GET", "/"],
      ["POST", "/sha256"],
      ["GET", ""],
      ["GET", "/../../9999/x"],
    ] as const) {
      const res = await fetch(portUrl("pa", 8080, path), { method, headers, body: method === "POST" ? "x" : undefined, redirect: "manual" });
      expect(refused(HTTP, res.status), `${method} ${path}`).toBe(401);
      expect(await res.json()).toEqual(UNAUTHORIZED);
    }
    // Before anything about the request is checked: a bad port or an unknown sandbox says nothing either.
    for (const url of [portUrl("pa", 0), portUrl("nosuchbox", 8080)]) expect(refused(HTTP, (await fetch(url, { headers })).status)).toBe(401);
  });

  async function scopedToken(sandboxId: string, scopes: string[]): Promise<string> {
    const res = await host.json("POST", "/v1/tokens", { sandboxId, scopes });
    expect(res.status).toBe(201);
    return res.body.token as string;
  }

  it("takes a scoped token only with the ports scope on that sandbox", async () => {
    const noPorts = await scopedToken("pa", ["exec", "files:read"]);
    const otherSandbox = await scopedToken("pb", ["ports"]);
    const good = await scopedToken("pa", ["ports"]);
    for (const token of [noPorts, otherSandbox]) {
      const res = await fetch(portUrl("pa", 8080), { headers: { authorization: `Bearer ${token}` } });
      expect(refused("proxy requests with a scoped token lacking the ports scope or for another sandbox", res.status)).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    }
    const res = await fetch(portUrl("pa", 8080, "/scoped"), { headers: { "x-sandgate-token": good } });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Seen;
    expect(seen.name).toBe("alpha");
    expect(JSON.stringify(seen)).not.toContain(good);
  });
});

describe("port links", () => {
  async function link(id: string, body: Record<string, unknown>): Promise<{ path: string; url: string; expiresAt: string }> {
    const res = await host.json("POST", `/v1/sandboxes/${id}/port-links`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  it("opens the app in a browser's way: link, redirect with a cookie, then the page", async () => {
    const { path, url } = await link("pa", { port: 8080 });
    expect(url).toBe(`${host.url}${path}`);
    const first = await fetch(host.url + path, { redirect: "manual" });
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe("/v1/sandboxes/pa/ports/8080/");
    expect(first.headers.get("cache-control")).toBe("no-store");
    const [cookie] = first.headers.getSetCookie();
    expect(cookie).toMatch(/^sandgate_link_pa_8080=sgl1\.[^;]+; Path=\/v1\/sandboxes\/pa\/ports\/8080\/; Max-Age=(3600|3599); HttpOnly; SameSite=Lax$/);
    const pair = cookie!.split(";")[0]!;

    const page = await fetch(host.url + first.headers.get("location")!, { headers: { cookie: `${pair}; theme=dark` } });
    expect(page.status).toBe(200);
    const seen = (await page.json()) as Seen;
    expect(seen).toMatchObject({ name: "alpha", url: "/" });
    expect(seen.headers.cookie).toBe("theme=dark"); // the link cookie stays here
    expect(JSON.stringify(seen)).not.toContain("sgl1.");

    // The cookie opens every path of that port, and no other port or sandbox.
    expect((await fetch(portUrl("pa", 8080, "/deeper/page"), { headers: { cookie: pair } })).status).toBe(200);
    // A same-named cookie the app's page set for a deeper path comes first; the real one still counts.
    expect((await fetch(portUrl("pa", 8080, "/deeper/page"), { headers: { cookie: `sandgate_link_pa_8080=junk; ${pair}` } })).status).toBe(200);
    expect(refused(LINKS, (await fetch(portUrl("pa", 9090), { headers: { cookie: pair.replace("_8080=", "_9090=") } })).status)).toBe(401);
    expect(refused(LINKS, (await fetch(portUrl("pb", 8080), { headers: { cookie: pair.replace("_pa_", "_pb_") } })).status)).toBe(401);
  });

  it("keeps the landing path and its query, and answers 303 to other methods", async () => {
    const { path } = await link("pa", { port: 8080, path: "/hello?a=1&b=%20" });
    const res = await fetch(host.url + path, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/v1/sandboxes/pa/ports/8080/hello?a=1&b=%20");
    const post = await fetch(host.url + path.replace("a=1&", "a=1&c=2&"), { method: "POST", body: "x", redirect: "manual" });
    expect(post.status).toBe(303);
    expect(post.headers.get("location")).toBe("/v1/sandboxes/pa/ports/8080/hello?a=1&c=2&b=%20");
  });

  it("refuses a link on another port or sandbox, a tampered link and an expired one", async () => {
    const { path } = await link("pa", { port: 8080 });
    const signature = path.split("sandgate_link=")[1]!;
    const attempts = [
      `/v1/sandboxes/pa/ports/9090/?sandgate_link=${signature}`,
      `/v1/sandboxes/pb/ports/8080/?sandgate_link=${signature}`,
      `/v1/sandboxes/pa/ports/8080/?sandgate_link=${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`,
      `/v1/sandboxes/pa/ports/8080/?sandgate_link=${signature.replace("sgl1.e", "sgl1.f")}`,
      `/v1/sandboxes/pa/ports/8080/?sandgate_link=`,
      // A valid link does not stand in for a token elsewhere, nor a link for one port with a token's say.
      `/v1/sandboxes/pa/exec?sandgate_link=${signature}`,
    ];
    for (const attempt of attempts) {
      const res = await fetch(host.url + attempt, { redirect: "manual" });
      expect(refused(LINKS, res.status), attempt).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
    // A link in the URL decides, even next to a good token.
    expect(refused(LINKS, (await fetch(`${host.url}/v1/sandboxes/pb/ports/8080/?sandgate_link=${signature}`, { headers: AUTH })).status)).toBe(401);

    const short = await link("pa", { port: 8080, ttlSeconds: 1 });
    // Wait for the expiry the link states (bounded), not a fixed time.
    const expires = Date.parse(short.expiresAt);
    expect(expires - Date.now()).toBeLessThanOrEqual(1000);
    await eventually(() => Date.now() > expires, 5000);
    expect(refused(LINKS, (await fetch(host.url + short.path, { redirect: "manual" })).status)).toBe(401);
    const shortCookie = `sandgate_link_pa_8080=${short.path.split("sandgate_link=")[1]}`;
    expect(refused(LINKS, (await fetch(portUrl("pa", 8080), { headers: { cookie: shortCookie } })).status)).toBe(401);
  });
});

describe("WebSockets through the proxy", () => {
  it("echoes 1,000 messages, text and binary", async () => {
    const { ws, upgradeHeaders } = await openSocket(wsUrl("pa", 8080, "/ws?room=1"), AUTH);
    const seen = JSON.parse(Buffer.from(String(upgradeHeaders["x-seen"]), "base64").toString()) as Seen;
    expect(seen).toMatchObject({ name: "alpha", url: "/ws?room=1" });
    expect(seen.headers.host).toBe("localhost:8080");
    expect(seen.headers.upgrade).toBe("websocket");
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers["x-forwarded-prefix"]).toBe("/v1/sandboxes/pa/ports/8080");

    const messages = Array.from({ length: 1000 }, (_, i) => (i % 100 === 99 ? randomBytes(70_000) : `message ${i} ${"x".repeat(i % 300)}`));
    const received: (string | Buffer)[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        received.push(isBinary ? data : data.toString());
        if (received.length === messages.length) resolve();
      });
      ws.once("close", () => reject(new Error(`closed after ${received.length} messages`)));
    });
    for (const message of messages) ws.send(message);
    await done;
    expect(received.length).toBe(1000);
    for (let i = 0; i < messages.length; i++) {
      if (typeof messages[i] === "string") expect(received[i]).toBe(messages[i]);
      else expect(Buffer.compare(received[i] as Buffer, messages[i] as Buffer), `message ${i}`).toBe(0);
    }
    await new Promise<void>((resolve) => {
      ws.once("close", () => resolve());
      ws.close(1000, "done");
    });
  });

  it("reaches each sandbox's own app on the same port", async () => {
    const sockets = await Promise.all(["pa", "pb"].map((id) => openSocket(wsUrl(id, 8080), AUTH)));
    const names = sockets.map(({ upgradeHeaders }) => (JSON.parse(Buffer.from(String(upgradeHeaders["x-seen"]), "base64").toString()) as Seen).name);
    expect(names).toEqual(["alpha", "beta"]);
    for (const { ws } of sockets) ws.terminate();
  });

  it("is authorized like HTTP: tokens, scopes, links and their cookies", async () => {
    const bad: Record<string, string>[] = [{}, { authorization: "Bearer nope" }, { authorization: "Bearer " }, { "x-sandgate-token": "" }];
    for (const headers of bad) {
      const answer = await refusal(openSocket(wsUrl("pa", 8080), headers));
      expect(refused(SOCKETS, answer.status)).toBe(401);
      expect(JSON.parse(answer.body)).toEqual(UNAUTHORIZED);
    }
    const noPorts = (await host.json("POST", "/v1/tokens", { sandboxId: "pa", scopes: ["exec"] })).body.token as string;
    expect(refused(SOCKETS, (await refusal(openSocket(wsUrl("pa", 8080), { authorization: `Bearer ${noPorts}` }))).status)).toBe(403);

    const { path } = (await host.json("POST", "/v1/sandboxes/pa/port-links", { port: 8080 })).body as { path: string };
    const signature = path.split("sandgate_link=")[1]!;
    const viaLink = await openSocket(wsUrl("pa", 8080, `/ws?sandgate_link=${signature}&x=1`));
    expect((JSON.parse(Buffer.from(String(viaLink.upgradeHeaders["x-seen"]), "base64").toString()) as Seen).url).toBe("/ws?x=1");
    viaLink.ws.terminate();
    const viaCookie = await openSocket(wsUrl("pa", 8080), { cookie: `sandgate_link_pa_8080=${signature}` });
    viaCookie.ws.terminate();
    expect(refused(SOCKETS, (await refusal(openSocket(wsUrl("pb", 8080, `/ws?sandgate_link=${signature}`)))).status)).toBe(401);
  });

  it("passes on the app's refusal, and answers 502 when nothing listens", async () => {
    const refused = await refusal(openSocket(wsUrl("pa", 8080, "/not-a-socket"), AUTH));
    expect(refused).toEqual({ status: 404, body: "no socket" });
    const nothing = await refusal(openSocket(wsUrl("pa", 9999), AUTH));
    expect(nothing.status).toBe(502);
    expect((JSON.parse(nothing.body) as { error: { code: string } }).error.code).toBe("upstream_unavailable");
    const badPort = await refusal(openSocket(wsUrl("pa", 70000), AUTH));
    expect(badPort.status).toBe(400);
  });

  it("leaves the host's other upgrades as they were: /rpc opens, anything else is 404", async () => {
    const base = host.url.replace(/^http/, "ws");
    const rpc = await openSocket(`${base}/rpc`, AUTH);
    rpc.ws.terminate();
    expect((await refusal(openSocket(`${base}/v1/sandboxes/pa/ports`, AUTH))).status).toBe(404);
  });
});

describe("the proxy's rules", () => {
  const target = { sandboxId: "pa", port: 8080, prefix: "/v1/sandboxes/pa/ports/8080" };
  const origin = { url: new URL("https://sandgate.example/v1/sandboxes/pa/ports/8080/x") };

  it.each([
    ["/login", "/v1/sandboxes/pa/ports/8080/login"],
    ["/", "/v1/sandboxes/pa/ports/8080/"],
    ["/v1/sandboxes/pa/ports/8080/already", "/v1/sandboxes/pa/ports/8080/already"],
    ["login", "login"],
    ["../up", "../up"],
    ["?q=1", "?q=1"],
    ["http://localhost:8080/a?b=1#c", "https://sandgate.example/v1/sandboxes/pa/ports/8080/a?b=1#c"],
    ["http://127.0.0.1:8080/a", "https://sandgate.example/v1/sandboxes/pa/ports/8080/a"],
    ["//localhost:8080/a", "https://sandgate.example/v1/sandboxes/pa/ports/8080/a"],
    ["https://sandgate.example/a", "https://sandgate.example/v1/sandboxes/pa/ports/8080/a"],
    ["https://sandgate.example/v1/sandboxes/pa/ports/8080/a", "https://sandgate.example/v1/sandboxes/pa/ports/8080/a"],
    ["http://localhost:9090/a", "http://localhost:9090/a"],
    ["https://example.com/a", "https://example.com/a"],
    ["mailto:someone@example.com", "mailto:someone@example.com"],
  ])("rewrites Location %s to %s", (location, expected) => {
    expect(rewriteLocation(location, target, origin)).toBe(expected);
  });

  it.each([
    ["a=1; Path=/", "a=1; Path=/v1/sandboxes/pa/ports/8080/"],
    ["a=1; path=/x; Secure", "a=1; Path=/v1/sandboxes/pa/ports/8080/x; Secure"],
    ["a=1; Domain=localhost; Path=/", "a=1; Path=/v1/sandboxes/pa/ports/8080/"],
    ["a=1; Domain=example.com", "a=1; Domain=example.com"],
    ["a=b=c; Max-Age=5", "a=b=c; Max-Age=5"],
    ["sandgate_link_pa_8080=forged; Path=/", undefined],
  ])("rewrites Set-Cookie %s", (cookie, expected) => {
    expect(rewriteSetCookie(cookie, target)).toBe(expected);
  });

  it("takes the link parameter out of a query and leaves the rest byte for byte", () => {
    expect(splitLinkParam("?a=1&sandgate_link=sgl1.x.y&b=%20+c&d")).toEqual({ search: "?a=1&b=%20+c&d", link: "sgl1.x.y" });
    expect(splitLinkParam("?sandgate%5Flink=z")).toEqual({ search: "", link: "z" });
    expect(splitLinkParam("?a=1")).toEqual({ search: "?a=1", link: undefined });
  });

  it("drops the headers Connection names, and keeps Upgrade only for upgrades", () => {
    const incoming = new Headers({ connection: "Upgrade, X-Private", upgrade: "websocket", "x-private": "1", "x-kept": "2", cookie: "sandgate_link_pa_8080=l; a=b" });
    const plain = upstreamHeaders(incoming, target, origin, { upgrade: false });
    expect([...plain.keys()].filter((k) => !k.startsWith("x-forwarded") && k !== "forwarded")).toEqual(["cookie", "host", "x-kept"]);
    expect(plain.get("cookie")).toBe("a=b");
    expect(plain.get("forwarded")).toBe('for=unknown;host=sandgate.example;proto=https');
    const upgrade = upstreamHeaders(incoming, target, { ...origin, clientAddress: "::ffff:10.0.0.1" }, { upgrade: true });
    expect(upgrade.get("connection")).toBe("Upgrade");
    expect(upgrade.get("upgrade")).toBe("websocket");
    expect(upgrade.get("x-forwarded-for")).toBe("10.0.0.1");
    expect(upgrade.has("x-private")).toBe(false);
    const v6 = upstreamHeaders(new Headers(), target, { ...origin, clientAddress: "2001:db8::1" }, { upgrade: false });
    expect(v6.get("forwarded")).toBe('for="[2001:db8::1]";host=sandgate.example;proto=https');
    expect(v6.get("x-forwarded-port")).toBe("443");
  });
});

describe("without a token configured", () => {
  it("lets loopback callers through, as every route does", async () => {
    const open = await startHost();
    try {
      expect((await open.json("POST", "/v1/sandboxes", { id: "open" })).status).toBe(201);
      const res = await fetch(`${open.url}/v1/sandboxes/open/ports/8080/`);
      expect(res.status).toBe(502);
      const link = await open.json("POST", "/v1/sandboxes/open/port-links", { port: 8080 });
      expect(link.body.path).toBe("/v1/sandboxes/open/ports/8080/");
    } finally {
      await open.stop();
    }
  });
});

describe("the OpenAPI document", () => {
  it("describes the proxy without giving clients an operation for it", async () => {
    const doc = (await (await fetch(`${host.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      tags: { name: string; description: string }[];
      "x-sandgate-port-proxy": { path: string; portLink: { parameter: string } };
    };
    expect(doc["x-sandgate-port-proxy"].path).toBe("/v1/sandboxes/{id}/ports/{port}/{path}");
    expect(doc["x-sandgate-port-proxy"].portLink.parameter).toBe("sandgate_link");
    expect(doc.tags.find((t) => t.name === "ports")!.description).toContain("sandgate_link");
    expect(Object.keys(doc.paths).some((p) => p.includes("/ports/{port}"))).toBe(false);
  });
});
