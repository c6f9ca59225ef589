/** /docs on the Worker: Swagger UI's files come from the assets binding, never a CDN. */
import { exports as workerExports } from "cloudflare:workers";
import { expect, it } from "vitest";

const exports = workerExports as unknown as { default: Fetcher };

it("serves the explorer page and its assets from the Worker itself", async () => {
  const page = await exports.default.fetch("http://sandgate/docs");
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain("docs/swagger-ui-bundle.js");
  expect(html).not.toMatch(/https?:\/\/(?!sandgate)/); // nothing loaded from elsewhere
  const bundle = await exports.default.fetch("http://sandgate/docs/swagger-ui-bundle.js");
  expect(bundle.status).toBe(200);
  expect(bundle.headers.get("content-type")).toContain("javascript");
  expect((await bundle.text()).length).toBeGreaterThan(500_000);
  const css = await exports.default.fetch("http://sandgate/docs/swagger-ui.css");
  expect(css.status).toBe(200);
  expect((await exports.default.fetch("http://sandgate/docs/package.json")).status).toBe(404);
});
