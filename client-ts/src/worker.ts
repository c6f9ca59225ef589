// Entry point `@sandgate/client/worker`.
/**
 * Types for a Cloudflare Worker that uses Sandgate over a service binding. With
 * `"services": [{ "binding": "SANDGATE", "service": "sandgate", "entrypoint": "SandgateService" }]`
 * in its wrangler config:
 *
 * ```ts
 * import type { SandgateBinding } from "@sandgate/client/worker";
 * interface Env { SANDGATE: SandgateBinding }
 * const run = await env.SANDGATE.sandbox(id).exec({ command: "echo hi" });
 * ```
 *
 * Only types: nothing here runs, and nothing refers to Sandgate's sources or to capnweb, so a Worker
 * project type-checks against it with `tsc --strict` (no `skipLibCheck` needed).
 */
import type { SandgateRpc } from "./rpc-types.js";

export type { RpcBytes, RpcInput, RpcOutput, SandboxRpcMethods, SandgateRpc, SandgateRpcMethods } from "./rpc-types.js";

/** `env.SANDGATE`: the service's RPC methods (as over Cap'n Web), and `fetch` for its REST API. */
export type SandgateBinding = SandgateRpc & {
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
};
