/**
 * The README's TypeScript examples are examples/quickstart.ts and processes.ts, verbatim, and they run: as a user would,
 * importing the built package by its name (so the package's exports and dist are exercised too).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { TOKEN, useHost } from "./helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const { host, client } = useHost();

/** The fenced block that follows `<!-- example: <file> -->` in the README. */
export function readmeExample(file: string): string {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const marker = `<!-- example: ${file} -->\n`;
  const start = readme.indexOf(marker);
  if (start < 0) throw new Error(`README.md has no ${marker.trim()}`);
  const match = /^```\w*\n([\s\S]*?)^```$/m.exec(readme.slice(start + marker.length));
  if (!match || match.index !== 0) throw new Error(`no code block right after ${marker.trim()}`);
  return match[1]!;
}

/** Each README example and what it prints. */
const examples: { file: string; prints: string }[] = [
  { file: "examples/quickstart.ts", prints: "0 hello from /workspace\ntick 1\ntick 2\ntick 3\n" },
  { file: "examples/processes.ts", prints: "step 1\nstep 2\nstep 3\nexit 0\n200 <h1>hi</h1>\ntrue\n" },
  { file: "examples/snapshots.ts", prints: `v1\napp\n${[0, 1, 2, 3, 4].map((i) => `copy ${i}: v1\n`).join("")}` },
];

describe.each(examples)("README TypeScript example $file", ({ file, prints }) => {
  it("is the file, verbatim", () => {
    expect(readmeExample(file)).toBe(readFileSync(`${root}${file}`, "utf8"));
  });

  it("runs against a host and prints what the README promises", async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [`${root}${file}`], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", SANDGATE_URL: host().url, SANDGATE_TOKEN: TOKEN },
      timeout: 60_000,
    });
    expect(stdout, stderr).toBe(prints);
    // it cleaned up after itself
    expect((await client().sandboxes.list({ label: "team:docs" })).sandboxes).toEqual([]);
  });
});
