/** Snapshots through REST against a real Node host and real sandboxes (first cut: save, break, restore; fromSnapshot; dedup; import refusals). */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync, zstdDecompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SnapshotStore } from "../src/backends/local/snapshots/store.ts";
import { type Member, archiveOf } from "./archives.ts";
import { type TestHost, eventually, startHost, tempDir, workspaceOnHost } from "./host.ts";

describe("snapshots", () => {
  it("saves, breaks and restores a workspace; a second snapshot stores nothing new; fromSnapshot; bad input", async () => {
    const host = await startHost();
    try {
      const sh = async (id: string, command: string) => (await host.json("POST", `/v1/sandboxes/${id}/exec`, { command })).body;
      expect((await host.json("POST", "/v1/sandboxes", { id: "a" })).status).toBe(201);
      await sh("a", "mkdir -p d/e empty && echo hello > d/e/f.txt && ln -s d/e/f.txt link && chmod 750 d && head -c 1000000 /dev/urandom > big && touch -d 2020-01-02 d/e/f.txt && : > zero");
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
      // From the host's side (where a root host copies the content into files the agent lends it):
      // every restored file belongs to the sandbox's own user, never to root, with its mode and time.
      for (const id of ["a", "b"]) {
        const workspace = workspaceOnHost(host.dataDir, id);
        const owner = statSync(workspace).uid;
        for (const [file, mode] of [["big", 0o644], ["d/e/f.txt", 0o644]] as const) {
          const seen = statSync(join(workspace, file));
          expect({ id, file, uid: seen.uid, mode: seen.mode & 0o7777 }).toEqual({ id, file, uid: owner, mode });
          if (process.getuid?.() === 0) expect(seen.uid, `${id}/${file}`).not.toBe(0);
        }
        expect(String(statSync(join(workspace, "d/e/f.txt")).mtimeMs / 1000).slice(0, 6)).toBe(String(Date.parse("2020-01-02T00:00:00Z") / 1000).slice(0, 6));
        expect(readFileSync(join(workspace, "d/e/f.txt"), "utf8")).toBe("hello\n");
        expect(statSync(join(workspace, "big")).size).toBe(1_000_000);
        expect(statSync(join(workspace, "zero")).size).toBe(0); // an empty file goes with the archive, not lent
      }
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

/** Every file under `dir` (relative paths with sizes): what the host side holds, compared before and after. */
function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else out.push(`${path} ${lstatSync(join(dir, path)).size}`);
    }
  };
  walk("");
  return out.sort();
}

const MAX = 1024 * 1024;
const marker = `landed-${process.pid}-${Date.now()}`;
const good = (name = "ok.txt"): Member => ({ header: { name, type: "file", mode: 0o644 }, body: new TextEncoder().encode(`${marker} ${name}\n`) });

describe("snapshots: a workspace's own links", () => {
  it("keeps absolute links that lead out of /workspace (a venv's bin/python) as links, through snapshot, restore and fromSnapshot", async () => {
    const host = await startHost();
    try {
      const sh = async (id: string, command: string) => (await host.json("POST", `/v1/sandboxes/${id}/exec`, { command })).body;
      expect((await host.json("POST", "/v1/sandboxes", { id: "venv" })).status).toBe(201);
      // What python3 -m venv makes, without needing the venv module: an absolute link to the system's python.
      await sh("venv", "mkdir -p env/bin && ln -s /usr/bin/python3 env/bin/python && ln -s /etc/hostname env/host-link");
      const snap = await host.json("POST", "/v1/sandboxes/venv/snapshots", { name: "venv" });
      expect(snap.status, JSON.stringify(snap.body)).toBe(201);
      await sh("venv", "rm -rf env");
      const restored = await host.json("POST", "/v1/sandboxes/venv/restore", { snapshotId: snap.body.id });
      expect(restored.status, JSON.stringify(restored.body)).toBe(200);
      // Links again, not copies of what they name: the host followed neither.
      const check = await sh("venv", "readlink env/bin/python env/host-link; env/bin/python -c 'print(6*7)'");
      expect(check.stdout).toBe("/usr/bin/python3\n/etc/hostname\n42\n");
      const copy = await host.json("POST", "/v1/sandboxes", { id: "venv-copy", fromSnapshot: snap.body.id });
      expect(copy.status, JSON.stringify(copy.body)).toBe(201);
      expect((await sh("venv-copy", "readlink env/bin/python")).stdout).toBe("/usr/bin/python3\n");
      // An imported archive is still held to links inside the tree (control: the same link, refused there).
      const archive = new Uint8Array(await (await host.call("GET", `/v1/snapshots/${snap.body.id}/archive`)).arrayBuffer());
      const imported = await host.json("POST", "/v1/snapshots?name=venv-import", archive as never);
      expect(imported.status).toBe(400);
      expect(imported.body.error.message).toMatch(/symlink that leads outside/);
    } finally {
      await host.stop();
    }
  });
});

describe("snapshots: bad input", () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startHost({ env: { SANDGATE_MAX_SNAPSHOT_BYTES: String(MAX) } });
  }, 60_000);
  afterAll(async () => {
    await host?.stop();
  });

  /** Posts `body` as an archive: the answer must be `status` in the error envelope with `code`, and nothing of it kept. */
  async function refused(body: Uint8Array | ReadableStream<Uint8Array>, status: number, code: string, message?: RegExp) {
    const before = treeOf(host.dataDir);
    const res = await host.call("POST", "/v1/snapshots?name=hostile", body);
    const answer = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status, JSON.stringify(answer)).toBe(status);
    expect(answer.error.code).toBe(code);
    if (message) expect(answer.error.message).toMatch(message);
    // Nothing of it is left on the host side: the store (blobs, manifests, tmp) is as it was.
    expect(treeOf(host.dataDir)).toEqual(before);
    expect((await host.json("GET", "/v1/snapshots")).body.snapshots.filter((s: { name: string }) => s.name === "hostile")).toEqual([]);
  }

  it("accepts a well-formed archive (positive control: the probes below reach the importer)", async () => {
    const before = treeOf(join(host.dataDir, "snapshots", "blobs")).length;
    const res = await host.json("POST", "/v1/snapshots?name=control", await archiveOf([{ header: { name: "dir", type: "directory" } }, good("dir/a.txt"), { header: { name: "dir/l", type: "symlink", linkname: "a.txt" } }, { header: { name: "dir/h", type: "link", linkname: "dir/a.txt" } }]));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.fileCount).toBe(4);
    expect(treeOf(join(host.dataDir, "snapshots", "blobs")).length).toBe(before + 1);
    expect((await host.json("DELETE", `/v1/snapshots/${res.body.id}`)).status).toBe(204);
    expect(treeOf(join(host.dataDir, "snapshots", "blobs")).length).toBe(before);
  });

  it("answers 404 for an unknown snapshot on every route that names one", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "s404" });
    for (const [method, path, body] of [
      ["GET", "/v1/snapshots/snap-nope", undefined],
      ["DELETE", "/v1/snapshots/snap-nope", undefined],
      ["GET", "/v1/snapshots/snap-nope/archive", undefined],
      ["POST", "/v1/sandboxes/s404/restore", { snapshotId: "snap-nope" }],
      ["POST", "/v1/sandboxes", { id: "s404b", fromSnapshot: "snap-nope" }],
    ] as const) {
      const res = await host.json(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await host.json("GET", "/v1/sandboxes/s404b")).status).toBe(404);
  });

  it("refuses excludes with '..' or absolute paths (400) and stores nothing", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "sx" });
    for (const excludes of [["../x"], ["a/../../b"], ["/etc"], ["ok", "/abs"]]) {
      const before = treeOf(host.dataDir);
      const res = await host.json("POST", "/v1/sandboxes/sx/snapshots", { excludes });
      expect(res.status, JSON.stringify(excludes)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(treeOf(host.dataDir)).toEqual(before);
    }
    expect((await host.json("POST", "/v1/sandboxes/sx/snapshots", { excludes: ["a/b*", "node_modules"] })).status).toBe(201);
  });

  it("refuses absolute and '..' member names", async () => {
    await refused(await archiveOf([good(), { header: { name: `/tmp/${marker}`, type: "file" }, body: new Uint8Array(3) }]), 400, "invalid_request", /absolute/);
    await refused(await archiveOf([good(), { header: { name: `../../../../tmp/${marker}`, type: "file" }, body: new Uint8Array(3) }]), 400, "invalid_request", /'\.\.'/);
    await refused(await archiveOf([good(), { header: { name: `a/../../${marker}`, type: "directory" } }]), 400, "invalid_request", /'\.\.'/);
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
  });

  it("refuses symlinks and hard links that lead outside the tree", async () => {
    for (const linkname of ["../../outside", "../a/../../x", "/etc/passwd", "/workspace/../etc/passwd", "/workspace/a/../../x", "/workspacex"]) {
      await refused(await archiveOf([good(), { header: { name: "a/link", type: "symlink", linkname } }]), 400, "invalid_request", /symlink/);
    }
    for (const linkname of ["/etc/passwd", "../etc/passwd", "missing.txt"]) {
      await refused(await archiveOf([good(), { header: { name: "hard", type: "link", linkname } }]), 400, "invalid_request");
    }
    // Positive control: links that stay inside, relative and absolute, are taken.
    const inside = await host.json("POST", "/v1/snapshots?name=inside", await archiveOf([good("a/t"), { header: { name: "a/l1", type: "symlink", linkname: "../a/t" } }, { header: { name: "a/l2", type: "symlink", linkname: "/workspace/a/../a/t" } }]));
    expect(inside.status, JSON.stringify(inside.body)).toBe(201);
    // A member written below a symlink would land wherever the link leads.
    await refused(await archiveOf([{ header: { name: "l", type: "symlink", linkname: "." } }, good("l/x.txt")]), 400, "invalid_request", /below a file or a link/);
  });

  it("refuses device files and FIFOs", async () => {
    await refused(await archiveOf([good(), { header: { name: "null", type: "character-device", devmajor: 1, devminor: 3 } }]), 400, "invalid_request", /device/);
    await refused(await archiveOf([good(), { header: { name: "sda", type: "block-device", devmajor: 8, devminor: 0 } }]), 400, "invalid_request", /device/);
    await refused(await archiveOf([good(), { header: { name: "pipe", type: "fifo" } }]), 400, "invalid_request", /FIFO/);
  });

  it("refuses an archive beyond SANDGATE_MAX_SNAPSHOT_BYTES (413), by the members' declared sizes and by the body's length", async () => {
    const over = await archiveOf([good(), { header: { name: "big", type: "file", size: MAX + 1 }, body: new Uint8Array(MAX + 1) }]);
    await refused(over, 413, "payload_too_large");
    // Streamed without a length: the members' sizes decide.
    const stream = () => new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(over), c.close()) });
    await refused(stream(), 413, "payload_too_large");
    // Two members each under the limit, together over it.
    const half = new Uint8Array(MAX / 2 + 1).fill(7);
    await refused(await archiveOf([{ header: { name: "h1", type: "file" }, body: half }, { header: { name: "h2", type: "file" }, body: half.map(() => 8) }]), 413, "payload_too_large");
    // A body far longer than the limit is refused by its length.
    await refused(new Uint8Array(3 * MAX), 413, "payload_too_large");
  });

  it("refuses truncated and corrupt archives (400)", async () => {
    const whole = await archiveOf([good("a.txt"), { header: { name: "b.bin", type: "file" }, body: new Uint8Array(20_000).fill(1) }]);
    await refused(whole.subarray(0, 512 + 512 + 512 + 4000), 400, "invalid_request", /truncated|corrupt/);
    await refused(whole.subarray(0, 700), 400, "invalid_request", /truncated|corrupt/);
    const corrupt = whole.slice();
    corrupt.fill(0x41, 100, 160); // the first header's mode, ids and size: its checksum no longer holds
    await refused(corrupt, 400, "invalid_request");
    await refused(new TextEncoder().encode("this is not a tar archive at all, just text ".repeat(40)), 400, "invalid_request");
    await refused(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 400, "invalid_request");
    const gz = gzipSync(whole);
    await refused(gz.subarray(0, gz.length - 40), 400, "invalid_request");
    // Positive control: the same archive whole, and gzipped, imports.
    expect((await host.json("POST", "/v1/snapshots", whole)).status).toBe(201);
    expect((await host.json("POST", "/v1/snapshots", new Uint8Array(gz))).status).toBe(201);
  });
});

describe("snapshots: restore into a sandbox being deleted", () => {
  it("answers 409 while the delete runs, and the sandbox stays deleted", async () => {
    const host = await startHost();
    try {
      await host.json("POST", "/v1/sandboxes", { id: "src" });
      const snap = await host.json("POST", "/v1/sandboxes/src/snapshots", {});
      expect(snap.status).toBe(201);
      const answers: number[] = [];
      // The window is the delete's removal of the workspace: many files make it long, and each attempt
      // is counted; a restore after the delete is a 404, never a success or a recreated sandbox.
      for (let attempt = 0; attempt < 5 && !answers.includes(409); attempt++) {
        await host.json("POST", "/v1/sandboxes", { id: "doomed" });
        const made = await host.json("POST", "/v1/sandboxes/doomed/exec", { command: `mkdir t && cd t && seq 1 ${20000 * (attempt + 1)} | xargs touch` });
        expect(made.body.exitCode).toBe(0);
        const deleting = host.call("DELETE", "/v1/sandboxes/doomed");
        while ((await host.json("GET", "/v1/sandboxes/doomed")).status !== 404) {
          // records go first, then the environment and the files: the restore comes in between
        }
        const restore = await host.json("POST", "/v1/sandboxes/doomed/restore", { snapshotId: snap.body.id });
        answers.push(restore.status);
        expect([404, 409]).toContain(restore.status);
        if (restore.status === 409) expect(restore.body.error.code).toBe("conflict");
        expect((await deleting).status).toBe(204);
        expect((await host.json("GET", "/v1/sandboxes/doomed")).status).toBe(404);
        expect(existsSync(join(host.dataDir, "sandboxes", "doomed"))).toBe(false);
      }
      expect(answers).toContain(409);
    } finally {
      await host.stop();
    }
  }, 180_000);
});

/** Blobs in the host's content-addressed store (file contents, each stored once). */
const blobCount = (dataDir: string) => treeOf(join(dataDir, "snapshots", "blobs")).length;

/** The host's own account of its snapshot storage (GET /health) must match what is on disk. */
async function expectHealthMatchesDisk(host: TestHost): Promise<void> {
  const files = treeOf(join(host.dataDir, "snapshots", "blobs"));
  const bytes = files.reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
  const health = (await host.json("GET", "/health")).body;
  expect(health.snapshots).toMatchObject({ blobs: files.length, storedBytes: bytes });
}

/** Polls `probe` until it holds, at most `attempts` times (a bound, not a sleep the test relies on). */
async function until(probe: () => Promise<boolean>, attempts = 300): Promise<number> {
  for (let n = 1; n <= attempts; n++) {
    if (await probe()) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

describe("snapshots: durability and garbage collection", () => {
  it("survives a host restart after SIGKILL: listed, restorable, exportable", async () => {
    const dataDir = tempDir();
    const first = await startHost({ dataDir });
    let snap: { id: string; digest: string };
    try {
      await first.json("POST", "/v1/sandboxes", { id: "dur" });
      await first.json("POST", "/v1/sandboxes/dur/exec", { command: "mkdir -p keep && echo durable > keep/a.txt && head -c 300000 /dev/urandom > keep/r.bin && sha256sum keep/r.bin > sum" });
      const made = await first.json("POST", "/v1/sandboxes/dur/snapshots", { name: "durable", labels: { k: "v" } });
      expect(made.status).toBe(201);
      snap = made.body;
      // The sandbox goes too: the snapshot outlives it.
      expect((await first.json("DELETE", "/v1/sandboxes/dur")).status).toBe(204);
    } finally {
      await first.stop("SIGKILL");
    }
    const second = await startHost({ dataDir });
    try {
      expect((await second.json("GET", `/v1/snapshots/${snap.id}`)).body).toEqual(snap);
      await expectHealthMatchesDisk(second); // counted again at start
      expect((await second.json("GET", "/v1/snapshots?label=k:v")).body.snapshots.map((s: { id: string }) => s.id)).toEqual([snap.id]);
      expect((await second.json("POST", "/v1/sandboxes", { id: "back", fromSnapshot: snap.id })).status).toBe(201);
      const check = await second.json("POST", "/v1/sandboxes/back/exec", { command: "cat keep/a.txt && sha256sum -c sum" });
      expect(check.body.stdout).toBe("durable\nkeep/r.bin: OK\n");
      const archive = await second.call("GET", `/v1/snapshots/${snap.id}/archive`);
      const reimported = await second.json("POST", "/v1/snapshots", new Uint8Array(await archive.arrayBuffer()));
      expect(reimported.body.digest).toBe(snap.digest);
      expect(reimported.body.storedBytes).toBe(0);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it("stores unchanged content once; deleting a snapshot frees only the blobs no other snapshot uses", async () => {
    const host = await startHost();
    try {
      const sh = (command: string) => host.json("POST", "/v1/sandboxes/gc/exec", { command });
      await host.json("POST", "/v1/sandboxes", { id: "gc" });
      await sh("for i in 1 2 3 4 5; do head -c 200000 /dev/urandom > f$i; done && echo same > s1 && echo same > s2");
      expect(blobCount(host.dataDir)).toBe(0);
      const a = (await host.json("POST", "/v1/sandboxes/gc/snapshots", { name: "a" })).body;
      expect(a.storedBytes).toBe(5 * 200_000 + 5); // s1 and s2 have one content: stored once
      expect(blobCount(host.dataDir)).toBe(6);
      await expectHealthMatchesDisk(host);
      const again = (await host.json("POST", "/v1/sandboxes/gc/snapshots", { name: "again" })).body;
      expect(again.storedBytes).toBe(0);
      expect(blobCount(host.dataDir)).toBe(6);
      await sh("head -c 1000 /dev/urandom > f5");
      const b = (await host.json("POST", "/v1/sandboxes/gc/snapshots", { name: "b" })).body;
      expect(b.storedBytes).toBe(1000);
      expect(blobCount(host.dataDir)).toBe(7);
      // a and again share every blob: deleting a frees nothing.
      expect((await host.json("DELETE", `/v1/snapshots/${a.id}`)).status).toBe(204);
      expect(blobCount(host.dataDir)).toBe(7);
      // again alone holds the old f5: deleting it frees that one blob only.
      expect((await host.json("DELETE", `/v1/snapshots/${again.id}`)).status).toBe(204);
      expect(blobCount(host.dataDir)).toBe(6);
      await expectHealthMatchesDisk(host);
      expect((await host.json("GET", "/health")).body.snapshots.count).toBe(1);
      expect((await host.json("DELETE", `/v1/snapshots/${again.id}`)).status).toBe(404);
      // b is whole.
      expect((await host.json("POST", "/v1/sandboxes", { id: "gc2", fromSnapshot: b.id })).status).toBe(201);
      const sizes = await host.json("POST", "/v1/sandboxes/gc2/exec", { command: "stat -c %s f1 f5 && cat s2" });
      expect(sizes.body.stdout).toBe("200000\n1000\nsame\n");
      expect((await host.json("DELETE", `/v1/snapshots/${b.id}`)).status).toBe(204);
      expect(blobCount(host.dataDir)).toBe(0);
      expect((await host.json("GET", "/health")).body.snapshots).toEqual({ count: 0, blobs: 0, storedBytes: 0 });
    } finally {
      await host.stop();
    }
  }, 120_000);

  it("removes a snapshot when its ttlSeconds pass, and frees its blobs; one kept without a TTL stays", async () => {
    const host = await startHost();
    try {
      await host.json("POST", "/v1/sandboxes", { id: "ttl" });
      await host.json("POST", "/v1/sandboxes/ttl/exec", { command: "echo short-lived > a && mkdir d" });
      const kept = (await host.json("POST", "/v1/sandboxes/ttl/snapshots", { excludes: ["a"] })).body;
      const made = await host.json("POST", "/v1/sandboxes/ttl/snapshots", { ttlSeconds: 1 });
      expect(made.status).toBe(201);
      expect(Date.parse(made.body.expiresAt) - Date.parse(made.body.createdAt)).toBe(1000);
      expect(blobCount(host.dataDir)).toBe(1);
      const polls = await until(async () => (await host.json("GET", `/v1/snapshots/${made.body.id}`)).status === 404);
      expect(polls).toBeGreaterThan(1); // it existed after creation, then went
      // The snapshot is unlisted first; its blobs are freed, then the removal is logged.
      await until(async () => host.logs().includes(`snapshot '${made.body.id}' expired`));
      expect(blobCount(host.dataDir)).toBe(0);
      expect((await host.json("GET", `/v1/snapshots/${kept.id}`)).status).toBe(200);
    } finally {
      await host.stop();
    }
  }, 120_000);
});

describe("snapshots: expiry while the host is down", () => {
  it("removes at the next start a snapshot that expired while no host ran, and frees its blobs", async () => {
    const dataDir = tempDir();
    const first = await startHost({ dataDir });
    let expiresAt: string;
    let kept: string;
    try {
      await first.json("POST", "/v1/sandboxes", { id: "down" });
      await first.json("POST", "/v1/sandboxes/down/exec", { command: "echo only-in-expiring > a && echo shared > b" });
      kept = (await first.json("POST", "/v1/sandboxes/down/snapshots", { excludes: ["a"] })).body.id;
      const short = (await first.json("POST", "/v1/sandboxes/down/snapshots", { ttlSeconds: 1 })).body;
      expiresAt = short.expiresAt;
      expect(blobCount(dataDir)).toBe(2);
    } finally {
      await first.stop("SIGKILL");
    }
    await until(async () => Date.now() > Date.parse(expiresAt)); // the clock passes it with no host running
    const second = await startHost({ dataDir });
    try {
      expect((await second.json("GET", "/v1/snapshots")).body.snapshots.map((s: { id: string }) => s.id)).toEqual([kept]);
      expect(second.logs()).toMatch(/snapshot '.*' expired and was removed/);
      expect(blobCount(dataDir)).toBe(1);
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe("snapshots: update", () => {
  it("relabels and sets or clears the expiry, durably across a restart; bad input 400, unknown 404", async () => {
    const dataDir = tempDir();
    const first = await startHost({ dataDir });
    let id: string;
    try {
      await first.json("POST", "/v1/sandboxes", { id: "up" });
      const snap = (await first.json("POST", "/v1/sandboxes/up/snapshots", { labels: { a: "1" }, ttlSeconds: 3600 })).body;
      id = snap.id;
      const relabeled = await first.json("PATCH", `/v1/snapshots/${id}`, { labels: { b: "2" }, ttlSeconds: null });
      expect(relabeled.status, JSON.stringify(relabeled.body)).toBe(200);
      expect(relabeled.body).toEqual({ ...snap, labels: { b: "2" }, expiresAt: null });
      expect((await first.json("GET", "/v1/snapshots?label=b:2")).body.snapshots.map((s: { id: string }) => s.id)).toEqual([id]);
      expect((await first.json("GET", "/v1/snapshots?label=a:1")).body.snapshots).toEqual([]);
      for (const body of [{ ttlSeconds: 0 }, { labels: { "bad key!": "x" } }, { name: "not patchable" }]) {
        const bad = await first.json("PATCH", `/v1/snapshots/${id}`, body);
        expect(bad.status, JSON.stringify(body)).toBe(400);
        expect(bad.body.error.code).toBe("invalid_request");
      }
      expect((await first.json("PATCH", "/v1/snapshots/snap-nope", { labels: {} })).status).toBe(404);
    } finally {
      await first.stop("SIGKILL");
    }
    const second = await startHost({ dataDir });
    try {
      const after = (await second.json("GET", `/v1/snapshots/${id}`)).body;
      expect(after.labels).toEqual({ b: "2" });
      expect(after.expiresAt).toBeNull();
      // A short TTL set by PATCH expires it (bounded wait).
      expect((await second.json("PATCH", `/v1/snapshots/${id}`, { ttlSeconds: 1 })).status).toBe(200);
      await until(async () => (await second.json("GET", `/v1/snapshots/${id}`)).status === 404);
      expect(blobCount(dataDir)).toBe(0);
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe("snapshots: fork", () => {
  it("copies a sandbox into n new ones from one cut; each is its own; bad counts are 400; an unknown sandbox 404", async () => {
    const host = await startHost();
    try {
      await host.json("POST", "/v1/sandboxes", { id: "orig", env: { SECRET: "not-copied" } });
      await host.json("POST", "/v1/sandboxes/orig/exec", { command: "mkdir -p src && echo v1 > src/app.txt && echo cache > skip.tmp" });
      const blobsBefore = blobCount(host.dataDir);
      const fork = await host.json("POST", "/v1/sandboxes/orig/fork", { count: 3, labels: { team: "f" }, excludes: ["*.tmp"], env: { MINE: "yes" } });
      expect(fork.status, JSON.stringify(fork.body)).toBe(201);
      expect(fork.body.snapshot).toBeUndefined();
      const ids: string[] = fork.body.sandboxes.map((s: { id: string }) => s.id);
      expect(new Set(ids).size).toBe(3);
      expect(ids).not.toContain("orig");
      const listed = await host.json("GET", "/v1/sandboxes?label=team:f");
      expect(listed.body.sandboxes.map((s: { id: string }) => s.id).sort()).toEqual([...ids].sort());
      for (const [n, id] of ids.entries()) {
        const run = await host.json("POST", `/v1/sandboxes/${id}/exec`, { command: `cat src/app.txt; ls; echo "$SECRET-$MINE"; echo copy${n} > src/app.txt` });
        expect(run.body.stdout).toBe("v1\nsrc\n-yes\n");
      }
      // Each copy is its own: the writes above changed neither the source nor the other copies.
      expect((await host.json("POST", "/v1/sandboxes/orig/exec", { command: "cat src/app.txt" })).body.stdout).toBe("v1\n");
      expect((await host.json("POST", `/v1/sandboxes/${ids[0]}/exec`, { command: "cat src/app.txt" })).body.stdout).toBe("copy0\n");
      // The snapshot behind them is gone (not kept), so the store holds what it held.
      expect((await host.json("GET", "/v1/snapshots")).body.snapshots).toEqual([]);
      expect(blobCount(host.dataDir)).toBe(blobsBefore);

      const kept = await host.json("POST", "/v1/sandboxes/orig/fork", { count: 1, keepSnapshot: true });
      expect(kept.status).toBe(201);
      expect(kept.body.snapshot.sandboxId).toBe("orig");
      expect(kept.body.snapshot.labels).toEqual({ "sandgate.fork-of": "orig" });
      expect((await host.json("GET", `/v1/snapshots/${kept.body.snapshot.id}`)).status).toBe(200);

      const before = (await host.json("GET", "/v1/sandboxes")).body.sandboxes.length;
      for (const count of [0, 101, 1.5, -1]) {
        const bad = await host.json("POST", "/v1/sandboxes/orig/fork", { count });
        expect(bad.status, String(count)).toBe(400);
        expect(bad.body.error.code).toBe("invalid_request");
      }
      expect((await host.json("POST", "/v1/sandboxes/orig/fork", { count: 1, excludes: ["../x"] })).status).toBe(400);
      const missing = await host.json("POST", "/v1/sandboxes/nope/fork", { count: 2 });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("not_found");
      expect((await host.json("GET", "/v1/sandboxes")).body.sandboxes.length).toBe(before);
    } finally {
      await host.stop();
    }
  }, 180_000);
});

describe("snapshots: the archive format", () => {
  it("writes a tar GNU tar reads: long names and link targets (pax), sub-second mtimes, modes; it imports to the same digest", async () => {
    const host = await startHost();
    try {
      const deep = `${"long-directory-name-".repeat(4)}x/${"another-long-name-".repeat(4)}file.txt`;
      await host.json("POST", "/v1/sandboxes", { id: "fmt" });
      const made = await host.json("POST", "/v1/sandboxes/fmt/exec", {
        command: `mkdir -p "$(dirname ${deep})" && echo deep > ${deep} && ln -s ${deep} link && chmod 640 ${deep} && TZ=UTC touch -d '2021-03-04 05:06:07.123456789' ${deep} && head -c 600000 /dev/urandom > big`,
      });
      expect(made.body.exitCode, made.body.stderr).toBe(0);
      const snap = (await host.json("POST", "/v1/sandboxes/fmt/snapshots", {})).body;
      const bytes = new Uint8Array(await (await host.call("GET", `/v1/snapshots/${snap.id}/archive`)).arrayBuffer());
      const dir = tempDir();
      writeFileSync(join(dir, "a.tar"), bytes);
      const listing = execFileSync("tar", ["--full-time", "-tvf", join(dir, "a.tar")], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
      expect(listing).toContain(deep);
      expect(listing).toContain(`link -> ${deep}`);
      expect(listing).toMatch(/-rw-r-----.*2021-03-04 05:06:07/);
      execFileSync("tar", ["-xf", join(dir, "a.tar"), "-C", dir]);
      expect(readFileSync(join(dir, deep), "utf8")).toBe("deep\n");
      expect(Math.floor(statSync(join(dir, deep)).mtimeMs)).toBe(Date.parse("2021-03-04T05:06:07.123Z")); // the pax mtime kept the fraction
      expect(statSync(join(dir, "big")).size).toBe(600_000);
      const imported = await host.json("POST", "/v1/snapshots", bytes);
      expect(imported.body.digest).toBe(snap.digest);
      // And a tar GNU tar wrote imports, and restores.
      const theirs = execFileSync("tar", ["-cf", "-", "-C", dir, "long-directory-name-long-directory-name-long-directory-name-long-directory-name-x"]);
      const fromGnu = await host.json("POST", "/v1/snapshots", new Uint8Array(theirs));
      expect(fromGnu.status, JSON.stringify(fromGnu.body)).toBe(201);
      expect((await host.json("POST", "/v1/sandboxes", { id: "fmt2", fromSnapshot: fromGnu.body.id })).status).toBe(201);
      expect((await host.json("POST", "/v1/sandboxes/fmt2/exec", { command: `cat ${deep}` })).body.stdout).toBe("deep\n");
    } finally {
      await host.stop();
    }
  }, 120_000);
});

describe("snapshots: compressed archives", () => {
  it("exports zstd or gzip as Accept asks (Content-Type says which; plain tar otherwise), and each imports to the same digest", async () => {
    const host = await startHost();
    try {
      await host.json("POST", "/v1/sandboxes", { id: "zip" });
      const made = await host.json("POST", "/v1/sandboxes/zip/exec", { command: "mkdir -p d && seq 1 200000 > d/numbers.txt && head -c 300000 /dev/urandom > d/random && ln -s d/numbers.txt link" });
      expect(made.body.exitCode, made.body.stderr).toBe(0);
      const snap = (await host.json("POST", "/v1/sandboxes/zip/snapshots", {})).body;
      const plain = new Uint8Array(await (await host.call("GET", `/v1/snapshots/${snap.id}/archive`)).arrayBuffer());
      const magic = { "application/x-tar": undefined, "application/gzip": [0x1f, 0x8b], "application/zstd": [0x28, 0xb5, 0x2f, 0xfd] } as const;
      const cases: [string | undefined, keyof typeof magic][] = [
        [undefined, "application/x-tar"],
        ["application/x-tar", "application/x-tar"],
        ["*/*", "application/x-tar"],
        ["application/json, text/plain", "application/x-tar"],
        ["application/zstd", "application/zstd"],
        ["application/gzip", "application/gzip"],
        ["application/x-gzip", "application/gzip"],
        ["application/gzip;q=0.5, application/zstd", "application/zstd"],
        ["application/zstd;q=0, application/gzip", "application/gzip"],
        ["application/x-tar, application/gzip;q=0.5", "application/x-tar"],
      ];
      for (const [accept, type] of cases) {
        const res = await host.call("GET", `/v1/snapshots/${snap.id}/archive`, undefined, accept === undefined ? {} : { accept });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type"), String(accept)).toBe(type);
        expect(res.headers.get("vary")).toBe("Accept");
        const bytes = new Uint8Array(await res.arrayBuffer());
        const head = magic[type];
        if (head) expect([...bytes.subarray(0, head.length)], String(accept)).toEqual([...head]);
        // The same tar inside (the export is made the same way each time), and smaller for it.
        const inner = type === "application/gzip" ? gunzipSync(bytes) : type === "application/zstd" ? zstdDecompressSync(bytes) : bytes;
        expect(Buffer.compare(Buffer.from(inner), Buffer.from(plain)), String(accept)).toBe(0);
        if (head) expect(bytes.length).toBeLessThan(plain.length);
        const imported = await host.json("POST", "/v1/snapshots", bytes);
        expect(imported.status, JSON.stringify(imported.body)).toBe(201);
        expect(imported.body.digest, String(accept)).toBe(snap.digest);
      }
      // GNU tar reads the gzip one as any .tar.gz.
      const dir = tempDir();
      const gz = await host.call("GET", `/v1/snapshots/${snap.id}/archive`, undefined, { accept: "application/gzip" });
      writeFileSync(join(dir, "a.tar.gz"), new Uint8Array(await gz.arrayBuffer()));
      expect(execFileSync("tar", ["-tzf", join(dir, "a.tar.gz")], { encoding: "utf8" })).toContain("d/numbers.txt");

      // A reader that goes away mid-way lets the snapshot's blobs go: deleted, they are freed at once.
      const health = async () => (await host.json("GET", "/health")).body.snapshots as { blobs: number };
      for (const accept of ["application/zstd", "application/gzip"]) {
        await host.json("POST", "/v1/sandboxes/zip/exec", { command: "rm -rf /workspace/* && for i in 1 2 3; do head -c 8000000 /dev/urandom > r$i; done" });
        const baseline = (await health()).blobs;
        const big = (await host.json("POST", "/v1/sandboxes/zip/snapshots", {})).body;
        expect((await health()).blobs).toBe(baseline + 3);
        const abort = new AbortController();
        const res = await fetch(`${host.url}/v1/snapshots/${big.id}/archive`, { headers: { accept }, signal: abort.signal });
        const reader = res.body!.getReader();
        let received = 0;
        while (received < 64 * 1024) received += (await reader.read()).value!.byteLength;
        abort.abort();
        expect((await host.json("DELETE", `/v1/snapshots/${big.id}`)).status).toBe(204);
        await eventually(async () => (await health()).blobs === baseline, 10_000);
      }
    } finally {
      await host.stop();
    }
  }, 120_000);
});

/** Tar bytes the host logged reading from the sandbox for one snapshot. */
function receivedFor(host: TestHost, snapshotId: string): number {
  const found = new RegExp(`snapshot '${snapshotId}' of sandbox '[^']*': (\\d+) tar bytes read`).exec(host.logs());
  if (!found) throw new Error(`no log line for snapshot ${snapshotId}`);
  return Number(found[1]);
}

describe("snapshots: the stat cache", () => {
  it("a second snapshot of an unchanged tree reads almost nothing and stores nothing; a file rewritten with its size and mtime kept is read again (ctime)", async () => {
    const host = await startHost();
    try {
      const sh = async (command: string) => (await host.json("POST", "/v1/sandboxes/cache/exec", { command })).body;
      expect((await host.json("POST", "/v1/sandboxes", { id: "cache" })).status).toBe(201);
      // 40 files of 100 kB. The agent gives no stat key to a file whose ctime is under 100 ms old
      // (a write in the same timestamp tick would not show), so the tree is let settle first.
      const made = await sh("mkdir -p t && for i in $(seq 1 40); do head -c 100000 /dev/urandom > t/f$i; done && echo same > t/small && sleep 0.3");
      expect(made.exitCode).toBe(0);
      const first = await host.json("POST", "/v1/sandboxes/cache/snapshots", {});
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      const second = await host.json("POST", "/v1/sandboxes/cache/snapshots", {});
      expect(second.status).toBe(201);
      expect(second.body.storedBytes).toBe(0);
      expect(second.body.digest).toBe(first.body.digest);
      const full = receivedFor(host, first.body.id);
      const cached = receivedFor(host, second.body.id);
      expect(full).toBeGreaterThan(4_000_000); // positive control: the first read every byte
      expect(cached).toBeLessThan(41 * 2048 + 16 * 1024); // headers only
      // Same size, same mtime (touch -d), other content: ctime still moved, so it is read again.
      const rewrite = await sh("m=$(stat -c %y t/f7) && head -c 100000 /dev/urandom > t/f7 && touch -d \"$m\" t/f7 && sleep 0.3 && stat -c %s t/f7");
      expect(rewrite.stdout).toBe("100000\n");
      const third = await host.json("POST", "/v1/sandboxes/cache/snapshots", {});
      expect(third.status).toBe(201);
      expect(third.body.storedBytes).toBe(100_000);
      expect(third.body.digest).not.toBe(first.body.digest);
      expect(receivedFor(host, third.body.id)).toBeGreaterThan(100_000);
      expect(receivedFor(host, third.body.id)).toBeLessThan(100_000 + 41 * 2048 + 16 * 1024);
      // The content restored is the new one.
      const sum = (await sh("sha256sum t/f7")).stdout;
      expect((await host.json("POST", "/v1/sandboxes", { id: "cache-copy", fromSnapshot: third.body.id })).status).toBe(201);
      expect((await host.json("POST", "/v1/sandboxes/cache-copy/exec", { command: "sha256sum t/f7" })).body.stdout).toBe(sum);
    } finally {
      await host.stop();
    }
  }, 120_000);

  it("survives a host restart: the first snapshot after it reads only what changed", async () => {
    const dataDir = tempDir();
    const first = await startHost({ dataDir });
    let before: { id: string; digest: string };
    try {
      const made = await first.json("POST", "/v1/sandboxes", { id: "kept" });
      expect(made.status).toBe(201);
      const wrote = await first.json("POST", "/v1/sandboxes/kept/exec", { command: "mkdir -p t && for i in $(seq 1 40); do head -c 100000 /dev/urandom > t/f$i; done && sleep 0.3" });
      expect(wrote.body.exitCode).toBe(0);
      const snap = await first.json("POST", "/v1/sandboxes/kept/snapshots", {});
      expect(snap.status, JSON.stringify(snap.body)).toBe(201);
      before = snap.body as { id: string; digest: string };
      expect(receivedFor(first, before.id)).toBeGreaterThan(4_000_000); // positive control: a full read
    } finally {
      await first.stop();
    }
    const second = await startHost({ dataDir });
    try {
      // One file changes while the host is down (seen from the new host's environment): read again.
      const changed = await second.json("POST", "/v1/sandboxes/kept/exec", { command: "head -c 100000 /dev/urandom > t/f3 && sleep 0.3" });
      expect(changed.body.exitCode).toBe(0);
      const after = await second.json("POST", "/v1/sandboxes/kept/snapshots", {});
      expect(after.status, JSON.stringify(after.body)).toBe(201);
      expect(after.body.storedBytes).toBe(100_000);
      expect(after.body.digest).not.toBe(before.digest);
      const read = receivedFor(second, after.body.id);
      expect(read).toBeGreaterThan(100_000); // the changed file, in full
      expect(read).toBeLessThan(100_000 + 41 * 2048 + 16 * 1024); // the rest, headers only
    } finally {
      await second.stop();
    }
  }, 120_000);

  it("offers only what fits in one request to the agent: a tree whose cache is larger still snapshots, the rest read in full", async () => {
    const host = await startHost();
    try {
      const sh = async (command: string) => (await host.json("POST", "/v1/sandboxes/wide/exec", { command, timeoutMs: 120_000 })).body;
      expect((await host.json("POST", "/v1/sandboxes", { id: "wide" })).status).toBe(201);
      // 14,000 files with 200-character names: their cache (~5 MiB as JSON) is more than a 4 MiB frame.
      const made = await sh(`python3 -c "
import os
os.makedirs('w', exist_ok=True)
for i in range(14000):
    open('w/%05d-' % i + 'n' * 194, 'w').write(str(i))
" && sleep 0.3`);
      expect(made.exitCode, made.stderr).toBe(0);
      const first = await host.json("POST", "/v1/sandboxes/wide/snapshots", {});
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      const second = await host.json("POST", "/v1/sandboxes/wide/snapshots", {});
      expect(second.status, JSON.stringify(second.body)).toBe(201);
      expect(second.body.digest).toBe(first.body.digest);
      expect(second.body.storedBytes).toBe(0);
      expect(receivedFor(host, second.body.id)).toBeLessThan(receivedFor(host, first.body.id)); // the cache was used for part
    } finally {
      await host.stop();
    }
  }, 180_000);

  it("takes a `same` record only for the hash it offered for that path (a forged one naming other stored content is refused)", { timeout: 20_000 }, async () => {
    const store = await SnapshotStore.open(tempDir(), "copy", () => {});
    const content = new TextEncoder().encode("someone else's secret\n");
    const sha256 = createHash("sha256").update(content).digest("hex");
    const pins = new Set<string>();
    // Stored by another ingest (another sandbox's snapshot, say).
    await store.ingest(toStream(await archiveOf([{ header: { name: "secret", type: "file", mode: 0o600 }, body: content }])), MAX, pins);
    const forged = (name: string) => archiveOf([{ header: { name, type: "file", mode: 0o644, size: 0, pax: { "SANDGATE.same": sha256 } } as Member["header"], body: new Uint8Array(0) }]);
    const offered = new Map([["mine", { key: "k", sha256, size: content.byteLength }]]);
    // Positive control: offered for that path, it is taken (no bytes, nothing stored).
    const taken = await store.ingest(toStream(await forged("mine")), MAX, pins, undefined, "any", offered);
    expect(taken.entries.get("mine")).toMatchObject({ type: "file", sha256, size: content.byteLength });
    expect(taken.storedBytes).toBe(0);
    // Not offered at all, offered for another path, or offered with another hash: refused.
    for (const [name, offer] of [
      ["mine", undefined],
      ["theirs", offered],
      ["mine", new Map([["mine", { key: "k", sha256: "0".repeat(64), size: 1 }]])],
    ] as const) {
      const refused = store.ingest(toStream(await forged(name)), MAX, pins, undefined, "any", offer);
      await expect(refused).rejects.toThrow(/did not offer/);
    }
    await store.unpin(pins);
  });
});

async function* toStream(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
