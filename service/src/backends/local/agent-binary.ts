import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, readdir, rename } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The agent's Go module (service/agent) and where its build goes. */
const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "../../../agent");
const BUILT = join(SOURCE, "bin", "sandgate-agent");

/**
 * The agent binary this host starts in every environment, as a copy in the data directory (root's,
 * 0755: a sandbox's identity must be able to read it, and nothing of the repository's path has to
 * be). Built from service/agent with Go when it is missing or older than its sources.
 */
export async function agentBinary(dataDir: string, log: (message: string) => void): Promise<string> {
  if (!existsSync(BUILT) || (await newestSource()) > statSync(BUILT).mtimeMs) await buildAgent(log);
  const dir = join(dataDir, "bin");
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const target = join(dir, "sandgate-agent");
  const [built, current] = await Promise.all([readFile(BUILT), readFile(target).catch(() => undefined)]);
  if (!current || !built.equals(current)) {
    const temp = `${target}.${process.pid}`;
    await copyFile(BUILT, temp);
    await chmod(temp, 0o755);
    await rename(temp, target);
  }
  return target;
}

async function newestSource(): Promise<number> {
  const names = await readdir(SOURCE).catch(() => [] as string[]);
  return Math.max(0, ...names.filter((n) => n.endsWith(".go") || n === "go.mod" || n === "go.sum").map((n) => statSync(join(SOURCE, n)).mtimeMs));
}

/** go build, static, into a temporary name renamed into place (hosts starting together may race). */
export async function buildAgent(log: (message: string) => void): Promise<void> {
  const go = goPath();
  const temp = `${BUILT}.${process.pid}.tmp`;
  log("building the sandbox agent (service/agent) with Go");
  try {
    await mkdir(dirname(BUILT), { recursive: true });
    await run(go, ["build", "-trimpath", "-ldflags=-s -w", "-o", temp, "."], { cwd: SOURCE, env: { ...process.env, HOME: process.env.HOME ?? homedir(), CGO_ENABLED: "0", GOFLAGS: "-mod=mod" } });
    await rename(temp, BUILT);
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`the local runtime's sandbox agent could not be built (Go 1.25+ is needed: https://go.dev/dl/): ${detail}`);
  }
}

function goPath(): string {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/local/go/bin", "/usr/lib/go/bin"]) {
    if (dir && existsSync(join(dir, "go"))) return join(dir, "go");
  }
  return "go";
}

/** `node agent-binary.ts`: builds the agent if it is missing or stale (npm run build:agent). */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!existsSync(BUILT) || (await newestSource()) > statSync(BUILT).mtimeMs) await buildAgent(console.log);
}
