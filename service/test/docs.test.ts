/**
 * /docs over HTTP: the page and its Swagger UI assets from a real Node host (read from swagger-ui-dist),
 * nothing else reachable through the asset route, and in-process: --protect-docs and a host-supplied
 * asset loader (the way the Worker host serves them). The browser test is in client-ts/test/docs-browser.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../src/core/backend.ts";
import { SandgateCore } from "../src/core/core.ts";
import { DOCS_ASSETS, type DocsAsset } from "../src/surfaces/docs.ts";
import { createRestApp } from "../src/surfaces/rest.ts";
import { type TestHost, removeDir, startHost } from "./host.ts";

const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const TOKEN = "docs-token";

let host: TestHost;
beforeAll(async () => {
  host = await startHost({ token: TOKEN });
});
afterAll(async () => {
  await host.stop();
  removeDir(host.dataDir);
});

const plain = (path: string, headers: Record<string, string> = {}) => fetch(host.url + path, { headers, redirect: "manual" });

describe("/docs on the Node host", () => {
  it("serves the page without a token, with a strict CSP and only same-origin references", async () => {
    const res = await plain("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.sort()).toEqual(["docs/favicon-16x16.png", "docs/favicon-32x32.png", "docs/init.js", "docs/swagger-ui-bundle.js", "docs/swagger-ui.css"]);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it.each(DOCS_ASSETS)("serves %s byte for byte from swagger-ui-dist", async (name) => {
    const res = await plain(`/docs/${name}`);
    expect(res.status).toBe(200);
    const expectedType = name.endsWith(".css") ? /^text\/css/ : name.endsWith(".js") ? /^text\/javascript/ : /^image\/png$/;
    expect(res.headers.get("content-type")).toMatch(expectedType);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBe(statSync(join(swaggerDir, name)).size);
    expect(Buffer.from(body).equals(readFileSync(join(swaggerDir, name)))).toBe(true);
  });

  it("serves its initializer, which points Swagger UI at the relative /openapi.json", async () => {
    const res = await plain("/docs/init.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    const script = await res.text();
    expect(script).toContain('new URL("openapi.json", window.location.href)');
    expect(script).toContain("validatorUrl: null");
  });

  it("serves nothing else of the package or the disk", async () => {
    for (const path of ["/docs/index.html", "/docs/package.json", "/docs/swagger-ui.js", "/docs/..%2Fpackage.json", "/docs/%2e%2e%2f%2e%2e%2fpackage.json", "/docs/a/b"]) {
      const res = await plain(path);
      expect(res.status, path).toBe(404);
      expect((await res.json()).error.code, path).toBe("not_found");
    }
  });

  it("redirects /docs/ to /docs so the page's relative URLs resolve", async () => {
    const res = await plain("/docs/");
    expect(res.status).toBe(301);
    expect(new URL(res.headers.get("location")!, `${host.url}/docs/`).pathname).toBe("/docs");
  });
});

describe("/docs in-process", () => {
  const unused = new Proxy({} as Backend, { get: (_t, prop) => (prop === "name" ? "none" : () => Promise.reject(new Error("no backend"))) });
  const asked: string[] = [];
  const loader = async (name: DocsAsset) => {
    asked.push(name);
    return name === "swagger-ui.css" ? new Response("body{}") : undefined;
  };

  it("uses the host's loader, and answers 404 when it has no such asset", async () => {
    const app = createRestApp({ core: new SandgateCore(unused), auth: { protectDocs: false }, docsAssets: loader });
    const css = await app.request("/docs/swagger-ui.css");
    expect(css.status).toBe(200);
    expect(await css.text()).toBe("body{}");
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect((await app.request("/docs/swagger-ui-bundle.js")).status).toBe(404);
    expect((await app.request("/docs/secret.txt")).status).toBe(404);
    expect(asked).toEqual(["swagger-ui.css", "swagger-ui-bundle.js"]);
  });

  it("has no /docs when the host gives no assets", async () => {
    const app = createRestApp({ core: new SandgateCore(unused), auth: { protectDocs: false } });
    expect((await app.request("/docs")).status).toBe(404);
  });

  it("--protect-docs puts the page and its assets behind the token", async () => {
    const app = createRestApp({ core: new SandgateCore(unused), auth: { token: TOKEN, protectDocs: true }, docsAssets: loader });
    for (const path of ["/docs", "/docs/init.js", "/docs/swagger-ui.css", "/openapi.json"]) {
      const denied = await app.request(path);
      expect(denied.status, path).toBe(401);
      expect((await denied.json()).error.code).toBe("unauthorized");
      expect((await app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } })).status, path).toBe(200);
    }
    const open = createRestApp({ core: new SandgateCore(unused), auth: { token: TOKEN, protectDocs: false }, docsAssets: loader });
    expect((await open.request("/docs")).status).toBe(200);
  });
});
