/**
 * The Node host's source of /docs assets: the installed swagger-ui-dist package, read from disk and
 * streamed. Node-only (node:fs); the Worker host gives registerDocs its assets another way.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import type { DocsAssetLoader } from "../../surfaces/docs.ts";

/** A loader over swagger-ui-dist's directory (found through Node's module resolution unless given). */
export function swaggerUiDistAssets(directory?: string): DocsAssetLoader {
  const dir = directory ?? dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  return async (name) => {
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
      return new Response(body, { headers: { "content-length": String(info.size) } });
    } catch {
      return undefined;
    }
  };
}
