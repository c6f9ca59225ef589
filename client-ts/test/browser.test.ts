/**
 * In a real browser (Debian's Chromium, driven by playwright-core), against a running Node host:
 * - /docs loads with every request off this machine refused, and renders every operation of the
 *   document. Leaves a screenshot in .ci/artifacts/docs.png for people to look at.
 * - the built client (dist/, plus openapi-fetch by an import map, no bundler) runs in the page: calls,
 *   streaming exec, bytes, errors. Proof that it needs nothing Node-only.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestHost, removeDir, startHost } from "../../service/test/host.ts";

const CHROMIUM = process.env.SANDGATE_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../.ci/artifacts/", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const OPENAPI_FETCH = join(dirname(createRequire(import.meta.url).resolve("openapi-fetch/package.json")), "dist", "index.mjs");

interface Document {
  paths: Record<string, Record<string, { operationId: string; summary: string }>>;
}
const document = JSON.parse(readFileSync(new URL("../../openapi/openapi.json", import.meta.url), "utf8")) as Document;
const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, ...op })));

let host: TestHost | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set SANDGATE_CHROMIUM)`);
  // With a token: /docs and /openapi.json stay public unless --protect-docs.
  [host, browser] = await Promise.all([
    startHost({ token: "docs-test-token" }),
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  if (host) {
    await host.stop();
    removeDir(host.dataDir);
  }
});

describe("/docs in Chromium", () => {
  it("renders every operation from Sandgate's own assets, with the outside network blocked", async () => {
    const origin = new URL(host!.url).origin;
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const blocked: string[] = [];
    const served: string[] = [];
    const problems: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) {
        served.push(new URL(url).pathname);
        return route.continue();
      }
      blocked.push(url);
      return route.abort("blockedbyclient");
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });

    const response = await page.goto(`${host!.url}/docs`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    // Swagger UI renders one block per operation once it has fetched and parsed /openapi.json.
    await page.locator(".opblock").nth(operations.length - 1).waitFor({ timeout: 30_000 });

    const blocks = await page.locator(".opblock").evaluateAll((nodes) =>
      nodes.map((n) => ({
        method: n.querySelector(".opblock-summary-method")?.textContent?.trim().toLowerCase() ?? "",
        path: n.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? n.querySelector(".opblock-summary-path")?.textContent?.trim() ?? "",
        summary: n.querySelector(".opblock-summary-description")?.textContent?.trim() ?? "",
      })),
    );
    const rendered = blocks.map((b) => `${b.method} ${b.path.replace(/\u200b/g, "")} ${b.summary}`).sort();
    const expected = operations.map((o) => `${o.method} ${o.path} ${o.summary}`).sort();
    expect(rendered).toEqual(expected);

    const text = await page.locator("#swagger-ui").innerText();
    expect(text).toContain("Sandgate");
    for (const tag of ["sandboxes", "exec", "files", "compat"]) expect(text).toContain(tag);
    // The security schemes are offered for "Try it out".
    await expect(page.locator("button.authorize").count()).resolves.toBe(1);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}docs.png`, fullPage: false });

    expect(blocked, "the page must load nothing from outside").toEqual([]);
    expect(problems).toEqual([]);
    expect(served).toEqual(expect.arrayContaining(["/docs", "/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js", "/openapi.json"]));
    await context.close();
  });

  it("Try it out calls the API from the page", async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    await context.route("**/*", (route) => (new URL(route.request().url()).origin === new URL(host!.url).origin ? route.continue() : route.abort()));
    await page.goto(`${host!.url}/docs#/service/health`, { waitUntil: "load" });
    const block = page.locator("#operations-service-health");
    await block.waitFor();
    // The deep link opens the block a moment after it renders: a click on its summary before then would
    // close it again. Opened by hand only if the deep link has not opened it by then.
    const opened = await block.locator(".try-out__btn").waitFor({ state: "visible", timeout: 10_000 }).then(
      () => true,
      () => false,
    );
    if (!opened) await block.locator(".opblock-summary").click();
    await block.locator(".try-out__btn").click();
    await block.locator(".execute").click();
    const body = block.locator(".responses-wrapper .live-responses-table .response-col_description pre").first();
    await body.waitFor();
    expect(JSON.parse(await body.innerText())).toMatchObject({ ok: true, backend: "local" });
    await context.close();
  });
});

/** Runs in the page (a module script, as a web app would use the package) and leaves `clientResult`. */
const PAGE_SCRIPT = `
import { createSandgateClient, SandgateError } from "/__client/dist/index.js";
const run = async () => {
  const sg = createSandgateClient({ baseUrl: location.origin, token: window.sandgateToken });
  const sb = await sg.sandboxes.create({ labels: { from: "browser" } });
  const exec = await sb.exec("echo hi from $(pwd)");
  const events = [];
  for await (const event of sb.execStream("echo out; echo err >&2; exit 5")) {
    events.push(event.type === "exit" ? "exit " + event.exitCode : event.type === "error" ? "error" : event.type + " " + event.data);
  }
  await sb.files.write("b.bin", new Uint8Array([0, 1, 2, 255]));
  await sb.files.write("t.txt", "héllo");
  const bytes = Array.from(await sb.files.read("b.bin"));
  const text = await sb.files.read("t.txt", { as: "text" });
  await sb.delete();
  let error;
  try {
    await sg.sandboxes.get(sb.id);
  } catch (err) {
    error = { isSandgateError: err instanceof SandgateError, code: err.code, status: err.status };
  }
  return { stdout: exec.stdout, events, bytes, text, error };
};
run().then((r) => { window.clientResult = r; }, (e) => { window.clientResult = { failure: String(e && e.stack || e) }; });
`;

describe("the client in Chromium", () => {
  it("runs from dist/ in a page: calls, streaming exec, bytes and typed errors", async () => {
    const origin = new URL(host!.url).origin;
    const context = await browser!.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(err.message));
    // The page and the client's modules are served at the host's origin (so the API is same-origin),
    // from this package's dist/ and openapi-fetch's ESM build; everything else goes to the real host.
    await context.route(`${origin}/__client/**`, (route) => {
      const path = new URL(route.request().url()).pathname.slice("/__client/".length);
      if (path === "index.html") {
        return route.fulfill({
          contentType: "text/html; charset=utf-8",
          body: `<!doctype html><meta charset="utf-8"><script type="importmap">{"imports":{"openapi-fetch":"/__client/openapi-fetch.mjs"}}</script><script type="module">${PAGE_SCRIPT}</script>`,
        });
      }
      const file = path === "openapi-fetch.mjs" ? OPENAPI_FETCH : path.startsWith("dist/") && !path.includes("..") ? join(DIST, path.slice(5)) : undefined;
      if (!file || !existsSync(file)) return route.fulfill({ status: 404, body: "" });
      return route.fulfill({ contentType: "text/javascript; charset=utf-8", body: readFileSync(file, "utf8") });
    });
    await page.addInitScript((token) => Object.assign(window, { sandgateToken: token }), "docs-test-token");
    await page.goto(`${origin}/__client/index.html`);
    await page.waitForFunction(() => "clientResult" in window, undefined, { timeout: 30_000 });
    const result = (await page.evaluate(() => (window as unknown as { clientResult: unknown }).clientResult)) as {
      failure?: string;
      events: string[];
    };
    expect(result.failure).toBeUndefined();
    expect(result).toEqual({
      stdout: "hi from /workspace\n",
      events: expect.arrayContaining(["stdout out\n", "stderr err\n", "exit 5"]),
      bytes: [0, 1, 2, 255],
      text: "héllo",
      error: { isSandgateError: true, code: "not_found", status: 404 },
    });
    expect(result.events.at(-1)).toBe("exit 5");
    expect(problems).toEqual([]);
    await context.close();
  });
});
