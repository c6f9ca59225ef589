/**
 * The SDK stand-in is as strict as the SDK: each rule it enforces, shown failing where the SDK fails
 * and passing where the SDK passes (a positive control for every refusal). Reached through the
 * SDK's own getSandbox over real Durable Object RPC.
 */
import { env } from "cloudflare:workers";
import { type Sandbox, getSandbox } from "@cloudflare/sandbox";
import { describe, expect, it } from "vitest";
import type { SandboxStandIn } from "./sdk-stand-in.ts";

const ns = () => env.SDK_STAND_IN as unknown as DurableObjectNamespace<Sandbox>;
const hooks = (name: string) => env.SDK_STAND_IN.get(env.SDK_STAND_IN.idFromName(name)) as unknown as DurableObjectStub<SandboxStandIn>;
const text = (s: ReadableStream<Uint8Array>) => new Response(s).text();

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the SDK stand-in", () => {
  it("refuses ids the SDK refuses, in the SDK's own getSandbox", () => {
    for (const bad of ["api", "WWW", "x-", "-x", "a".repeat(64)]) expect(() => getSandbox(ns(), bad)).toThrow();
    expect(() => getSandbox(ns(), "si-fine")).not.toThrow();
  });

  it("streams files only on the rpc transport", async () => {
    const http = getSandbox(ns(), "si-http");
    await http.writeFile("/workspace/a.txt", "hello");
    await expect(http.readFile("/workspace/a.txt", { encoding: "none" })).rejects.toThrow(/requires the rpc transport/);
    await expect(http.writeFile("/workspace/b.txt", new Response("x").body!)).rejects.toThrow(/requires the rpc transport/);
    const rpc = getSandbox(ns(), "si-rpc", { transport: "rpc" });
    await rpc.writeFile("/workspace/b.txt", new Response("streamed").body!);
    const read = (await rpc.readFile("/workspace/b.txt", { encoding: "none" })) as unknown as { content: ReadableStream<Uint8Array> };
    expect(await text(read.content)).toBe("streamed");
    await rpc.destroy();
    await http.destroy();
  });

  it("runs exec in one shared shell unless the default session is off", async () => {
    const shared = getSandbox(ns(), "si-session");
    await shared.exec("cd /tmp; export LEAK=yes");
    const seen = await shared.exec('pwd; echo "$LEAK"');
    expect(seen.stdout).toBe("/tmp\nyes"); // state leaked, final newline dropped
    await expect(shared.exec("true", { timeout: 300 }).then(() => shared.exec("sleep 2", { timeout: 200 }))).rejects.toThrow(/timed out/);
    await shared.exec("exit 3").catch(() => {});
    await expect(shared.exec("echo after")).rejects.toThrow(/terminated/);

    const own = getSandbox(ns(), "si-nosession", { enableDefaultSession: false });
    await own.exec("cd /tmp; export LEAK=yes");
    expect((await own.exec('pwd; echo "[$LEAK]"')).stdout).toBe("/workspace\n[]\n");
    expect((await own.exec("exit 3")).exitCode).toBe(3);
    expect((await own.exec("echo after")).stdout).toBe("after\n");
    await shared.destroy();
    await own.destroy();
  });

  it("loses prototype getters across RPC: status and context arrive only inside errorResponse", async () => {
    const box = getSandbox(ns(), "si-errors", { transport: "rpc", enableDefaultSession: false });
    const err = (await box.readFile("/workspace/missing", { encoding: "none" }).catch((e: unknown) => e)) as Error & { httpStatus?: number; errorResponse?: unknown };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/missing/);
    expect(err.httpStatus).toBeUndefined();
    // What does cross: the name and the own errorResponse, which the backend maps from.
    expect(err.name).toBe("FileNotFoundError");
    expect(err.errorResponse).toMatchObject({ code: "FILE_NOT_FOUND", httpStatus: 404 });
    await box.destroy();
  });

  it("answers processes without endTime and moves into an existing directory", async () => {
    const box = getSandbox(ns(), "si-shapes", { transport: "rpc", enableDefaultSession: false });
    await box.startProcess("exit 2", { processId: "p1" });
    const done = await until(() => box.getProcess("p1"), (p) => p?.status !== "running");
    expect(done).toMatchObject({ id: "p1", status: "failed", exitCode: 2 });
    expect(done!.endTime).toBeUndefined();
    await box.mkdir("/workspace/dir", { recursive: true });
    await box.writeFile("/workspace/f.txt", "f");
    await box.moveFile("/workspace/f.txt", "/workspace/dir");
    expect((await box.exists("/workspace/dir/f.txt")).exists).toBe(true);
    await box.destroy();
  });

  it("refuses RPC payloads over 32 MiB (a file as one string), and passes the same bytes as a stream", async () => {
    const box = getSandbox(ns(), "si-payload", { transport: "rpc", enableDefaultSession: false });
    const big = "x".repeat(33 * 1024 * 1024);
    await expect(box.writeFile("/workspace/big.txt", big)).rejects.toThrow();
    await box.writeFile("/workspace/big.txt", new Response(big).body!);
    expect((await box.listFiles("/workspace")).files.find((f) => f.name === "big.txt")?.size).toBe(big.length);
    await box.destroy();
  });

  it("cuts idle log streams after the time the test sets", async () => {
    const box = getSandbox(ns(), "si-idle", { transport: "rpc", enableDefaultSession: false });
    await hooks("si-idle").setStreamIdle(300);
    await box.startProcess("echo one; sleep 3; echo two", { processId: "quiet" });
    const stream = await box.streamProcessLogs("quiet");
    // The SDK's "Stream idle timeout" reaches the caller as RPC's own stream error.
    await expect(text(stream)).rejects.toThrow(/idle timeout|disconnected prematurely/);
    await hooks("si-idle").setStreamIdle(300_000);
    await box.destroy();
  });

  it("loses files and processes when the container sleeps, by hook or by sleepAfter, unless kept alive", async () => {
    const box = getSandbox(ns(), "si-sleep", { transport: "rpc", enableDefaultSession: false });
    await box.writeFile("/workspace/kept.txt", "x");
    await box.startProcess("sleep 60", { processId: "long" });
    await hooks("si-sleep").sleep();
    expect((await box.exists("/workspace/kept.txt")).exists).toBe(false);
    expect(await box.getProcess("long")).toBeNull();

    const napping = getSandbox(ns(), "si-nap", { transport: "rpc", enableDefaultSession: false, sleepAfter: "1s" });
    await napping.writeFile("/workspace/kept.txt", "x");
    await until(() => hooks("si-nap").inspect(), (s) => s.sleeps > 0);
    expect((await napping.exists("/workspace/kept.txt")).exists).toBe(false);

    const awake = getSandbox(ns(), "si-awake", { transport: "rpc", enableDefaultSession: false, sleepAfter: "1s", keepAlive: true });
    await awake.writeFile("/workspace/kept.txt", "x");
    await new Promise((r) => setTimeout(r, 1500)); // past sleepAfter: the control above slept by now
    expect((await hooks("si-awake").inspect()).sleeps).toBe(0);
    expect((await awake.exists("/workspace/kept.txt")).exists).toBe(true);
    for (const b of [box, napping, awake]) await b.destroy();
  });
});
