/**
 * Writes openapi/openapi.json from the same app the hosts serve. CI runs it and fails on any diff,
 * so the committed document (and the clients generated from it) can never drift from the schemas.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openApiJson } from "../src/surfaces/document.ts";

const target = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "openapi", "openapi.json");
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, openApiJson());
console.log(`wrote ${target}`);
