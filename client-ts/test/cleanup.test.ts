/**
 * Test files leave no /tmp/sandgate-test-* behind: a file that makes temp dirs and a host's data dir and
 * removes nothing itself, run with the suites' setup file (service/test/cleanup.ts), leaves none.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const fixture = fileURLToPath(new URL("./fixtures/cleanup/", import.meta.url));

it("removes every temp dir a test file made, after its hooks", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "sandgate-cleanup-report-"));
  try {
    const report = join(scratch, "made.json");
    const vitest = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));
    await promisify(execFile)(process.execPath, [vitest, "run", "--config", join(fixture, "vitest.config.ts")], {
      cwd: fixture,
      env: { ...process.env, SANDGATE_CLEANUP_REPORT: report },
      timeout: 120_000,
    });
    const made = JSON.parse(readFileSync(report, "utf8")) as string[];
    expect(made).toHaveLength(3); // the fixture ran and saw its three directories exist
    for (const dir of made) expect(existsSync(dir), dir).toBe(false);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
