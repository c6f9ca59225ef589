/**
 * The layering the README's layout states: schemas and core hold no runtime code, surfaces are
 * web-API adapters (no node: module, no backend), and only hosts compose backends with surfaces.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, "..", "src");

function importsOf(folder: string): { file: string; specifier: string }[] {
  return readdirSync(join(src, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .flatMap((name) => {
      const text = readFileSync(join(src, folder, name), "utf8");
      return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)].map((m) => ({ file: `${folder}/${name}`, specifier: m[1]! }));
    });
}

describe("layout", () => {
  it("reads the imports it checks (control)", () => {
    const hostImports = importsOf("hosts").map((i) => i.specifier);
    expect(hostImports).toContain("node:http");
    expect(hostImports.some((s) => s.includes("/backends/"))).toBe(true);
    expect(importsOf("surfaces").length).toBeGreaterThan(20);
  });

  for (const folder of ["schemas", "core", "surfaces"]) {
    it(`${folder}/ imports no node: module, no backend and no host`, () => {
      const offending = importsOf(folder).filter(({ specifier }) => specifier.startsWith("node:") || /(^|\/)(backends|hosts)\//.test(specifier));
      expect(offending).toEqual([]);
    });
  }

  it("schemas/ imports nothing of core, surfaces or backends", () => {
    const offending = importsOf("schemas").filter(({ specifier }) => /\/(core|surfaces|backends|hosts)\//.test(specifier));
    expect(offending).toEqual([]);
  });
});
