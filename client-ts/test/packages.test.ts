/**
 * The package as a user installs it in a project of their own, outside this repository: `npm pack`
 * gives a tarball with dist/, a fresh project installs it, the README's quickstart runs there against a
 * real host, and strict type-checks (no skipLibCheck) pass for `@sandgate/client/rpc` in a Node
 * script and `@sandgate/client/worker` in a fresh Worker project.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN, useHost } from "./helpers.ts";

const run = promisify(execFile);
const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));
const require = createRequire(import.meta.url);
/** The versions this repository uses, so npm finds them in its cache. */
const version = (name: string) => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [root] }), "utf8")) as { version: string }).version;

const { host } = useHost();
let work: string;
let project: string;
let tarball: string;

const npm = (args: string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd, timeout: 300_000 });
const tsc = (cwd: string) => run(process.execPath, [join(cwd, "node_modules/typescript/bin/tsc"), "-p", cwd], { cwd }).then(
  () => "",
  (err: { stdout?: string }) => err.stdout ?? String(err),
);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "sandgate-test-pkg-"));
  // --ignore-scripts: `prepare` would rebuild dist/ (removing it first) while other test files, such
  // as the browser test, load from it; dist/ was built when the workspace was installed.
  const { stdout } = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], pkgDir);
  tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  project = join(work, "app");
  await run("mkdir", [project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await npm(["install", tarball, `typescript@${version("typescript")}`, `@types/node@${version("@types/node")}`, `@cloudflare/workers-types@${version("@cloudflare/workers-types")}`], project);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("@sandgate/client from outside the repository", () => {
  it("packs dist/ (every entry point) into the tarball, not the tests", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.split("\n");
    for (const file of ["index.js", "index.d.ts", "rpc.js", "rpc.d.ts", "worker.d.ts", "schema.d.ts"]) expect(files).toContain(`package/dist/${file}`);
    expect(files.some((f) => f.startsWith("package/test/"))).toBe(false);
  });

  it("runs the README quickstart in a fresh project against a real host", async () => {
    copyFileSync(join(root, "examples/quickstart.ts"), join(project, "quickstart.ts"));
    const { stdout } = await run(process.execPath, ["quickstart.ts"], {
      cwd: project,
      env: { PATH: process.env.PATH ?? "", SANDGATE_URL: host().url, SANDGATE_TOKEN: TOKEN },
      timeout: 60_000,
    });
    expect(stdout).toBe("0 hello from /workspace\ntick 1\ntick 2\ntick 3\n");
  });

  it("type-checks a Node script using @sandgate/client/rpc with tsc --strict, no skipLibCheck", async () => {
    const dir = join(project, "rpc-check");
    await run("mkdir", [dir]);
    await run("ln", ["-s", "../node_modules", join(dir, "node_modules")]);
    const tsconfig = { compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", types: ["node"] } };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const script = `import { connectRpc, readNdjson } from "@sandgate/client/rpc";
import { SandgateError, type ExecEvent } from "@sandgate/client";
using api = connectRpc("http://127.0.0.1:8787", { token: "t" });
await api.createSandbox({ id: "demo" });
const result = await api.sandbox("demo").exec({ command: "echo hi" });
const code: number = result.exitCode;
for await (const event of readNdjson<ExecEvent>(await api.sandbox("demo").execStream({ command: "echo" }))) console.log(event.type, code);
try { await api.getSandbox({ id: "x" }); } catch (err) { if (err instanceof SandgateError) console.log(err.code, err.status); }
`;
    writeFileSync(join(dir, "main.ts"), script);
    expect(await tsc(dir)).toBe("");
    // Positive control: the check reads the types (a wrong call is caught).
    writeFileSync(join(dir, "main.ts"), `${script}await api.sandbox("demo").exec({ comand: "typo" });\n`);
    expect(await tsc(dir)).toMatch(/error TS2353|error TS2345|error TS2561/);
  });

  it("type-checks a fresh Worker binding to Sandgate (@sandgate/client/worker) with tsc --strict, no skipLibCheck", async () => {
    const dir = join(project, "worker-check");
    await run("mkdir", ["-p", join(dir, "src")]);
    await run("ln", ["-s", "../node_modules", join(dir, "node_modules")]);
    const tsconfig = {
      compilerOptions: { strict: true, noEmit: true, target: "ES2022", lib: ["ES2022"], module: "ES2022", moduleResolution: "Bundler", types: ["@cloudflare/workers-types"] },
      include: ["src"],
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    const source = readFileSync(join(root, "examples/consumer-worker/src/index.ts"), "utf8");
    writeFileSync(join(dir, "src/index.ts"), source);
    expect(await tsc(dir)).toBe("");
    writeFileSync(join(dir, "src/index.ts"), source.replace("box.exec({ command:", "box.exec({ commandz:"));
    expect(await tsc(dir)).toMatch(/error TS/);
  });
});
