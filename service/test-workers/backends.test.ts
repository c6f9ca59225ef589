/** The backend contract inside workerd: RemoteBackend, and CloudflareBackend over the SDK stand-in with the real registry Durable Object. */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type Sandbox, getSandbox } from "@cloudflare/sandbox";
import { CloudflareBackend, SANDBOX_OPTIONS, fromSdkError } from "../src/backends/cloudflare/index.ts";
import { ByteLog, CombinedLog } from "../src/backends/cloudflare/logs.ts";
import { type RegistryApi, migrateRegistry } from "../src/backends/cloudflare/registry.ts";
import type { SandgateRegistry } from "../src/backends/cloudflare/registry-object.ts";
import { LEGACY_REGISTRY, ShardedRegistry, shardName } from "../src/backends/cloudflare/sharded.ts";
import { RemoteBackend } from "../src/backends/remote/index.ts";
import { recordInstance } from "../src/core/backend.ts";
import { backendContract } from "../test/backend-contract.ts";
import { SandgateCore, defaultLimits } from "../src/core/core.ts";
import { HOST_TOKEN } from "./constants.ts";
import type { SandboxStandIn as SdkStandInObject } from "./sdk-stand-in.ts";
import portApp from "../test/fixtures/port-app.mjs?raw";

backendContract("RemoteBackend in workerd", {
  prefix: "wremote",
  portApp,
  webSockets: true,
  open: async () => new RemoteBackend({ url: env.TEST_HOST_URL, token: HOST_TOKEN }),
});

function registry(name: string) {
  return env.REGISTRY.get(env.REGISTRY.idFromName(name)) as unknown as DurableObjectStub<SandgateRegistry>;
}

/** The SDK's own getSandbox, with the Worker's options, over the stand-in's Durable Objects (real RPC). */
const standIn = (id: string) => getSandbox(env.SDK_STAND_IN as unknown as DurableObjectNamespace<Sandbox>, id, SANDBOX_OPTIONS);

backendContract("CloudflareBackend over the SDK stand-in", {
  prefix: "wcf",
  portApp,
  webSockets: true,
  noNetworkNone: true,
  terminateOnly: true,
  reservedPorts: [3000],
  open: async () =>
    new CloudflareBackend({
      sandbox: standIn,
      registry: new ShardedRegistry((name) => registry(`contract-${name}`) as unknown as RegistryApi),
    }),
});

describe("CloudflareBackend under the SDK's rules", () => {
  const backend = new CloudflareBackend({ sandbox: standIn, registry: new ShardedRegistry((name) => registry(`rules-${name}`) as unknown as RegistryApi) });
  const core = new SandgateCore(backend, { ...defaultLimits, maxOutputBytes: 1024 });
  const hooks = (id: string) => env.SDK_STAND_IN.get(env.SDK_STAND_IN.idFromName(id)) as unknown as DurableObjectStub<SdkStandInObject>;
  const runningExecs = async (id: string) => (await standIn(id).listProcesses()).filter((p) => p.id.startsWith("exec-") && p.status === "running").length;
  async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (ok(value)) return value;
      if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("refuses at create the ids the SDK refuses, as invalid_request", async () => {
    expect(() => getSandbox(env.SDK_STAND_IN as unknown as DurableObjectNamespace<Sandbox>, "api")).toThrow(/Reserved/); // the SDK's own rule
    for (const id of ["api", "workers", "rules-"]) {
      await expect(core.createSandbox({ id })).rejects.toMatchObject({ code: "invalid_request", details: { backend: "cloudflare", id } });
      await expect(core.getSandbox({ id })).rejects.toMatchObject({ code: "not_found" });
    }
    expect((await core.createSandbox({ id: "rules-ids" })).id).toBe("rules-ids");
    expect(await hooks("rules-ids").inspect()).toMatchObject({ transport: "rpc", keepAlive: true });
    await core.deleteSandbox({ id: "rules-ids" });
  });

  it("runs each command on its own: no state shared, exit ends only the command", async () => {
    await core.createSandbox({ id: "rules-exec" });
    expect(await core.exec({ id: "rules-exec", command: "cd /tmp; export LEAK=1; exit 3" })).toMatchObject({ exitCode: 3 });
    expect(await core.exec({ id: "rules-exec", command: 'pwd; echo "[$LEAK]"' })).toMatchObject({ exitCode: 0, stdout: "/workspace\n[]\n" });
  });

  it("kills a command at its timeout, and a streamed command whose caller hangs up", async () => {
    const beat = "while true; do date +%s%N > beat.new; mv beat.new beat; sleep 0.05; done";
    const read = async () => (await core.readFileJson({ id: "rules-exec", path: "beat", encoding: "utf-8" }).catch(() => ({ content: "" }))).content;
    const slow = await core.exec({ id: "rules-exec", command: beat, timeoutMs: 500 });
    expect(slow).toMatchObject({ timedOut: true });
    await until(() => runningExecs("rules-exec"), (n) => n === 0);
    const first = await read();
    expect(first).not.toBe("");
    await new Promise((r) => setTimeout(r, 300)); // the loop beats every 50 ms: 300 ms without a change means it is gone
    expect(await read()).toBe(first);

    const stop = new AbortController();
    const events = await core.execStream({ id: "rules-exec", command: "while true; do echo tick; sleep 0.05; done" }, stop.signal);
    for await (const event of events) {
      if (event.type === "stdout") break; // hanging up: the iterator's return, as the SSE surface does
    }
    stop.abort();
    await until(() => runningExecs("rules-exec"), (n) => n === 0);
    // Control: a streamed command still running while read is counted.
    const live = await core.execStream({ id: "rules-exec", command: "echo go; sleep 5" }, new AbortController().signal);
    const it = live[Symbol.asyncIterator]();
    await it.next();
    expect(await runningExecs("rules-exec")).toBe(1);
    await it.return?.(undefined);
    await until(() => runningExecs("rules-exec"), (n) => n === 0);
  });

  it("sends stdin larger than an RPC payload (32 MiB) as a stream", async () => {
    const stdin = "€".repeat(12 * 1024 * 1024); // 36 MiB as UTF-8
    const result = await core.exec({ id: "rules-exec", command: "wc -c", stdin, timeoutMs: 60_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: `${3 * 12 * 1024 * 1024}\n` });
  });

  it("maps errors that crossed Durable Object RPC by name and errorResponse", async () => {
    await standIn("rules-exec").mkdir("/workspace/made", { recursive: true });
    const err = await standIn("rules-exec").mkdir("/workspace/made").catch((e: unknown) => e);
    expect((err as { httpStatus?: number }).httpStatus).toBeUndefined(); // the getter did not cross
    expect(fromSdkError(err)).toMatchObject({ code: "conflict" });
    const missing = await standIn("rules-exec").getProcessLogs("nope").catch((e: unknown) => e);
    expect(fromSdkError(missing)).toMatchObject({ code: "not_found" });
  });

  it("moves as a rename: never into an existing directory", async () => {
    await core.writeFileJson({ id: "rules-exec", path: "m/file.txt", content: "f", encoding: "utf-8" });
    await core.mkdir({ id: "rules-exec", path: "m/dir", recursive: true });
    await expect(core.moveFile({ id: "rules-exec", from: "m/file.txt", to: "m/dir", overwrite: true })).rejects.toMatchObject({ code: "conflict" });
    expect((await core.statFile({ id: "rules-exec", path: "m/file.txt" })).type).toBe("file");
    await expect(core.statFile({ id: "rules-exec", path: "m/dir/file.txt" })).rejects.toMatchObject({ code: "not_found" });
    await core.mkdir({ id: "rules-exec", path: "m/src/inner", recursive: true });
    await core.moveFile({ id: "rules-exec", from: "m/src", to: "m/dir", overwrite: true });
    expect((await core.statFile({ id: "rules-exec", path: "m/dir/inner" })).type).toBe("directory");
    await expect(core.statFile({ id: "rules-exec", path: "m/dir/src" })).rejects.toMatchObject({ code: "not_found" });
  });

  it("reopens log streams the platform cuts, for follows and for exec", async () => {
    await hooks("rules-exec").setStreamIdle(300);
    try {
      const proc = await core.startProcess({ id: "rules-exec", command: "echo a; sleep 1; echo b >&2; sleep 1; echo c" });
      const got: string[] = [];
      for await (const event of await core.streamProcessLogs({ id: "rules-exec", processId: proc.id }, new AbortController().signal)) {
        expect(event.type).not.toBe("error");
        if (event.type === "stdout" || event.type === "stderr") got.push(event.data);
        if (event.type === "exit") expect(event).toMatchObject({ status: "exited", exitCode: 0 });
      }
      expect(got.join("")).toBe("a\nb\nc\n");
      expect(await core.exec({ id: "rules-exec", command: "sleep 1; echo done" })).toMatchObject({ exitCode: 0, stdout: "done\n" });
    } finally {
      await hooks("rules-exec").setStreamIdle(300_000);
    }
  });

  it("leaves no process behind when its registry row cannot be written", async () => {
    const shards = new ShardedRegistry((name) => registry(`rules-${name}`) as unknown as RegistryApi);
    const failing: RegistryApi = Object.assign(Object.create(shards) as RegistryApi, {
      addProcess: async () => {
        throw new Error("registry unavailable");
      },
    });
    const flaky = new SandgateCore(new CloudflareBackend({ sandbox: standIn, registry: failing }), defaultLimits);
    await expect(flaky.startProcess({ id: "rules-exec", command: "sleep 60", name: "orphan" })).rejects.toThrow();
    const running = (await standIn("rules-exec").listProcesses()).filter((p) => !p.id.startsWith("exec-") && p.status === "running");
    expect(running).toEqual([]);
    // Control: with a working registry the same start leaves the process running.
    const ok = await core.startProcess({ id: "rules-exec", command: "sleep 60" });
    expect((await standIn("rules-exec").getProcess(ok.id))?.status).toBe("running");
    await core.killProcess({ id: "rules-exec", processId: ok.id });
  });

  it("reports what a container stop loses: the sandbox sleeps, its processes are lost, its files gone", async () => {
    await core.writeFileJson({ id: "rules-exec", path: "kept.txt", content: "x", encoding: "utf-8" });
    const proc = await core.startProcess({ id: "rules-exec", command: "sleep 60" });
    expect((await core.getSandbox({ id: "rules-exec" })).status).toBe("ready");
    expect((await core.getProcess({ id: "rules-exec", processId: proc.id })).status).toBe("running");
    await hooks("rules-exec").sleep();
    expect((await core.getSandbox({ id: "rules-exec" })).status).toBe("sleeping");
    const lost = await core.getProcess({ id: "rules-exec", processId: proc.id });
    expect(lost.status).toBe("lost");
    expect(lost.endedAt).not.toBeNull();
    await expect(core.readFileJson({ id: "rules-exec", path: "kept.txt", encoding: "utf-8" })).rejects.toMatchObject({ code: "not_found" });
    await core.deleteSandbox({ id: "rules-exec" });
  });
});

describe("the registry Durable Object", () => {
  it("keeps one record per id and reaps expired ones with its alarm", async () => {
    const stub = registry("alarm-test");
    const now = Date.now();
    const record = (id: string, expiresIn: number) => ({ id, labels: {}, env: {}, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + expiresIn).toISOString() });
    expect(await stub.create(record("old", -1000))).toBe(true);
    expect(await stub.create(record("old", 5000))).toBe(false);
    expect(await stub.create(record("young", 60_000))).toBe(true);
    const alarm = await runInDurableObject(stub, (_instance: SandgateRegistry, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + 1000); // due now: the earliest expiry has passed
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.get("old")).toBeNull();
    expect((await stub.get("young"))?.id).toBe("young");
    expect(await runInDurableObject(stub, (_i: SandgateRegistry, state) => state.storage.getAlarm())).toBe(now + 60_000);
  });

  it("keeps the record of a sandbox whose destroy failed, and destroys it on a later alarm", async () => {
    const stub = registry("retry-test");
    const box = env.SDK_STAND_IN.get(env.SDK_STAND_IN.idFromName("stubborn")) as unknown as DurableObjectStub<SdkStandInObject>;
    await standIn("stubborn").writeFile("/workspace/x", "x"); // the container runs
    await box.failDestroys(2);
    const past = new Date(Date.now() - 1000).toISOString();
    expect(await stub.create({ id: "stubborn", labels: {}, env: {}, createdAt: past, expiresAt: past })).toBe(true);
    // Control: a sandbox whose destroy works is forgotten at once.
    expect(await stub.create({ id: "meek", labels: {}, env: {}, createdAt: past, expiresAt: past })).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.get("meek")).toBeNull();
    expect((await stub.get("stubborn"))?.id).toBe("stubborn");
    const retryAt = await runInDurableObject(stub, (_i: SandgateRegistry, state) => state.storage.getAlarm());
    expect(retryAt).toBeGreaterThan(Date.now()); // backs off instead of spinning
    for (let i = 0; i < 2; i++) {
      await runInDurableObject(stub, (_i: SandgateRegistry, state) => state.storage.sql.exec("UPDATE sandboxes SET destroy_retry_at = NULL"));
      expect(await runDurableObjectAlarm(stub)).toBe(true);
    }
    expect(await stub.get("stubborn")).toBeNull();
    expect((await box.inspect()).destroys).toBe(1);
  });

  it("spreads records over shards by id, and still finds records of the single registry of earlier versions", async () => {
    const sharded = new ShardedRegistry((name) => registry(`shards-${name}`) as unknown as RegistryApi);
    const legacy = registry(`shards-${LEGACY_REGISTRY}`);
    const now = new Date().toISOString();
    const record = (id: string) => ({ id, labels: { suite: "shards" }, env: {}, createdAt: now, expiresAt: "2099-01-01T00:00:00.000Z" });
    expect(await legacy.create(record("old-one"))).toBe(true);
    const ids = Array.from({ length: 12 }, (_, i) => `new-${i}`);
    for (const id of ids) expect(await sharded.create(record(id))).toBe(true);
    expect(await sharded.create(record("old-one"))).toBe(false);
    expect(new Set(ids.map(shardName)).size).toBeGreaterThan(4);
    expect((await registry(`shards-${shardName("new-3")}`).get("new-3"))?.id).toBe("new-3");
    expect(await legacy.get("new-3")).toBeNull();
    expect((await sharded.get("old-one"))?.id).toBe("old-one");
    const all = await sharded.list({ labels: { suite: "shards" }, limit: 100 });
    expect(all.map((r) => r.id)).toEqual(["new-0", "new-1", "new-10", "new-11", "new-2", "new-3", "new-4", "new-5", "new-6", "new-7", "new-8", "new-9", "old-one"]);
    const page = await sharded.list({ labels: { suite: "shards" }, limit: 3, after: "new-11" });
    expect(page.map((r) => r.id)).toEqual(["new-2", "new-3", "new-4"]);
    const row = { processId: "p", name: null, argv: ["true"], cwd: "/workspace", startedAt: now, killRequested: false, endedAt: null };
    expect(await sharded.addProcess("old-one", row)).toBe(true);
    expect((await legacy.getProcess("old-one", "p"))?.processId).toBe("p");
    await sharded.remove("old-one");
    expect(await sharded.get("old-one")).toBeNull();
  });
});

describe("the registry Durable Object, versions apart", () => {
  it("brings a registry written before networks existed up to date, and keeps network and env", async () => {
    const stub = registry("migration-test");
    const record = await runInDurableObject(stub, async (instance: SandgateRegistry, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE sandboxes");
      sql.exec("CREATE TABLE sandboxes (id TEXT PRIMARY KEY, labels TEXT NOT NULL, env TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL)");
      sql.exec("INSERT INTO sandboxes VALUES ('old', '{}', '{\"A\":\"1\"}', '2026-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z')");
      migrateRegistry(sql);
      migrateRegistry(sql); // idempotent
      return instance.get("old");
    });
    expect(record).toMatchObject({ id: "old", env: { A: "1" }, network: "egress" });
    // No instance in a row from before instances: one derived from its creation time (never a new sandbox's).
    expect(record?.instance).toBeUndefined();
    expect(recordInstance(record!)).toBe("legacy-2026-01-01T00:00:00.000Z");
    expect(await stub.update("old", { env: { B: "2" } })).toMatchObject({ env: { B: "2" } });
    expect((await stub.get("old"))?.env).toEqual({ B: "2" });
    const now = new Date().toISOString();
    expect(await stub.create({ id: "quiet", labels: {}, env: {}, createdAt: now, expiresAt: "2099-01-01T00:00:00.000Z", network: "none" })).toBe(true);
    expect((await stub.get("quiet"))?.network).toBe("none");
    expect(await stub.create({ id: "bound", labels: {}, env: {}, createdAt: now, expiresAt: "2099-01-01T00:00:00.000Z", instance: "i-abcdefghijklmnopqrst" })).toBe(true);
    expect((await stub.get("bound"))?.instance).toBe("i-abcdefghijklmnopqrst");
    expect((await stub.update("bound", { labels: { a: "b" } }))?.instance).toBe("i-abcdefghijklmnopqrst");
  });

  it("lays out one combined log that every reader agrees on, whatever order they saw output in", async () => {
    const stub = registry("layout-test");
    const now = new Date().toISOString();
    await stub.create({ id: "sb", labels: {}, env: {}, createdAt: now, expiresAt: "2099-01-01T00:00:00.000Z" });
    const row = { processId: "p", name: null, argv: ["true"], cwd: "/workspace", startedAt: now, killRequested: false, endedAt: null };
    expect(await stub.addProcess("sb", row)).toBe(true);
    expect(await stub.addProcess("sb", row)).toBe(false);
    expect(await stub.addProcess("nope", row)).toBe(false);
    expect(await stub.extendLog("sb", "missing", null, 0)).toBeNull();
    // Reader 1 saw 5 bytes of stdout; reader 2 then saw 5 of stdout and 3 of stderr; reader 1 then 9 of stdout.
    expect(await stub.extendLog("sb", "p", { stdout: 5, stderr: 0 }, 0)).toEqual({ since: 0, segments: [[0, 5]] });
    expect(await stub.extendLog("sb", "p", { stdout: 5, stderr: 3 }, 0)).toEqual({ since: 0, segments: [[0, 5], [1, 3]] });
    expect(await stub.extendLog("sb", "p", { stdout: 9, stderr: 0 }, 1)).toEqual({ since: 1, segments: [[1, 3], [0, 9]] });
    // Both streams grew: stdout's new bytes first, then stderr's; the last segment grows in place.
    expect(await stub.extendLog("sb", "p", { stdout: 12, stderr: 4 }, 2)).toEqual({ since: 2, segments: [[0, 12], [1, 4]] });
    expect(await stub.extendLog("sb", "p", { stdout: 12, stderr: 6 }, 3)).toEqual({ since: 3, segments: [[1, 6]] });
    expect(await stub.markKillRequested("sb", "p")).toBe(true);
    expect((await stub.listProcesses("sb")).map((p) => [p.processId, p.killRequested])).toEqual([["p", true]]);
    await stub.remove("sb");
    expect(await stub.getProcess("sb", "p")).toBeNull();
    expect(await stub.extendLog("sb", "p", null, 0)).toBeNull();
  });
});

describe("the combined log of the Cloudflare backend", () => {
  const streams = (out: string, err: string) => [ByteLog.of(out), ByteLog.of(err)] as const;
  const text = (log: CombinedLog, from: number, to: number, s: readonly [ByteLog, ByteLog], max?: number, align = false) =>
    [...log.pieces(from, to, s, max, align)].map((p) => `${p.stream}@${p.offset}:${p.data}`);

  it("places stdout and stderr by the layout and cuts only between characters", () => {
    const log = new CombinedLog();
    log.apply({ since: 0, segments: [[0, 4], [1, 3], [0, 9]] });
    expect(log.length).toBe(12);
    const s = streams("abc\néé\n", "E1\n");
    expect(text(log, 0, 99, s)).toEqual(["stdout@0:abc\n", "stderr@4:E1\n", "stdout@7:éé\n"]);
    expect(text(log, 5, 99, s)).toEqual(["stderr@5:1\n", "stdout@7:éé\n"]);
    // A limit inside é backs off to its start (or, less than one character, takes it whole); pieces of 3 bytes never split one.
    expect(text(log, 0, 8, s)).toEqual(["stdout@0:abc\n", "stderr@4:E1\n"]);
    expect(text(log, 7, 8, s)).toEqual(["stdout@7:é"]);
    expect(text(log, 7, 11, s, 3)).toEqual(["stdout@7:é", "stdout@9:é"]);
    expect(text(log, 7, 10, s, 3)).toEqual(["stdout@7:é"]);
    // A tail that starts inside a character starts at the next one.
    expect(text(log, 8, 99, s, undefined, true)).toEqual(["stdout@9:é\n"]);
    // Bytes not seen yet end the pieces, even when the layout goes further.
    expect(text(log, 0, 99, streams("abc\n", "E1\n"))).toEqual(["stdout@0:abc\n", "stderr@4:E1\n"]);
    expect(text(log, 0, 99, streams("abc\néé\n", "E"))).toEqual(["stdout@0:abc\n", "stderr@4:E"]);
    // A later page replaces the last segment, which grew.
    log.apply({ since: 2, segments: [[0, 10], [1, 5]] });
    expect(log.length).toBe(15);
    expect(text(log, 7, 99, streams("abc\néé\nx", "E1\nE2"))).toEqual(["stdout@7:éé\nx", "stderr@13:E2"]);
  });
});

describe("SDK error mapping", () => {
  it("maps the SDK's typed errors to Sandgate codes", () => {
    const unavailable = Object.assign(new Error("container starting"), { name: "ContainerUnavailableError", context: { retryAfterMs: 2500 } });
    expect(fromSdkError(unavailable)).toMatchObject({ code: "sandbox_unavailable", details: { retryAfterMs: 2500 } });
    expect(fromSdkError(Object.assign(new Error("interrupted"), { name: "OperationInterruptedError" }))).toMatchObject({ code: "sandbox_unavailable" });
    expect(fromSdkError(Object.assign(new Error("File not found: /x"), { httpStatus: 404 }))).toMatchObject({ code: "not_found" });
    expect(fromSdkError(new Error("weird"))).toMatchObject({ code: "internal", message: "the sandbox runtime failed" });
    const timeout = Object.assign(new Error("Process did not become ready within 500ms. Waiting for: port 8080 (TCP)"), { name: "ProcessReadyTimeoutError", httpStatus: 408 });
    expect(fromSdkError(timeout)).toMatchObject({ code: "timeout" });
    // Across Durable Object RPC only the message may survive.
    expect(fromSdkError(new Error("Process exited with code 4 before becoming ready. Waiting for: port 8080 (TCP)"))).toMatchObject({ code: "conflict" });
    expect(fromSdkError(Object.assign(new Error("Invalid port number: 80."), { name: "SandboxSecurityError" }))).toMatchObject({ code: "invalid_request" });
    // As they arrive across Durable Object RPC: name and the own errorResponse, no getters.
    const crossed = (name: string, httpStatus: number, context: Record<string, unknown> = {}) =>
      Object.assign(new Error(`${name} happened`), { name, errorResponse: { code: "X", message: `${name} happened`, httpStatus, context } });
    expect(fromSdkError(crossed("SandboxError", 409))).toMatchObject({ code: "conflict" });
    expect(fromSdkError(crossed("PermissionDeniedError", 403))).toMatchObject({ code: "forbidden" });
    expect(fromSdkError(crossed("FileTooLargeError", 413))).toMatchObject({ code: "payload_too_large" });
    expect(fromSdkError(crossed("ContainerUnavailableError", 503, { retryAfterMs: 2500 }))).toMatchObject({ code: "sandbox_unavailable", details: { retryAfterMs: 2500 } });
    expect(fromSdkError(crossed("SessionTerminatedError", 410))).toMatchObject({ code: "internal" });
  });
});
