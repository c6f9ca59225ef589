/**
 * The Node host: composes the local backend, core and the REST / Cap'n Web surfaces on one node:http
 * server, with the port proxy and WebSocket upgrades answered at the socket level (the files beside).
 */
import { type RequestListener, type Server, type ServerOptions, createServer } from "node:http";
import { isIP } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { newHttpBatchRpcResponse } from "capnweb";
import { LocalBackend } from "../../backends/local/index.ts";
import { SandgateCore } from "../../core/core.ts";
import { SandgateError } from "../../core/errors.ts";
import { createRestApp } from "../../surfaces/rest.ts";
import type { NodeHostConfig } from "./config.ts";
import { swaggerUiDistAssets } from "./docs-assets.ts";
import { MAX_HEADER_BYTES, answerClientErrors } from "./http.ts";
import { withNodePortProxy } from "./port-proxy.ts";
import { serveRpcWebSockets } from "./rpc-websocket.ts";
import { dropStalledClients } from "./stalled-clients.ts";
import { collectWhenIdle } from "./idle-gc.ts";

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
  const backend = await LocalBackend.open({ dataDir: config.dataDir, isolation: config.isolation, diskBytes: config.diskBytes, logBudgetBytes: config.logBudgetBytes, disks: config.disks, idleStopMs: config.idleStopMs, log });
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
  // The port proxy's HTTP requests are answered at the node:http level, ahead of the REST app (hosts/node/port-proxy.ts).
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
  dropStalledClients(server as Server, config.sendTimeoutMs);
  const stopCollecting = collectWhenIdle();
  serveRpcWebSockets(server, core, auth);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const shownHost = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
  const url = `http://${shownHost}:${port}`;
  if (!config.token) log("auth is OFF: no SANDGATE_TOKEN set; serving loopback only");
  log(`Sandgate listening on ${url} (backend local, isolation ${config.isolation}${backend.cgroupModel ? `, cgroup ${backend.cgroupModel}` : ""}, data ${config.dataDir})`);
  return {
    url,
    server,
    backend,
    async close() {
      stopCollecting();
      await new Promise<void>((r) => server.close(() => r()));
      await backend.close();
    },
  };
}
