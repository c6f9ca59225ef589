/**
 * The Node host: Sandgate on one Linux machine, with the local runtime by default.
 * Composition only: configuration in, a backend, core and the REST app wired together, a server out.
 */
import { readFileSync, realpathSync } from "node:fs";
import { type RequestListener, type ServerOptions, createServer } from "node:http";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serve, type ServerType } from "@hono/node-server";
import { LocalBackend } from "./backends/local/index.ts";
import type { IsolationMode } from "./backends/local/isolation.ts";
import { SandgateCore, defaultLimits, type Limits } from "./core/core.ts";
import { createRestApp } from "./surfaces/rest.ts";
import { swaggerUiDistAssets } from "./surfaces/docs-node.ts";
import { serveRpcWebSockets } from "./surfaces/rpc-websocket.ts";
import { MAX_HEADER_BYTES, answerClientErrors } from "./surfaces/node-http.ts";
import { withNodePortProxy } from "./surfaces/port-proxy-node.ts";
import { newHttpBatchRpcResponse } from "capnweb";
import { SandgateError } from "./core/errors.ts";

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
  idleStopMs: number;
}

const USAGE = `Usage: npm start -- [options]

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
          devices), SANDGATE_IDLE_STOP_SECONDS (an environment with nothing running is stopped after
          this long and restarted on next use, files kept; default 600)
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
  const port = Number(values.port ?? env.SANDGATE_PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port '${values.port ?? env.SANDGATE_PORT}'`);
  const isolation = values.isolation ?? env.SANDGATE_ISOLATION ?? "bwrap";
  if (isolation !== "bwrap" && isolation !== "none") throw new Error(`--isolation must be bwrap or none, got '${isolation}'`);
  const token = values["token-file"] ? readFileSync(values["token-file"], "utf8").trim() : env.SANDGATE_TOKEN || undefined;
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
    idleStopMs: number("SANDGATE_IDLE_STOP_SECONDS", 600) * 1000,
  };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || host === "[::1]";
}

export interface RunningHost {
  url: string;
  server: ServerType;
  backend: LocalBackend;
  close(): Promise<void>;
}

export async function startNodeHost(config: NodeHostConfig, log: (line: string) => void = (l) => console.error(l)): Promise<RunningHost> {
  // Fail closed: an open port on a network with no token would hand out shells.
  if (!config.token && !isLoopback(config.host) && !config.insecure) {
    throw new Error(`refusing to listen on ${config.host} without a token: set SANDGATE_TOKEN, or pass --insecure to accept the risk`);
  }
  const backend = await LocalBackend.open({ dataDir: config.dataDir, isolation: config.isolation, diskBytes: config.diskBytes, idleStopMs: config.idleStopMs, log });
  if (config.isolation === "none") {
    log("WARNING: isolation is OFF (--isolation=none). Commands run as this user, on this machine, with its files and network.");
  }
  const core = new SandgateCore(backend, config.limits, Date.now, config.token);
  const auth = { token: config.token, protectDocs: config.protectDocs, sandboxInstance: (id: string) => core.sandboxInstance(id) };
  const logInternalError = (err: unknown) => log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  const app = createRestApp({
    core,
    auth,
    docsAssets: swaggerUiDistAssets(),
    onInternalError: logInternalError,
    rpc: (request, api) =>
      request.method === "POST"
        ? newHttpBatchRpcResponse(request, api)
        : Promise.resolve(Response.json(new SandgateError("invalid_request", "/rpc takes a POST (HTTP batch) or a WebSocket upgrade").toEnvelope(), { status: 400 })),
  });
  // The port proxy's HTTP requests are answered at the node:http level, ahead of the REST app (port-proxy-node.ts).
  const createServerWithPortProxy = ((options: ServerOptions, rest: RequestListener) =>
    createServer(options, withNodePortProxy(rest, { backend, auth, onInternalError: logInternalError }))) as typeof createServer;
  const server = await new Promise<ServerType>((resolveServer, reject) => {
    const s = serve(
      { fetch: app.fetch, hostname: config.host, port: config.port, serverOptions: { maxHeaderSize: MAX_HEADER_BYTES }, createServer: createServerWithPortProxy },
      () => resolveServer(s),
    );
    s.once("error", reject);
  });
  answerClientErrors(server);
  serveRpcWebSockets(server, core, auth);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const shownHost = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
  const url = `http://${shownHost}:${port}`;
  if (!config.token) log("auth is OFF: no SANDGATE_TOKEN set; serving loopback only");
  log(`Sandgate listening on ${url} (backend local, isolation ${config.isolation}${backend.cgroupsEnabled ? ", cgroups" : ""}, data ${config.dataDir})`);
  return {
    url,
    server,
    backend,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await backend.close();
    },
  };
}

async function main(): Promise<void> {
  let config: NodeHostConfig;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  let host: RunningHost;
  try {
    host = await startNodeHost(config);
  } catch (err) {
    process.stderr.write(`sandgate: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const stop = () => {
    host.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
