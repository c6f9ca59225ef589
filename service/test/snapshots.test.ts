/** Snapshots through REST against a real Node host and real sandboxes (first cut: save, break, restore; fromSnapshot; dedup; import refusals). */
import { describe, expect, it } from "vitest";
import { startHost } from "./host.ts";

describe("snapshots", () => {
  it("saves, breaks and restores a workspace; a second snapshot stores nothing new; fromSnapshot; bad input", async () => {
    const host = await startHost();
    try {
      const sh = async (id: string, command: string) => (await host.json("POST", `/v1/sandboxes/${id}/exec`, { command })).body;
      expect((await host.json("POST", "/v1/sandboxes", { id: "a" })).status).toBe(201);
      await sh("a", "mkdir -p d/e empty && echo hello > d/e/f.txt && ln -s d/e/f.txt link && chmod 750 d && head -c 1000000 /dev/urandom > big && touch -d 2020-01-02 d/e/f.txt");
      const snap = await host.json("POST", "/v1/sandboxes/a/snapshots", { name: "one", excludes: ["skip*"] });
      expect(snap.status, JSON.stringify(snap.body)).toBe(201);
      expect(snap.body.sizeBytes).toBe(1_000_006);
      const again = await host.json("POST", "/v1/sandboxes/a/snapshots", {});
      expect(again.status).toBe(201);
      expect(again.body.storedBytes).toBe(0);
      expect(again.body.digest).toBe(snap.body.digest);
      await sh("a", "rm -rf d empty link && echo junk > junk");
      const restored = await host.json("POST", "/v1/sandboxes/a/restore", { snapshotId: snap.body.id });
      expect(restored.status, JSON.stringify(restored.body)).toBe(200);
      const check = await sh("a", "cat link; ls -a; stat -c '%a %Y' d d/e/f.txt; test -d empty && echo empty-ok");
      expect(check.stdout).toContain("hello");
      expect(check.stdout).not.toContain("junk");
      expect(check.stdout).toContain("750 ");
      expect(check.stdout).toContain(String(Date.parse("2020-01-02T00:00:00Z") / 1000).slice(0, 6));
      expect(check.stdout).toContain("empty-ok");
      const copy = await host.json("POST", "/v1/sandboxes", { id: "b", fromSnapshot: snap.body.id });
      expect(copy.status, JSON.stringify(copy.body)).toBe(201);
      expect((await sh("b", "cat d/e/f.txt")).stdout).toBe("hello\n");
      // export, import
      const archive = await host.call("GET", `/v1/snapshots/${snap.body.id}/archive`);
      expect(archive.status).toBe(200);
      const bytes = new Uint8Array(await archive.arrayBuffer());
      const imported = await host.json("POST", "/v1/snapshots?name=imp", bytes as never);
      expect(imported.status, JSON.stringify(imported.body)).toBe(201);
      expect(imported.body.digest).toBe(snap.body.digest);
      expect((await host.json("POST", "/v1/snapshots", bytes.subarray(0, 5000) as never)).status).toBe(400);
      expect((await host.json("GET", "/v1/snapshots/nope")).status).toBe(404);
      expect((await host.json("POST", "/v1/sandboxes/a/snapshots", { excludes: ["../x"] })).status).toBe(400);
      expect((await host.json("POST", "/v1/sandboxes/a/snapshots", { excludes: ["/etc"] })).status).toBe(400);
      expect((await host.json("POST", "/v1/sandboxes", { fromSnapshot: "nope" })).status).toBe(404);
      const list = await host.json("GET", "/v1/snapshots?sandboxId=a");
      expect(list.body.snapshots.length).toBe(2);
      expect((await host.json("DELETE", `/v1/snapshots/${again.body.id}`)).status).toBe(204);
    } finally {
      await host.stop();
    }
  }, 120_000);
});
