import { describe, expect, it } from "vitest";
import type { RpcInput as ServiceRpcInput, RpcOutput as ServiceRpcOutput, SandgateMethods as ServiceMethods } from "../../service/src/surfaces/rpc.ts";
import type { ExecEvent, ProcessLogEvent } from "../src/index.ts";
import { SandgateError } from "../src/errors.ts";
import { type RpcInput, type RpcOutput, type SandgateRpcMethods, connectRpc, readNdjson } from "../src/rpc.ts";
import { TOKEN, useHost } from "./helpers.ts";

const { host } = useHost();

/**
 * Compile-time: the client's RPC types, derived from the OpenAPI types, fit the service's operation by
 * operation: every input the client allows is one the service accepts (the service also takes query
 * strings such as recursive: "true"), and outputs are equal.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Accepted<A, B> = [A] extends [B] ? true : false;
type AllTrue<T> = T[keyof T] extends true ? true : false;
type Id = keyof SandgateRpcMethods;
const inputParity: AllTrue<{ [K in Id]: Accepted<RpcInput<K>, ServiceRpcInput<K>> }> = true;
const outputParity: AllTrue<{ [K in Id]: Same<RpcOutput<K>, ServiceRpcOutput<K>> }> = true;
const sameOperations: Same<Id, keyof ServiceMethods> = true;

describe("connectRpc", () => {
  it("types the session like the service's RPC interface", () => {
    expect([inputParity, outputParity, sameOperations]).toEqual([true, true, true]);
  });

  it("runs a session over WebSocket with a pipelined call and streams", async () => {
    using api = connectRpc(host().url, { token: TOKEN });
    await api.createSandbox({ id: "client-rpc" });
    const result = await api.sandbox("client-rpc").exec({ command: "echo over rpc" });
    expect(result).toMatchObject({ exitCode: 0, stdout: "over rpc\n" });
    await api.sandbox("client-rpc").writeFile({ path: "x.txt", body: "bytes" });
    const file = await api.sandbox("client-rpc").readFile({ path: "x.txt" });
    expect(await new Response(file.body).text()).toBe("bytes");
    const events: ExecEvent[] = [];
    for await (const event of readNdjson<ExecEvent>(await api.sandbox("client-rpc").execStream({ command: "echo streamed" }))) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "exit", exitCode: 0 });
    await expect(api.getSandbox({ id: "nope" })).rejects.toMatchObject({ code: "not_found" });
  });

  it("starts a process and follows its log from an offset, the new operations typed from the schema", async () => {
    using api = connectRpc(host().url, { token: TOKEN });
    const box = api.sandbox("client-rpc-processes");
    await api.createSandbox({ id: "client-rpc-processes" });
    const proc = await box.startProcess({ command: "echo one; echo two" });
    expect((await box.waitForLog({ processId: proc.id, pattern: "^two$" })).line).toBe("two");
    const events: ProcessLogEvent[] = [];
    for await (const event of readNdjson<ProcessLogEvent>(await box.streamProcessLogs({ processId: proc.id, offset: 4 }))) events.push(event);
    expect(events.flatMap((e) => (e.type === "stdout" ? [e.data] : [])).join("")).toBe("two\n");
    expect(events.at(-1)).toMatchObject({ type: "exit", status: "exited", exitCode: 0, nextOffset: 8 });
    const logs = await box.getProcessLogs({ processId: proc.id });
    expect(logs.stdout).toBe("one\ntwo\n");
    await api.deleteSandbox({ id: "client-rpc-processes" });
  });

  it("runs an HTTP batch with a pipelined call in one request", async () => {
    const api = connectRpc(`${host().url}/rpc`, { token: TOKEN, transport: "batch" });
    const [info, result] = await Promise.all([api.getSandbox({ id: "client-rpc" }), api.sandbox("client-rpc").exec({ argv: ["echo", "batched"] })]);
    expect(info.id).toBe("client-rpc");
    expect(result.stdout).toBe("batched\n");
  });

  it("is refused without the token", async () => {
    // Control: the same call with the token is answered.
    expect(await connectRpc(host().url, { token: TOKEN, transport: "batch" }).health()).toMatchObject({ ok: true });
    const api = connectRpc(host().url, { transport: "batch" });
    await expect(api.health()).rejects.toMatchObject({ code: "unauthorized", status: 401 });
  });

  it("rejects with SandgateError on a handle it awaited first, not only on pipelined calls", async () => {
    using api = connectRpc(host().url, { token: TOKEN });
    const box = await api.sandbox("client-rpc");
    expect((await box.exec({ command: "echo awaited handle" })).stdout).toBe("awaited handle\n"); // control: the handle works
    const missing = await api.sandbox("client-rpc-no-such-sandbox");
    await expect(missing.exec({ command: "true" })).rejects.toSatisfy((e) => e instanceof SandgateError && e.code === "not_found" && e.status === 404);
  });
});
