import type { Backend } from "../core/backend.ts";
import { SandgateCore } from "../core/core.ts";
import { openApiDocument } from "./openapi-derivation.ts";
import { createRestApp } from "./rest.ts";

/**
 * The OpenAPI document as committed: built from a REST app whose backend is never called (the
 * document depends only on the operation table and the schemas), serialized stably.
 */
export function openApiJson(): string {
  const unused = new Proxy({} as Backend, {
    get: (_target, prop) => (prop === "name" ? "none" : () => Promise.reject(new Error("the document's app has no backend"))),
  });
  const app = createRestApp({ core: new SandgateCore(unused), auth: { protectDocs: false } });
  return `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
}
