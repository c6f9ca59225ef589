import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestHost, eventually, startHost } from "./host.ts";

let host: TestHost;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

describe("sandbox lifecycle", () => {
  it("creates, gets, updates and deletes a sandbox", async () => {
    const before = Date.now();
    const created = await host.json("POST", "/v1/sandboxes", { id: "life", ttlSeconds: 600, labels: { team: "a" }, env: { X: "1" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: "life", status: "ready", labels: { team: "a" } });
    const expires = Date.parse(created.body.expiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(599_000);
    expect(expires - before).toBeLessThan(602_000);

    const got = await host.json("GET", "/v1/sandboxes/life");
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const extended = await host.json("PATCH", "/v1/sandboxes/life", { extendBySeconds: 100 });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.expiresAt) - expires).toBe(100_000);

    const sentAt = Date.now();
    const relabeled = await host.json("PATCH", "/v1/sandboxes/life", { labels: { team: "b" }, ttlSeconds: 50 });
    const answeredAt = Date.now();
    expect(relabeled.body.labels).toEqual({ team: "b" });
    // 50 s from when the host took the request: between sending it and its answer.
    expect(Date.parse(relabeled.body.expiresAt)).toBeGreaterThanOrEqual(sentAt + 50_000);
    expect(Date.parse(relabeled.body.expiresAt)).toBeLessThanOrEqual(answeredAt + 50_000);

    const deleted = await host.call("DELETE", "/v1/sandboxes/life");
    expect(deleted.status).toBe(204);
    expect((await host.json("GET", "/v1/sandboxes/life")).status).toBe(404);
    expect(existsSync(join(host.dataDir, "sandboxes", "life"))).toBe(false);
  });

  it("generates an id when none is given", async () => {
    const a = await host.json("POST", "/v1/sandboxes", {});
    const b = await host.json("POST", "/v1/sandboxes", {});
    expect(a.status).toBe(201);
    expect(a.body.id).toMatch(/^sb-[a-z2-7]{16}$/);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it("answers 409 for an existing id and 404 for unknown ones", async () => {
    expect((await host.json("POST", "/v1/sandboxes", { id: "dup" })).status).toBe(201);
    const again = await host.json("POST", "/v1/sandboxes", { id: "dup" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("conflict");
    for (const [method, path] of [
      ["GET", "/v1/sandboxes/nope"],
      ["PATCH", "/v1/sandboxes/nope"],
      ["DELETE", "/v1/sandboxes/nope"],
    ] as const) {
      const res = await host.json(method, path, method === "PATCH" ? { extendBySeconds: 1 } : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toMatchObject({ code: "not_found", message: "sandbox 'nope' not found" });
    }
  });

  it("lets exactly one of many concurrent creates of the same id win, leaving no orphan", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `race-${i % 8}`);
    const results = await Promise.all(ids.map((id) => host.json("POST", "/v1/sandboxes", { id })));
    const wins = new Map<string, number>();
    results.forEach((r, i) => {
      expect([201, 409]).toContain(r.status);
      if (r.status === 201) wins.set(ids[i]!, (wins.get(ids[i]!) ?? 0) + 1);
    });
    expect(wins.size).toBe(8);
    expect([...wins.values()].every((n) => n === 1)).toBe(true);
    const dirs = readdirSync(join(host.dataDir, "sandboxes")).filter((d) => d.startsWith("race-"));
    expect(dirs.sort()).toEqual([...wins.keys()].sort());
  });

  it("reaps a sandbox when its TTL passes", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "shortlived", ttlSeconds: 1 });
    await host.json("POST", "/v1/sandboxes/shortlived/exec", { command: "echo x > f" });
    await eventually(async () => (await host.json("GET", "/v1/sandboxes/shortlived")).status === 404, 5000);
    await eventually(() => !existsSync(join(host.dataDir, "sandboxes", "shortlived")), 5000);
  });
});

describe("listing", () => {
  it("filters by labels and pages with a cursor", async () => {
    for (let i = 0; i < 7; i++) {
      const res = await host.json("POST", "/v1/sandboxes", { id: `list-${i}`, labels: { group: "listing", parity: i % 2 ? "odd" : "even" } });
      expect(res.status).toBe(201);
    }
    const odd = await host.json("GET", "/v1/sandboxes?label=group:listing&label=parity:odd");
    expect(odd.body.sandboxes.map((s: { id: string }) => s.id)).toEqual(["list-1", "list-3", "list-5"]);
    expect(odd.body.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { sandboxes: { id: string }[]; nextCursor: string | null } } = await host.json(
        "GET",
        `/v1/sandboxes?label=group:listing&limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.body.sandboxes.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.sandboxes.map((s) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["list-0", "list-1", "list-2", "list-3", "list-4", "list-5", "list-6"]);
  });

  it("rejects bad filters, limits and cursors", async () => {
    for (const query of ["label=nocolon", "limit=0", "limit=abc", "limit=100000", "cursor=!!!"]) {
      const res = await host.json("GET", `/v1/sandboxes?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
  });
});

describe("bad input", () => {
  const cases: [string, unknown][] = [
    ["id with uppercase", { id: "Bad" }],
    ["id with slash", { id: "a/b" }],
    ["negative ttl", { ttlSeconds: -1 }],
    ["enormous ttl", { ttlSeconds: 1e12 }],
    ["fractional ttl", { ttlSeconds: 1.5 }],
    ["env name with =", { env: { "A=B": "x" } }],
    ["env value with NUL", { env: { A: "x\u0000y" } }],
    ["unknown field", { nope: true }],
    ["labels not a map", { labels: ["a"] }],
    ["body not an object", [1, 2]],
  ];
  for (const [name, body] of cases) {
    it(`rejects ${name}`, async () => {
      const res = await host.json("POST", "/v1/sandboxes", body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(typeof res.body.error.message).toBe("string");
    });
  }

  it("rejects malformed JSON, a missing body and a wrong content type", async () => {
    const malformed = await host.call("POST", "/v1/sandboxes", "{not json", { "content-type": "application/json" });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe("invalid_request");
    const wrongType = await host.call("POST", "/v1/sandboxes", "id=x", { "content-type": "application/x-www-form-urlencoded" });
    expect(wrongType.status).toBe(415);
    expect((await wrongType.json()).error.code).toBe("unsupported_media_type");
    const empty = await host.call("POST", "/v1/sandboxes", undefined, { "content-type": "application/json" });
    expect(empty.status).toBe(400);
  });

  it("answers unknown routes and methods with the envelope", async () => {
    const res = await host.json("GET", "/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("serves /health publicly", async () => {
    const res = await host.json("GET", "/health");
    expect(res.body).toEqual({ ok: true, version: "0.1.0", backend: "local", snapshots: { count: 0, blobs: 0, storedBytes: 0 } });
  });
});
