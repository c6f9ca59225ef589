/**
 * `npm run reliability`: runs the reliability suites against real hosts and prints their figures in
 * one table — cases fuzzed and failures (Schemathesis), escape attempts tried and succeeded, bad
 * requests answered, network isolation and port proxy auth checks, requests under load and errors,
 * leaked processes and file descriptors.
 * The suites themselves assert every figure; this only gathers them.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
const vitestOutput = run(
  process.execPath,
  [join(root, "node_modules", "vitest", "vitest.mjs"), "run", "test/escapes.test.ts", "test/files.test.ts", "test/bad-input.test.ts", "test/faults.test.ts", "test/network.test.ts", "test/ports.test.ts", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
  join(root, "service"),
);
const results = JSON.parse(readFileSync(report, "utf8")) as VitestJson;
const tests = results.testResults.flatMap((file) => file.assertionResults.map((t) => ({ file: file.name, ...t })));
const escapes = tests.filter((t) => t.file.endsWith("escapes.test.ts") || /travers|symlink|escape|outside/i.test([...t.ancestorTitles, t.title].join(" ")));
const faults = tests.filter((t) => t.file.endsWith("faults.test.ts"));
const networkChecks = tests.filter((t) => t.file.endsWith("network.test.ts"));
const proxyAuthChecks = tests.filter((t) => t.file.endsWith("ports.test.ts") && /auth|link/i.test(t.ancestorTitles.join(" ")));
const passedOf = (list: typeof tests) => `${list.filter((t) => t.status === "passed").length} / ${list.length}`;
const load = /load: .*requests=(\d+).*errors=(\d+).*non2xx=(\d+).*leakedProcesses=(\d+) fdDelta=(-?\d+).*rssDelta=(-?[\d.]+)MiB/.exec(vitestOutput);
const badInput = /bad input: (\d+) requests/.exec(vitestOutput);

const python = join(root, ".venv", "bin", "python");
const fuzzOutput = run(python, ["-m", "pytest", "service/test/fuzz", "-q", "-s", "-p", "no:cacheprovider"], root);
const fuzz = /fuzz: (\d+) cases, (\d+) failures/.exec(fuzzOutput);

const rows: [string, string][] = [
  ["cases fuzzed (Schemathesis, every operation)", fuzz ? fuzz[1]! : "not run"],
  ["fuzz failures (5xx, schema, status)", fuzz ? fuzz[2]! : "not run"],
  ["bad requests, each a 4xx envelope", badInput ? badInput[1]! : "not run"],
  ["escape attempts tried / succeeded", `${escapes.length} / ${escapes.filter((t) => t.status !== "passed").length}`],
  ["fault scenarios passed", passedOf(faults)],
  ["network isolation checks passed", passedOf(networkChecks)],
  ["port proxy auth and link checks passed", passedOf(proxyAuthChecks)],
  ["requests under load / errors (incl. non-2xx)", load ? `${load[1]} / ${Number(load[2]) + Number(load[3])}` : "not run"],
  ["leaked processes / fds after load", load ? `${load[4]} / ${Math.max(0, Number(load[5]))}` : "not run"],
  ["host RSS growth after load", load ? `${load[6]} MiB` : "not run"],
  ["tests failed in these suites", String(tests.filter((t) => t.status === "failed").length)],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log("\nSandgate reliability\n");
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
rmSync(work, { recursive: true, force: true });
process.exitCode = tests.some((t) => t.status === "failed") || !fuzz || fuzz[2] !== "0" ? 1 : 0;
