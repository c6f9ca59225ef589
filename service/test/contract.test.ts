import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { operations } from "../src/core/operations.ts";
import { resolveWorkspacePath } from "../src/core/paths.ts";
import { openApiJson } from "../src/surfaces/document.ts";
import { startHost } from "./host.ts";

const committed = readFileSync(join(import.meta.dirname, "..", "..", "openapi", "openapi.json"), "utf8");

describe("the contract", () => {
  it("matches the committed openapi/openapi.json (run `npm run gen` after changing a schema)", () => {
    expect(openApiJson()).toBe(committed);
  });

  it("is what a running host serves", async () => {
    const host = await startHost();
    try {
      expect(await (await fetch(`${host.url}/openapi.json`)).json()).toEqual(JSON.parse(committed));
    } finally {
      await host.stop();
    }
  });

  it("documents every operation of the table, and nothing else besides the compat profile", () => {
    const doc = JSON.parse(committed) as { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths)
      .filter(([path]) => !path.startsWith("/sandbox/"))
      .flatMap(([path, methods]) => Object.entries(methods).map(([m, o]) => `${m} ${path} ${o.operationId}`));
    const table = Object.values(operations).map((o) => `${o.method} ${o.path} ${o.operationId}`);
    expect(documented.sort()).toEqual(table.sort());
  });
});

describe("deploy artifacts", () => {
  it("builds the container from the same version of the sandbox image as the SDK in package.json", () => {
    const root = join(import.meta.dirname, "..", "..");
    const sdk = (JSON.parse(readFileSync(join(root, "service", "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@cloudflare/sandbox"];
    expect(sdk).toMatch(/^\d+\.\d+\.\d+$/); // pinned exactly, so the image cannot drift from it
    expect(readFileSync(join(root, "Dockerfile"), "utf8")).toContain(`FROM docker.io/cloudflare/sandbox:${sdk}\n`);
  });
});

describe("workspace paths", () => {
  it.each([
    ["a.txt", "/workspace/a.txt"],
    ["/workspace", "/workspace"],
    ["/workspace/", "/workspace"],
    ["./a/./b/../c", "/workspace/a/c"],
    ["/workspace//x///y", "/workspace/x/y"],
    ["a/..", "/workspace"],
  ])("resolves %s to %s", (input, abs) => {
    expect(resolveWorkspacePath(input).abs).toBe(abs);
  });

  it.each(["..", "../x", "/etc/passwd", "/workspace/../etc", "/workspacex/a", "a/../../b", "/"])("refuses %s", (input) => {
    expect(() => resolveWorkspacePath(input)).toThrowError(/outside \/workspace/);
  });
});
