/**
 * The API explorer at /docs: Swagger UI over /openapi.json, with every asset served by Sandgate itself
 * (no CDN), so it works offline and behind firewalls. Hosts differ only in where the assets come from:
 * the Node host reads them from the swagger-ui-dist package, a Worker can bundle them or use its static
 * assets. Web APIs only, so it runs in either.
 */
import type { Env, Hono } from "hono";

/** Files of the swagger-ui-dist package the page needs; a loader is only ever asked for these names. */
export const DOCS_ASSETS = ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"] as const;
export type DocsAsset = (typeof DOCS_ASSETS)[number];

/** Gives the bytes of one swagger-ui-dist file, or undefined when it has none. */
export type DocsAssetLoader = (name: DocsAsset) => Promise<Response | undefined>;

export interface DocsOptions {
  assets: DocsAssetLoader;
  /** The page title; the document's own title shows in the page as well. */
  title?: string;
}

const contentTypes: Record<DocsAsset, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

/**
 * Everything the page loads comes from this origin. Swagger UI sets inline styles and shows inline
 * (data:) images; it runs no inline script (its initializer is /docs/init.js).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

// Relative URLs throughout: the page works at /docs and behind a proxy that mounts Sandgate elsewhere.
function page(title: string): string {
  const escaped = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escaped}</title>
    <link rel="stylesheet" href="docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js"></script>
    <script src="docs/init.js"></script>
  </body>
</html>
`;
}

const INIT_SCRIPT = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", window.location.href).href,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    docExpansion: "list",
    filter: true,
    displayRequestDuration: true,
    persistAuthorization: false,
    validatorUrl: null
  });
});
`;

/** Adds GET /docs (the page), /docs/init.js and /docs/<asset> to `app`. Auth is the app's own middleware. */
export function registerDocs<E extends Env>(app: Hono<E>, options: DocsOptions): void {
  const html = page(options.title ?? "Sandgate API");
  app.get("/docs", (c) => c.html(html, 200, { ...securityHeaders, "cache-control": "no-cache" }));
  // /docs/ would break the page's relative URLs: send it to /docs.
  app.get("/docs/", (c) => c.redirect("../docs", 301));
  app.get("/docs/init.js", (c) =>
    c.body(INIT_SCRIPT, 200, { ...securityHeaders, "content-type": contentTypes["swagger-ui-bundle.js"], "cache-control": "no-cache" }),
  );
  app.get("/docs/:asset", async (c) => {
    const name = c.req.param("asset");
    if (!isAsset(name)) return c.notFound();
    const found = await options.assets(name);
    if (!found?.ok || !found.body) return c.notFound();
    const headers: Record<string, string> = { ...securityHeaders, "content-type": contentTypes[name], "cache-control": "public, max-age=3600" };
    const length = found.headers.get("content-length");
    if (length) headers["content-length"] = length;
    return new Response(found.body, { headers });
  });
}

function isAsset(name: string): name is DocsAsset {
  return (DOCS_ASSETS as readonly string[]).includes(name);
}
