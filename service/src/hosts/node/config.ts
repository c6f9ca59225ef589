/** The Node host's configuration: command-line flags and SANDGATE_* variables, checked. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { IsolationMode } from "../../backends/local/isolation.ts";
import { defaultLimits, type Limits } from "../../core/core.ts";

export interface NodeHostConfig {
  host: string;
  port: number;
  dataDir: string;
  token?: string;
  isolation: IsolationMode;
  insecure: boolean;
  protectDocs: boolean;
  limits: Limits;
  /** The local runtime's per-sandbox disk quota and idle-environment stop. */
  diskBytes: number;
  /** What one sandbox's process logs may take on the host's disk (default an eighth of diskBytes). */
  logBudgetBytes: number;
  /** How a root host keeps sandboxes' disks: one btrfs pool (restores clone) or an ext4 image each. */
  disks: "pool" | "image";
  idleStopMs: number;
  /** A client with response bytes waiting that reads nothing for this long is disconnected. */
  sendTimeoutMs: number;
}

export const USAGE = `Usage: npm start -- [options]

Options (each also an environment variable):
  --host <addr>          SANDGATE_HOST        listen address (default 127.0.0.1)
  --port <n>             SANDGATE_PORT        listen port (default 8787; 0 picks a free one)
  --data-dir <dir>       SANDGATE_DATA_DIR    sandboxes and registry (default ./.sandgate)
  --token-file <file>    SANDGATE_TOKEN       API token (the variable holds the token itself)
  --isolation <mode>     SANDGATE_ISOLATION   bwrap (default) or none (no isolation at all)
  --insecure             SANDGATE_INSECURE=1  allow a non-loopback address without a token
  --protect-docs         SANDGATE_PROTECT_DOCS=1  require the token for /openapi.json and /docs
  Limits: SANDGATE_DEFAULT_TTL_SECONDS, SANDGATE_EXEC_TIMEOUT_MS, SANDGATE_MAX_OUTPUT_BYTES,
          SANDGATE_MAX_FILE_BYTES, SANDGATE_MAX_JSON_FILE_BYTES,
          SANDGATE_MAX_SNAPSHOT_BYTES
  Sandboxes: SANDGATE_DISK_BYTES (each sandbox's disk quota, default 10 GiB; root hosts with loop
          devices), SANDGATE_LOG_BYTES (what one sandbox's background process logs may take on the
          host's disk, oldest output dropped first; default an eighth of the disk quota),
          SANDGATE_DISKS (pool: subvolumes of one btrfs pool, restores clone files, the default
          where btrfs-progs are installed; image: an ext4 image per sandbox),
          SANDGATE_IDLE_STOP_SECONDS (an environment with nothing running is stopped after
          this long and restarted on next use, files kept; default 600)
  Clients: SANDGATE_SEND_TIMEOUT_SECONDS (a client that reads nothing of a response for this long
          is disconnected; default 60)
`;

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): NodeHostConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      "data-dir": { type: "string" },
      "token-file": { type: "string" },
      isolation: { type: "string" },
      insecure: { type: "boolean" },
      "protect-docs": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const flag = (name: string) => ["1", "true", "yes"].includes((env[name] ?? "").toLowerCase());
  const number = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${allowed.join(", ")}, got '${raw}'`);
    return raw as T;
  };
  const port = Number(values.port ?? env.SANDGATE_PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port '${values.port ?? env.SANDGATE_PORT}'`);
  const isolation = values.isolation ?? env.SANDGATE_ISOLATION ?? "bwrap";
  if (isolation !== "bwrap" && isolation !== "none") throw new Error(`--isolation must be bwrap or none, got '${isolation}'`);
  const token = values["token-file"] ? readTokenFile(values["token-file"]) : env.SANDGATE_TOKEN || undefined;
  return {
    host: values.host ?? env.SANDGATE_HOST ?? "127.0.0.1",
    port,
    dataDir: resolve(values["data-dir"] ?? env.SANDGATE_DATA_DIR ?? ".sandgate"),
    token,
    isolation,
    insecure: values.insecure ?? flag("SANDGATE_INSECURE"),
    protectDocs: values["protect-docs"] ?? flag("SANDGATE_PROTECT_DOCS"),
    limits: {
      ...defaultLimits,
      defaultTtlSeconds: number("SANDGATE_DEFAULT_TTL_SECONDS", defaultLimits.defaultTtlSeconds),
      defaultTimeoutMs: number("SANDGATE_EXEC_TIMEOUT_MS", defaultLimits.defaultTimeoutMs),
      maxOutputBytes: number("SANDGATE_MAX_OUTPUT_BYTES", defaultLimits.maxOutputBytes),
      maxFileBytes: number("SANDGATE_MAX_FILE_BYTES", defaultLimits.maxFileBytes),
      maxSnapshotBytes: number("SANDGATE_MAX_SNAPSHOT_BYTES", defaultLimits.maxSnapshotBytes),
      maxJsonFileBytes: number("SANDGATE_MAX_JSON_FILE_BYTES", defaultLimits.maxJsonFileBytes),
    },
    diskBytes: number("SANDGATE_DISK_BYTES", 10 * 1024 ** 3),
    logBudgetBytes: number("SANDGATE_LOG_BYTES", Math.floor(number("SANDGATE_DISK_BYTES", 10 * 1024 ** 3) / 8)),
    disks: oneOf("SANDGATE_DISKS", ["pool", "image"] as const, "pool"),
    idleStopMs: number("SANDGATE_IDLE_STOP_SECONDS", 600) * 1000,
    sendTimeoutMs: number("SANDGATE_SEND_TIMEOUT_SECONDS", 60) * 1000,
  };
}

/** The API token from --token-file, or an error that says which file and why (not a bare ENOENT). */
function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new Error(`--token-file ${path}: cannot read the token (${reason})`);
  }
  const token = text.trim();
  if (token === "") throw new Error(`--token-file ${path}: the file is empty; it must hold the API token`);
  return token;
}
