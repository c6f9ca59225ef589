import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eventually, startHost, tempDir } from "./host.ts";

describe("restart", () => {
  it("keeps sandboxes, labels and files across a restart, even after SIGKILL", async () => {
    const dataDir = tempDir();
    const first = await startHost({ dataDir });
    await first.json("POST", "/v1/sandboxes", { id: "keep", labels: { k: "v" }, env: { KEPT: "yes" } });
    await first.json("POST", "/v1/sandboxes/keep/files/write", { path: "notes/a.txt", content: "persisted" });
    const before = await first.json("GET", "/v1/sandboxes/keep");
    await first.stop("SIGKILL");

    // Leftovers of a crash mid-create: a claimed directory with no record.
    mkdirSync(join(dataDir, "sandboxes", "half-made", "workspace"), { recursive: true });

    const second = await startHost({ dataDir });
    try {
      expect((await second.json("GET", "/v1/sandboxes/keep")).body).toEqual(before.body);
      const file = await second.json("POST", "/v1/sandboxes/keep/files/read", { path: "notes/a.txt" });
      expect(file.body.content).toBe("persisted");
      const env = await second.json("POST", "/v1/sandboxes/keep/exec", { command: "echo $KEPT" });
      expect(env.body.stdout).toBe("yes\n");
      expect((await second.json("GET", "/v1/sandboxes/half-made")).status).toBe(404);
      expect((await second.json("POST", "/v1/sandboxes", { id: "half-made" })).status).toBe(201);
    } finally {
      await second.stop();
    }
  });

  it("reaps sandboxes that expired while it was down", async () => {
    const dataDir = tempDir();
    const first = await startHost({ dataDir });
    const stale = await first.json("POST", "/v1/sandboxes", { id: "stale", ttlSeconds: 1 });
    expect(stale.status).toBe(201);
    await first.stop("SIGKILL");
    writeFileSync(join(dataDir, "marker"), "");
    // Down until the sandbox's stated expiry has passed (bounded), not for a fixed time.
    const expires = Date.parse(stale.body.expiresAt);
    await eventually(() => Date.now() > expires, 5000);
    const second = await startHost({ dataDir });
    try {
      expect((await second.json("GET", "/v1/sandboxes/stale")).status).toBe(404);
      expect(second.logs()).toContain("sandbox 'stale' expired");
    } finally {
      await second.stop();
    }
  });
});
