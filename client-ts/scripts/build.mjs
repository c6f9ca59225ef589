// Builds the package: tsc emits dist/*.js and *.d.ts from src/; the generated schema.d.ts is a
// declaration file, which tsc never copies, so it is copied beside them.
import { execFileSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json")], { stdio: "inherit" });
copyFileSync(join(root, "src", "schema.d.ts"), join(root, "dist", "schema.d.ts"));
