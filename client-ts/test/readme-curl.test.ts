/**
 * The README's curl session runs as printed: every command in its fenced block, in order, in an empty
 * directory, against a host without a token (as `npm start`), each printing what the `#` lines under it
 * say (`…` stands for anything). A command with no `#` lines must print nothing.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestHost, startHost } from "../../service/test/host.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const PRINTED_URL = "http://127.0.0.1:8787";

interface Step {
  command: string;
  prints: string[];
}

/** The curl block's commands, each with the output lines printed under it. */
export function curlSession(): Step[] {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## A session with curl"));
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(section);
  if (!block) throw new Error("README.md: no sh block under 'A session with curl'");
  const steps: Step[] = [];
  let command: string[] = [];
  let current: Step | undefined;
  for (const line of block[1]!.split("\n")) {
    if (line.startsWith("#")) {
      if (!current) throw new Error(`output line before any command: ${line}`);
      current.prints.push(line.replace(/^# ?/, ""));
      continue;
    }
    if (line.trim() === "") continue;
    command.push(line);
    if (!line.endsWith("\\")) {
      current = { command: command.join("\n"), prints: [] };
      steps.push(current);
      command = [];
    }
  }
  return steps;
}

function pattern(lines: string[]): RegExp {
  const escaped = lines.map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("…", ".*?"));
  return new RegExp(`^${escaped.join("\n")}$`);
}

let host: TestHost;
let cwd: string;
beforeAll(async () => {
  host = await startHost();
  cwd = mkdtempSync(join(tmpdir(), "sandgate-test-curl-"));
});
afterAll(async () => {
  await host?.stop();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe("README curl session", () => {
  it("has the commands the README promises", () => {
    const steps = curlSession();
    expect(steps[0]!.command).toBe(`B=${PRINTED_URL}`);
    expect(steps.length).toBeGreaterThanOrEqual(8);
    expect(steps.filter((s) => s.prints.length > 0).length).toBeGreaterThanOrEqual(6);
  });

  it("prints what the README says, command by command", async () => {
    const steps = curlSession();
    let ran = 0;
    for (const step of steps.slice(1)) {
      const { stdout, stderr } = await promisify(execFile)("bash", ["-c", `set -eo pipefail; B=${host.url}\n${step.command}`], { cwd, timeout: 60_000 });
      expect(stderr, step.command).toBe("");
      expect(stdout.replace(/\n+$/, ""), step.command).toMatch(pattern(step.prints));
      ran++;
    }
    expect(ran).toBe(steps.length - 1);
    // It left nothing behind.
    expect((await host.json("GET", "/v1/sandboxes")).body.sandboxes).toEqual([]);
  });
});
