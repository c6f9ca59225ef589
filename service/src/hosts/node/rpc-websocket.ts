/** Upgrades on the Node host: Cap'n Web over WebSocket at /rpc, authenticated like every request, and the port proxy's (port-upgrade.ts). */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { newWebSocketRpcSession } from "capnweb";
import { WebSocketServer } from "ws";
import { type AuthConfig, type Principal, authenticate, presentedToken } from "../../core/auth.ts";
import type { SandgateCore } from "../../core/core.ts";
import { SandgateApi } from "../../surfaces/rpc.ts";
import { matchProxyPath } from "../../core/proxy.ts";
import { proxyUpgrade } from "./port-upgrade.ts";
import { SandgateError } from "../../core/errors.ts";
import { endWithError } from "./http.ts";

interface UpgradeServer {
  on(event: "upgrade", listener: (request: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
}

export function serveRpcWebSockets(server: UpgradeServer, core: SandgateCore, auth: AuthConfig): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on("upgrade", (request, socket, head) => {
    void (async () => {
      const path = new URL(request.url ?? "/", "http://localhost").pathname;
      // Upgrades under /v1/sandboxes/{id}/ports/{port}/ go to the sandbox (port-upgrade.ts).
      const proxied = matchProxyPath(path);
      if (proxied) return proxyUpgrade(request, socket, head, proxied, core.backend, auth);
      if (path !== "/rpc") return endWithError(socket, new SandgateError("not_found", `no WebSocket endpoint at ${path}`));
      let principal: Principal;
      try {
        principal = await authenticate(auth, presentedToken((name) => headerOf(request, name)));
      } catch {
        return endWithError(socket, new SandgateError("unauthorized", "missing or invalid token"));
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        // `ws` implements the EventTarget-style WebSocket API that Cap'n Web's transport uses.
        newWebSocketRpcSession(ws as unknown as WebSocket, new SandgateApi(core, { principal, origin: originOf(request) }));
      });
    })();
  });
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The origin the client used, as the REST app sees it (the Node host serves plain HTTP). */
function originOf(request: IncomingMessage): string | undefined {
  const host = headerOf(request, "host");
  if (!host) return undefined;
  try {
    return new URL(`http://${host}`).origin;
  } catch {
    return undefined;
  }
}
