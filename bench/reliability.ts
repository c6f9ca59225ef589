/**
 * `npm run reliability`: runs the reliability suites against real hosts and prints their figures in
 * one table — cases fuzzed and failures (Schemathesis), escape attempts tried and succeeded, race
 * attempts against a swapper in the sandbox and escapes (races.test.ts), bad
 * requests answered, network isolation and port proxy auth checks, requests under load and errors,
 * leaked processes and file descriptors.
 * The suites themselves assert every figure; this only gathers them. Escape, fault, network and
 * proxy-auth figures are the attempts each suite counted and saved (service/test/attempts.ts); the
 * run fails when a suite wrote no figures, any test was skipped or failed, or a figure got through.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readFigures, reliabilityDir } from "../service/test/attempts.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "sandgate-reliability-"));

interface VitestJson {
  testResults: { name: string; assertionResults: { ancestorTitles: string[]; title: string; status: string }[] }[];
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: process.env, maxBuffer: 64 * 1024 * 1024 });
  return `${result.stdout ?? ""}\n${result.stderr ?? ""}`;
}

const report = join(work, "vitest.json");
/** Suites that must each write .ci/artifacts/reliability/<suite>.json. */
const suites = ["escapes", "faults", "network", "ports", "bad-input", "races", "wedges", "log-budget", "boundary", "snapshot-crash", "disk-pool"];
rmSync(reliabilityDir, { recursive: true, force: true }); // figures of an earlier run never count
const testFiles = ["files", ...suites].map((name) => `test/${name}.test.ts`);
const vitestOutput = run(
  process.execPath,
  [join(root, "node_modules", "vitest", "vitest.mjs"), "run", ...testFiles, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
  join(root, "service"),
);
const results = JSON.parse(readFileSync(report, "utf8")) as VitestJson;
const tests = results.testResults.flatMap((file) => file.assertionResults.map((t) => ({ file: file.name, ...t })));
const load = /load: .*requests=(\d+).*errors=(\d+).*non2xx=(\d+).*leakedProcesses=(\d+) fdDelta=(-?\d+).*rssDelta=(-?[\d.]+)MiB/.exec(vitestOutput);
const badInput = /bad input: (\d+) requests/.exec(vitestOutput);
// Counted attempts: each suite writes what it really tried (service/test/attempts.ts); titles are never counted.
const missing = suites.filter((suite) => !readFigures(suite));
const counted = suites.flatMap((suite) => readFigures(suite)?.figures.map((f) => [`${suite}: ${f.name}`, `${f.attempts} tried / ${f.failures} got through${f.unit ? ` (${f.unit})` : ""}`] as [string, string]) ?? []);
const skipped = tests.filter((t) => t.status !== "passed" && t.status !== "failed");
const failedTests = tests.filter((t) => t.status === "failed");

const python = join(root, ".venv", "bin", "python");
const fuzzOutput = run(python, ["-m", "pytest", "service/test/fuzz", "-q", "-s", "-p", "no:cacheprovider"], root);
const fuzz = /fuzz: (\d+) cases, (\d+) failures/.exec(fuzzOutput);

const rows: [string, string][] = [
  ["cases fuzzed (Schemathesis, every operation)", fuzz ? fuzz[1]! : "not run"],
  ["fuzz failures (5xx, schema, status)", fuzz ? fuzz[2]! : "not run"],
  ["bad requests, each a 4xx envelope", badInput ? badInput[1]! : "not run"],
  ...counted,
  ["suites that wrote no figures (did not run)", missing.length ? missing.join(", ") : "none"],
  ["tests skipped in these suites", skipped.length ? skipped.map((t) => t.title).join("; ") : "0"],
  ["requests under load / errors (incl. non-2xx)", load ? `${load[1]} / ${Number(load[2]) + Number(load[3])}` : "not run"],
  ["leaked processes after load / host fd growth (≤ 8 allowed: pooled sockets)", load ? `${load[4]} / ${Math.max(0, Number(load[5]))}` : "not run"],
  ["host RSS growth after load", load ? `${load[6]} MiB` : "not run"],
  ["tests failed in these suites", failedTests.length ? `${failedTests.length}: ${failedTests.map((t) => `${t.file.split("/").pop()} > ${t.title}`).join("; ")}` : "0"],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log("\nSandgate reliability\n");
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
rmSync(work, { recursive: true, force: true });
const failedFigures = suites.some((suite) => readFigures(suite)?.figures.some((f) => f.failures > 0 || f.attempts === 0));
process.exitCode = tests.some((t) => t.status === "failed") || skipped.length > 0 || missing.length > 0 || failedFigures || !fuzz || fuzz[2] !== "0" ? 1 : 0;
