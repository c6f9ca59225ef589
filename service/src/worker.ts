/**
 * The Cloudflare host: composition only. `fetch` serves the same REST app as the Node host plus
 * Cap'n Web at /rpc; `SandgateService` is the WorkerEntrypoint other Workers bind to; the Durable
 * Object classes are exported for wrangler.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { getSandbox } from "@cloudflare/sandbox";
import { newWorkersRpcResponse } from "capnweb";
import type { Backend } from "./core/backend.ts";
import { SandgateCore, defaultLimits } from "./core/core.ts";
import { CloudflareBackend, SANDBOX_OPTIONS } from "./backends/cloudflare/index.ts";
import { SNAPSHOT_INDEX, type SnapshotIndexApi } from "./backends/cloudflare/snapshot-index.ts";
import type { SnapshotBucket } from "./backends/cloudflare/snapshots.ts";
import { RemoteBackend } from "./backends/remote/index.ts";
import { createRestApp } from "./surfaces/rest.ts";
import { SandboxHandle, type SandgateMethods, installRpcMethods } from "./surfaces/rpc.ts";

export { Sandbox } from "@cloudflare/sandbox";
import type { RegistryApi } from "./backends/cloudflare/registry.ts";
import { sandboxNamespace } from "./backends/cloudflare/registry-object.ts";
import { ShardedRegistry } from "./backends/cloudflare/sharded.ts";
export { SandgateRegistry } from "./backends/cloudflare/registry-object.ts";
export type { SandgateRpc, SandgateMethods, SandboxMethods, RpcInput, RpcOutput } from "./surfaces/rpc.ts";
export { readNdjson } from "./surfaces/rpc.ts";

function backendFor(env: Env): Backend {
  if (env.SANDGATE_BACKEND === "remote") {
    if (!env.SANDGATE_REMOTE_URL) throw new Error("SANDGATE_BACKEND=remote needs SANDGATE_REMOTE_URL");
    return new RemoteBackend({ url: env.SANDGATE_REMOTE_URL, token: env.SANDGATE_REMOTE_TOKEN || undefined });
  }
  const sandboxes = sandboxNamespace(env);
  return new CloudflareBackend({
    sandbox: (id) => getSandbox(sandboxes, id, SANDBOX_OPTIONS),
    registry: new ShardedRegistry((name) => env.REGISTRY.get(env.REGISTRY.idFromName(name)) as unknown as RegistryApi),
    snapshots: {
      bucket: env.SNAPSHOTS as unknown as SnapshotBucket,
      index: env.REGISTRY.get(env.REGISTRY.idFromName(SNAPSHOT_INDEX)) as unknown as SnapshotIndexApi,
    },
  });
}

// The env object is stable for an isolate's life, so each is built once.
const cores = new WeakMap<Env, SandgateCore>();
function coreFor(env: Env): SandgateCore {
  let core = cores.get(env);
  if (!core) cores.set(env, (core = new SandgateCore(backendFor(env), defaultLimits, Date.now, env.SANDGATE_TOKEN || undefined)));
  return core;
}

const apps = new WeakMap<Env, ReturnType<typeof createRestApp>>();
function appFor(env: Env) {
  let app = apps.get(env);
  if (!app) {
    app = createRestApp({
      core: coreFor(env),
      auth: {
        token: env.SANDGATE_TOKEN || undefined,
        protectDocs: env.SANDGATE_PROTECT_DOCS === "true",
        failClosed: env.SANDGATE_ALLOW_NO_TOKEN !== "true",
        sandboxInstance: (id) => coreFor(env).sandboxInstance(id),
      },
      onInternalError: (err) => console.error("internal error", err),
      docsAssets: async (name) => {
        const res = await env.DOCS_ASSETS.fetch(new Request(`https://docs.invalid/${name}`));
        return res.ok ? res : undefined;
      },
      rpc: (request, api) => newWorkersRpcResponse(request, api),
    });
    apps.set(env, app);
  }
  return app;
}

/** Workers RPC for service bindings: one method per operation, and `sandbox(id)`. */
export class SandgateService extends WorkerEntrypoint<Env> {
  sandbox(id: string): SandboxHandle {
    return new SandboxHandle(coreFor(this.env), id);
  }

  override fetch(request: Request): Promise<Response> {
    return Promise.resolve(appFor(this.env).fetch(request, this.env, this.ctx));
  }
}
export interface SandgateService extends SandgateMethods {}
installRpcMethods(SandgateService.prototype, (self: SandgateService) => coreFor((self as unknown as { env: Env }).env));

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
