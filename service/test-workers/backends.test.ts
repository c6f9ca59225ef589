/** The backend contract inside workerd: RemoteBackend, and CloudflareBackend over the SDK stand-in with the real registry Durable Object. */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CloudflareBackend, fromSdkError } from "../src/backends/cloudflare/index.ts";
import { ByteLog, CombinedLog } from "../src/backends/cloudflare/logs.ts";
import { type RegistryApi, migrateRegistry } from "../src/backends/cloudflare/registry.ts";
import type { SandgateRegistry } from "../src/backends/cloudflare/registry-object.ts";
import { RemoteBackend } from "../src/backends/remote/index.ts";
import { recordInstance } from "../src/core/backend.ts";
import { backendContract } from "../test/backend-contract.ts";
import { HOST_TOKEN } from "./constants.ts";
import { SdkStandIn } from "./sdk-stand-in.ts";
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

backendContract("CloudflareBackend over the SDK stand-in", {
  prefix: "wcf",
  portApp,
  webSockets: true,
  noNetworkNone: true,
  terminateOnly: true,
  reservedPorts: [3000],
  open: async () =>
    new CloudflareBackend({
      sandbox: (id) => new SdkStandIn(env.TEST_HOST_URL, HOST_TOKEN, `cf-${id}`),
      registry: registry("contract") as unknown as RegistryApi,
    }),
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
    const row = { processId: "p", name: null, argv: ["true"], cwd: "/workspace", startedAt: now, killRequested: false };
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
  });
});
