/** Compile-time checks of the RPC types derived from the operation table (tsc runs this file). */
import type { SandgateRpc } from "../src/surfaces/rpc.ts";
declare const api: SandgateRpc;
export async function f() {
  const sb = await api.createSandbox({ id: "x", ttlSeconds: 5 });
  const s: string = sb.expiresAt;
  const r = await api.exec({ id: "x", command: "ls" });
  const n: number = r.exitCode;
  const h = api.sandbox("x");
  const r2 = await h.exec({ argv: ["a"] });
  const f = await h.readFile({ path: "a" });
  const st: ReadableStream<Uint8Array> = f.body;
  await h.writeFile({ path: "a", body: "hi" });
  const l = await api.listSandboxes();
  const l2 = await h.listFiles();
  await h.deleteSandbox();
  // @ts-expect-error unknown field
  await h.exec({ nope: 1 });
  // @ts-expect-error id required
  await api.exec({ command: "x" });
  return [s, n, r2, st, l, l2];
}
