/** The backend contract inside workerd: RemoteBackend, and CloudflareBackend over the SDK stand-in with the real registry Durable Object. */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CloudflareBackend, fromSdkError } from "../src/backends/cloudflare/index.ts";
import type { RegistryApi } from "../src/backends/cloudflare/registry.ts";
import type { SandgateRegistry } from "../src/backends/cloudflare/registry-object.ts";
import { RemoteBackend } from "../src/backends/remote/index.ts";
import { backendContract } from "../test/backend-contract.ts";
import { HOST_TOKEN } from "./constants.ts";
import { SdkStandIn } from "./sdk-stand-in.ts";


backendContract("RemoteBackend in workerd", {
  prefix: "wremote",
  open: async () => new RemoteBackend({ url: env.TEST_HOST_URL, token: HOST_TOKEN }),
});

function registry(name: string) {
  return env.REGISTRY.get(env.REGISTRY.idFromName(name)) as unknown as DurableObjectStub<SandgateRegistry>;
}

backendContract("CloudflareBackend over the SDK stand-in", {
  prefix: "wcf",
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

describe("SDK error mapping", () => {
  it("maps the SDK's typed errors to Sandgate codes", () => {
    const unavailable = Object.assign(new Error("container starting"), { name: "ContainerUnavailableError", context: { retryAfterMs: 2500 } });
    expect(fromSdkError(unavailable)).toMatchObject({ code: "sandbox_unavailable", details: { retryAfterMs: 2500 } });
    expect(fromSdkError(Object.assign(new Error("interrupted"), { name: "OperationInterruptedError" }))).toMatchObject({ code: "sandbox_unavailable" });
    expect(fromSdkError(Object.assign(new Error("File not found: /x"), { httpStatus: 404 }))).toMatchObject({ code: "not_found" });
    expect(fromSdkError(new Error("weird"))).toMatchObject({ code: "internal", message: "the sandbox runtime failed" });
  });
});
