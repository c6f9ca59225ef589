/**
 * Cloudflare snapshots inside workerd: CloudflareBackend over the SDK stand-in (real bubblewrap
 * sandboxes behind it), archives in miniflare's R2 (the Worker's SNAPSHOTS bucket), rows in the
 * real registry Durable Object. Each claim is checked from outside: the bucket's objects, the
 * sandbox's files through exec.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Sandbox, getSandbox } from "@cloudflare/sandbox";
import { CloudflareBackend, SANDBOX_OPTIONS } from "../src/backends/cloudflare/index.ts";
import type { RegistryApi } from "../src/backends/cloudflare/registry.ts";
import { SNAPSHOT_INDEX, type SnapshotIndexApi } from "../src/backends/cloudflare/snapshot-index.ts";
import { CUT_ATTEMPTS, type SnapshotBucket, restoreScript, snapshotScript } from "../src/backends/cloudflare/snapshots.ts";
import { ShardedRegistry } from "../src/backends/cloudflare/sharded.ts";
import { SandgateCore, defaultLimits } from "../src/core/core.ts";
import { HOST_TOKEN } from "./constants.ts";
import {
  createSnapshot,
  deleteSnapshot,
  exportSnapshot,
  forkSandbox,
  getSnapshot,
  importSnapshot,
  listSnapshots,
  restoreSnapshot,
  updateSnapshot,
} from "../src/core/snapshots.ts";

const standIn = (id: string) => getSandbox(env.SDK_STAND_IN as unknown as DurableObjectNamespace<Sandbox>, id, SANDBOX_OPTIONS);
const registry = (name: string) => env.REGISTRY.get(env.REGISTRY.idFromName(name));
const backend = new CloudflareBackend({
  sandbox: standIn,
  registry: new ShardedRegistry((name) => registry(`snap-${name}`) as unknown as RegistryApi),
  snapshots: { bucket: env.SNAPSHOTS as unknown as SnapshotBucket, index: registry(`snap-${SNAPSHOT_INDEX}`) as unknown as SnapshotIndexApi },
});
const core = new SandgateCore(backend, { ...defaultLimits, maxSnapshotBytes: 4 * 1024 * 1024 });
const sh = async (id: string, command: string) => {
  const result = await core.exec({ id, command });
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout;
};
const objects = async () => (await env.SNAPSHOTS.list({ prefix: "snapshots/" })).objects.map((o) => o.key).sort();
const bytesOf = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer());
const streamOf = (bytes: Uint8Array) => new Response(bytes).body!;
/** Polls `probe` until `ok` holds (no fixed sleeps); answers the last value. */
async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("CloudflareBackend snapshots (R2 + registry, over the SDK stand-in)", () => {
  it("create, list, update, restore, fromSnapshot, fork, export, import and delete", async () => {
    await core.createSandbox({ id: "wsnap-a" });
    await sh("wsnap-a", "mkdir -p d/e empty && echo hello > d/e/f.txt && ln -s d/e/f.txt link && echo skip > x.log && head -c 300000 /dev/urandom > big && chmod 750 d");

    const snap = await createSnapshot(core, { id: "wsnap-a", name: "one", labels: { k: "v" }, excludes: ["*.log"] });
    expect(snap).toMatchObject({ sandboxId: "wsnap-a", name: "one", labels: { k: "v" }, sizeBytes: 300_006, expiresAt: null });
    expect(snap.fileCount).toBe(6); // d, d/e, d/e/f.txt, empty, link, big
    expect(snap.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The archive is in R2, whole: its size is what the snapshot says it stored.
    const head = await env.SNAPSHOTS.head(`snapshots/${snap.id}.tar`);
    expect(head?.size).toBe(snap.storedBytes);
    // The container's temporary tar is gone.
    expect(await sh("wsnap-a", "ls -a /tmp | grep -c sandgate || true")).toBe("0\n");

    expect((await listSnapshots(core, { sandboxId: "wsnap-a", label: "k:v" })).snapshots.map((s) => s.id)).toEqual([snap.id]);
    expect((await listSnapshots(core, { label: "k:other" })).snapshots).toEqual([]);
    expect(await getSnapshot(core, { snapshotId: snap.id })).toEqual(snap);
    const relabelled = await updateSnapshot(core, { snapshotId: snap.id, labels: { k: "w" }, ttlSeconds: 3600 });
    expect(relabelled.labels).toEqual({ k: "w" });
    expect(Date.parse(relabelled.expiresAt!) - Date.now()).toBeGreaterThan(3500_000);

    // Break the workspace, restore: the old tree is back, the excluded file and the junk are not.
    await sh("wsnap-a", "rm -rf d link empty && echo junk > junk");
    const restored = await restoreSnapshot(core, { id: "wsnap-a", snapshotId: snap.id });
    expect(restored.killedProcesses).toBe(0);
    expect(await sh("wsnap-a", "cat link; ls -a | tr '\\n' ' '; stat -c %a d; cmp -s big big && echo big-ok")).toBe("hello\n. .. big d empty link 750\nbig-ok\n");

    // A background process: 409 unless killProcesses.
    await core.startProcess({ id: "wsnap-a", argv: ["sleep", "600"] });
    await expect(restoreSnapshot(core, { id: "wsnap-a", snapshotId: snap.id })).rejects.toMatchObject({ code: "conflict" });
    expect((await restoreSnapshot(core, { id: "wsnap-a", snapshotId: snap.id, killProcesses: true })).killedProcesses).toBe(1);

    // fromSnapshot: a new sandbox starts with that workspace.
    await core.createSandbox({ id: "wsnap-b", fromSnapshot: snap.id });
    expect(await sh("wsnap-b", "cat d/e/f.txt; readlink link")).toBe("hello\nd/e/f.txt\n");

    // Export is the R2 object; importing it back gives the same digest, plain or gzip.
    const exported = await exportSnapshot(core, { snapshotId: snap.id });
    expect(exported.size).toBe(snap.storedBytes);
    const archive = await bytesOf(exported.body);
    const imported = await importSnapshot(core, { body: streamOf(archive), name: "imp", label: "from:export" });
    expect(imported).toMatchObject({ sandboxId: null, name: "imp", labels: { from: "export" }, digest: snap.digest, sizeBytes: snap.sizeBytes, fileCount: snap.fileCount });
    const gzipped = streamOf(archive).pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
    expect((await importSnapshot(core, { body: gzipped })).digest).toBe(snap.digest);
    // Asked for gzip (Accept), the export is gzip made here as it streams; zstd alone (no compressor in workerd) gets plain tar.
    const asGzip = await exportSnapshot(core, { snapshotId: snap.id }, "application/gzip");
    expect(asGzip.contentType).toBe("application/gzip");
    const gz = await bytesOf(asGzip.body);
    expect([...gz.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(await bytesOf(streamOf(gz).pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>))).toEqual(archive);
    expect((await importSnapshot(core, { body: streamOf(gz) })).digest).toBe(snap.digest);
    const asZstd = await exportSnapshot(core, { snapshotId: snap.id }, "application/zstd");
    expect(asZstd.contentType).toBe("application/x-tar");
    expect(await bytesOf(asZstd.body)).toEqual(archive);
    expect((await exportSnapshot(core, { snapshotId: snap.id }, "application/zstd, application/gzip;q=0.5")).contentType).toBe("application/gzip");
    expect(exported.contentType).toBe("application/x-tar");

    // Fork: two sandboxes with the workspace; the fork's own snapshot is deleted afterwards.
    const before = await objects();
    const forked = await forkSandbox(core, { id: "wsnap-a", count: 2 });
    expect(forked.sandboxes).toHaveLength(2);
    for (const sandbox of forked.sandboxes) expect(await sh(sandbox.id, "cat d/e/f.txt")).toBe("hello\n");
    expect(await objects()).toEqual(before);

    // Delete: the row and the R2 object go; the sandbox copies stay as they are.
    await deleteSnapshot(core, { snapshotId: imported.id });
    await expect(getSnapshot(core, { snapshotId: imported.id })).rejects.toMatchObject({ code: "not_found" });
    expect(await env.SNAPSHOTS.head(`snapshots/${imported.id}.tar`)).toBeNull();
    await expect(deleteSnapshot(core, { snapshotId: imported.id })).rejects.toMatchObject({ code: "not_found" });
    await expect(core.createSandbox({ fromSnapshot: "snap-nope" })).rejects.toMatchObject({ code: "not_found" });
  }, 240_000);

  it("an archive past one R2 part goes up in equal parts and comes back whole; a second snapshot of the same tree has the same digest", async () => {
    const roomy = new SandgateCore(backend);
    await roomy.createSandbox({ id: "wsnap-multi" });
    // 20 MiB: two full 8 MiB parts and a last one.
    await sh("wsnap-multi", "head -c 20971520 /dev/urandom > blob && sha256sum blob > sum");
    const first = await createSnapshot(roomy, { id: "wsnap-multi" });
    expect(first.sizeBytes).toBe(20_971_520 + Number((await sh("wsnap-multi", "wc -c < sum")).trim()));
    const object = await env.SNAPSHOTS.head(`snapshots/${first.id}.tar`);
    expect(object?.size).toBe(first.storedBytes);
    expect(first.storedBytes).toBeGreaterThan(16 * 1024 * 1024);
    const second = await createSnapshot(roomy, { id: "wsnap-multi" });
    expect(second.digest).toBe(first.digest);
    await sh("wsnap-multi", "rm blob");
    await restoreSnapshot(roomy, { id: "wsnap-multi", snapshotId: first.id });
    expect(await sh("wsnap-multi", "sha256sum -c sum")).toBe("blob: OK\n");
    // Control for the digest: a changed tree has another.
    await sh("wsnap-multi", "echo changed > sum");
    expect((await createSnapshot(roomy, { id: "wsnap-multi" })).digest).not.toBe(first.digest);
  }, 240_000);

  it("archives move between the local runtime and the Worker, both ways", async () => {
    await core.createSandbox({ id: "wsnap-port" });
    // A name past tar's 100-byte field: GNU long names one way, the host's own encoding the other.
    const long = `${"n".repeat(120)}/${"m".repeat(120)}.txt`;
    await sh("wsnap-port", `mkdir -p src/deep ${long.split("/")[0]} && echo one > src/deep/a.txt && ln -s deep/a.txt src/link && mkdir empty && echo long > ${long}`);
    const here = await createSnapshot(core, { id: "wsnap-port" });
    const host = (path: string, init: RequestInit = {}) => fetch(`${env.TEST_HOST_URL}${path}`, { ...init, headers: { authorization: `Bearer ${HOST_TOKEN}`, ...init.headers } });
    const exported = await exportSnapshot(core, { snapshotId: here.id });
    const onHost = await host("/v1/snapshots?name=from-worker", { method: "POST", body: exported.body, duplex: "half" } as RequestInit);
    const hostSnapshot = (await onHost.json()) as { id: string; fileCount: number; sizeBytes: number; digest: string };
    expect(onHost.status, JSON.stringify(hostSnapshot)).toBe(201);
    // The digest is the tree's, computed the same way on both: the archive keeps it as it moves.
    expect(hostSnapshot).toMatchObject({ fileCount: here.fileCount, sizeBytes: here.sizeBytes, digest: here.digest });
    // And back: the host's own export imports here and restores the same files.
    const back = await host(`/v1/snapshots/${hostSnapshot.id}/archive`);
    expect(back.status).toBe(200);
    const returned = await importSnapshot(core, { body: back.body! });
    expect(returned).toMatchObject({ fileCount: here.fileCount, sizeBytes: here.sizeBytes, digest: here.digest });
    await core.createSandbox({ id: "wsnap-port2", fromSnapshot: returned.id });
    expect(await sh("wsnap-port2", `cat src/link ${long}; test -d empty && echo empty-ok`)).toBe("one\nlong\nempty-ok\n");
    await host(`/v1/snapshots/${hostSnapshot.id}`, { method: "DELETE" });
  }, 120_000);

  it("a fixed archive has the same digest on the local runtime and the Worker; another tree has another", async () => {
    const host = (path: string, init: RequestInit = {}) => fetch(`${env.TEST_HOST_URL}${path}`, { ...init, headers: { authorization: `Bearer ${HOST_TOKEN}`, ...init.headers } });
    const onBoth = async (bytes: Uint8Array) => {
      const res = await host("/v1/snapshots", { method: "POST", body: bytes });
      const local = (await res.json()) as { id: string; digest: string; fileCount: number; sizeBytes: number };
      expect(res.status, JSON.stringify(local)).toBe(201);
      await host(`/v1/snapshots/${local.id}`, { method: "DELETE" });
      return { local, worker: await importSnapshot(core, { body: streamOf(bytes) }) };
    };
    // No parent directory member for "src" (both add it), a hard link, a symlink, an empty file.
    const tree: Member[] = [
      { name: "src/a.txt", type: "0", body: "alpha" },
      { name: "src/empty", type: "0", body: "" },
      { name: "src/h", type: "1", linkname: "src/a.txt" },
      { name: "src/l", type: "2", linkname: "a.txt" },
      { name: "docs/", type: "5" },
    ];
    const same = await onBoth(tarOf(tree));
    expect(same.worker.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(same.worker).toMatchObject({ digest: same.local.digest, fileCount: same.local.fileCount, sizeBytes: same.local.sizeBytes });
    expect(same.worker.fileCount).toBe(6);
    // Control: one byte of content changed changes both digests alike.
    const other = await onBoth(tarOf(tree.map((m) => (m.name === "src/a.txt" ? { ...m, body: "alphA" } : m))));
    expect(other.worker.digest).toBe(other.local.digest);
    expect(other.worker.digest).not.toBe(same.worker.digest);
  }, 120_000);

  it("an expired snapshot is removed at its expiry by the registry's alarm, with no list; one without a TTL stays", async () => {
    await core.createSandbox({ id: "wsnap-ttl" });
    await sh("wsnap-ttl", "echo x > f");
    const index = registry(`snap-${SNAPSHOT_INDEX}`) as unknown as SnapshotIndexApi;
    const kept = await createSnapshot(core, { id: "wsnap-ttl" });
    const brief = await createSnapshot(core, { id: "wsnap-ttl", ttlSeconds: 2 });
    // Control: the archive is in R2 before the expiry.
    expect(await env.SNAPSHOTS.head(`snapshots/${brief.id}.tar`)).not.toBeNull();
    // Gone: the archive from R2, and the row (a row kept past its expiry would be listed as expired).
    const state = await until(
      async () => ({ archive: (await env.SNAPSHOTS.head(`snapshots/${brief.id}.tar`)) !== null, row: (await index.expiredSnapshots(Date.now())).includes(brief.id) }),
      (s) => !s.archive && !s.row && Date.now() > Date.parse(brief.expiresAt!),
    );
    expect(state).toEqual({ archive: false, row: false });
    expect(await env.SNAPSHOTS.head(`snapshots/${kept.id}.tar`)).not.toBeNull();
    expect((await getSnapshot(core, { snapshotId: kept.id })).id).toBe(kept.id);
    await deleteSnapshot(core, { snapshotId: kept.id });
  }, 60_000);

  it("a writer running during the snapshot never gets a torn file into it: the archive is remade, or the snapshot answers 409", async () => {
    await core.createSandbox({ id: "wsnap-cut" });
    // The writer truncates `big` and writes 300,000 lines of one 6-digit number, again and again, so
    // every state the file ever has is a prefix of one version. A copy torn by a reader is not: it
    // mixes versions, or holds the zeros tar pads a file that shrank under it with.
    // check.sh FILE answers `state` (a prefix of one version) or `torn`.
    const check = String.raw`[ "$(tr -d '0-9\n' < "$1" | wc -c)" -eq 0 ] || { echo torn; exit; }
awk -v f="$(head -n 1 "$1")" 'index(f, $0) != 1 { bad = 1 } END { print bad ? "torn" : "state" }' "$1"`;
    await sh("wsnap-cut", `cat > /tmp/check.sh <<'SANDGATE_EOF'\n${check}\nSANDGATE_EOF`);
    const writer = await core.startProcess({
      id: "wsnap-cut",
      argv: ["sh", "-c", "n=0; while [ ! -e /tmp/stop ]; do n=$((n + 1)); yes $(printf %06d $n) | head -c 2100000 > big; echo $n > /tmp/count.new && mv /tmp/count.new /tmp/count; done"],
    });
    const count = async () => Number((await sh("wsnap-cut", "cat /tmp/count 2>/dev/null || echo 0")).trim());
    await until(count, (n) => n > 1);
    // Control: the probe tells a torn copy (two versions mixed; zeros where a file shrank) from a
    // state the file had (a prefix of one version). Built here rather than caught from a racing reader,
    // which tears a copy only when the scheduler lets it.
    expect(
      await sh(
        "wsnap-cut",
        "yes 000001 | head -c 70000 > /tmp/mixed; yes 000002 | head -c 70000 >> /tmp/mixed; " +
          "yes 000003 | head -c 70000 > /tmp/padded; head -c 512 /dev/zero >> /tmp/padded; " +
          "yes 000004 | head -c 70000 > /tmp/prefix; " +
          "for f in mixed padded prefix; do sh /tmp/check.sh /tmp/$f; done",
      ),
    ).toBe("torn\ntorn\nstate\n");

    const before = await objects();
    const started = await count();
    const outcome = await createSnapshot(core, { id: "wsnap-cut" }).then(
      (snapshot) => ({ snapshot, error: null }),
      (error: { code: string; details?: { attempts?: number } }) => ({ snapshot: null, error }),
    );
    // The writer ran all through the snapshot.
    expect(await count()).toBeGreaterThan(started);
    if (outcome.snapshot) {
      await core.createSandbox({ id: "wsnap-cut2", fromSnapshot: outcome.snapshot.id });
      await sh("wsnap-cut2", `cat > /tmp/check.sh <<'SANDGATE_EOF'\n${check}\nSANDGATE_EOF`);
      expect(await sh("wsnap-cut2", "sh /tmp/check.sh big"), "the snapshot taken during the writes").toBe("state\n");
    } else {
      expect(outcome.error).toMatchObject({ code: "conflict", details: { attempts: 5 } });
      expect(await objects()).toEqual(before);
    }
    // The writer stops on its own (a whole last version); the snapshot then settles and holds it whole.
    await sh("wsnap-cut", "touch /tmp/stop");
    await until(async () => (await core.getProcess({ id: "wsnap-cut", processId: writer.id })).status, (status) => status !== "running");
    const quiet = await createSnapshot(core, { id: "wsnap-cut" });
    await core.createSandbox({ id: "wsnap-cut3", fromSnapshot: quiet.id });
    await sh("wsnap-cut3", `cat > /tmp/check.sh <<'SANDGATE_EOF'\n${check}\nSANDGATE_EOF`);
    expect(await sh("wsnap-cut3", "wc -c < big; sh /tmp/check.sh big"), "the snapshot taken after").toBe("2100000\nstate\n");
  }, 120_000);

  it("the snapshot script remakes an archive that tar or its compare finds changed, gives up after 5 rounds, and stops at once on other faults", async () => {
    // A `tar` ahead on PATH that answers as GNU tar does when a file changes (exit 1), for the
    // create (-c…) or the compare (--compare) step, and counts its calls; the script is the real one.
    await core.createSandbox({ id: "wsnap-loop" });
    const shim = (create: string, compare: string) =>
      `cat > /tmp/shim/tar <<'SHIM_EOF'\n#!/bin/sh\necho "$1" >> /tmp/shim/calls\ncase "$1" in --compare) ${compare};; *) ${create};; esac\nSHIM_EOF\nchmod +x /tmp/shim/tar && rm -f /tmp/shim/calls`;
    const run = async (create: string, compare: string) => {
      const script = snapshotScript("/tmp/loop.tar", []);
      return sh(
        "wsnap-loop",
        `mkdir -p /tmp/shim && ${shim(create, compare)} && cat > /tmp/loop.sh <<'SANDGATE_EOF'\n${script}\nSANDGATE_EOF\nPATH=/tmp/shim:$PATH sh /tmp/loop.sh 2>/tmp/loop.err; echo "exit $?"; sort /tmp/shim/calls | uniq -c | sed 's/^ *//'; cat /tmp/loop.err`,
      );
    };
    const changed = "echo 'tar: ./f: file changed as we read it' >&2; exit 1";
    expect(await run(changed, "exit 0")).toBe(`exit 75\n${CUT_ATTEMPTS} --sort=name\ntar: ./f: file changed as we read it\n`);
    expect(await run("exit 0", "echo './f: Contents differ'; exit 1")).toBe(`exit 75\n${CUT_ATTEMPTS} --compare\n${CUT_ATTEMPTS} --sort=name\n./f: Contents differ\n`);
    expect(await run("echo 'tar: ./f: File shrank by 10 bytes; padding with zeros' >&2; exit 2", "exit 0")).toBe(`exit 75\n${CUT_ATTEMPTS} --sort=name\ntar: ./f: File shrank by 10 bytes; padding with zeros\n`);
    // Control: settles on the third round; a fault that is no change (a full disk) is not retried.
    expect(await run("n=$(wc -l < /tmp/shim/calls); [ $n -ge 3 ] || { echo 'tar: x: file changed as we read it' >&2; exit 1; }", "exit 0")).toBe("exit 0\n1 --compare\n3 --sort=name\n");
    expect(await run("echo 'tar: /tmp/loop.tar: Cannot write: No space left on device' >&2; exit 2", "exit 0")).toBe("exit 2\n1 --sort=name\ntar: /tmp/loop.tar: Cannot write: No space left on device\n");
  }, 60_000);

  it("a restore leaves exactly the snapshot's tree; a failed one (a corrupt archive) leaves the old tree, and no stage", async () => {
    await core.createSandbox({ id: "wsnap-rs" });
    // Every member's path, type, mode, size, mtime and link target, and every file's content hash.
    const tree = async () => sh("wsnap-rs", "find . -mindepth 1 -printf '%P %y %m %s %T@ %l\\n' | sort; find . -type f -exec sha256sum {} + | sort");
    await sh("wsnap-rs", "mkdir -p a/b empty && echo one > a/b/f && ln -s b/f a/l && chmod 700 a && echo two > top && touch -d @1700000000.5 top");
    const saved = await tree();
    const snap = await createSnapshot(core, { id: "wsnap-rs" });
    await sh("wsnap-rs", "rm -rf a && chmod 777 empty && echo junk > junk && echo changed > top && mkdir -p new/deep");
    const changed = await tree();
    expect(changed).not.toBe(saved);
    await restoreSnapshot(core, { id: "wsnap-rs", snapshotId: snap.id });
    expect(await tree()).toBe(saved);

    // A snapshot whose archive is then broken in R2 (cut short): the restore fails in the container.
    const broken = await createSnapshot(core, { id: "wsnap-rs" });
    const key = `snapshots/${broken.id}.tar`;
    const bytes = await bytesOf((await env.SNAPSHOTS.get(key))!.body);
    await env.SNAPSHOTS.put(key, bytes.subarray(0, 2048));
    await sh("wsnap-rs", "echo changed > top && echo junk > junk");
    const before = await tree();
    await expect(restoreSnapshot(core, { id: "wsnap-rs", snapshotId: broken.id })).rejects.toMatchObject({ code: "internal", message: expect.stringMatching(/restore failed/) });
    expect(await tree()).toBe(before);
    expect(await sh("wsnap-rs", "ls -a /workspace /tmp | grep -c sandgate || true")).toBe("0\n");
    // Control: the good snapshot still restores over it.
    await restoreSnapshot(core, { id: "wsnap-rs", snapshotId: snap.id });
    expect(await tree()).toBe(saved);
  }, 120_000);

  it("the restore swap is atomic where the workspace is a plain directory: a reader sees the old tree or the new, never a mix", async () => {
    // The stand-in's /workspace is a bind mount (it cannot be renamed, and the restore there swaps
    // entries); the real container's is a plain directory. The same script is run here on a plain
    // directory in the same real container shell, swapped 40 times under a reader.
    await core.createSandbox({ id: "wsnap-atomic" });
    const root = "/tmp/at/root/workspace";
    await sh("wsnap-atomic", `mkdir -p /tmp/at/v1/sub /tmp/at/v2/sub /tmp/at/root && for v in 1 2; do echo $v > /tmp/at/v$v/a && echo $v > /tmp/at/v$v/sub/b && tar -cf /tmp/at/t$v.tar -C /tmp/at/v$v .; done && cp -a /tmp/at/v1 ${root}`);
    for (let i = 0; i < 40; i++) {
      await sh("wsnap-atomic", `cat > /tmp/at/r${i}.sh <<'SANDGATE_EOF'\n${restoreScript(`/tmp/at/t${(i % 2) + 1}.tar`, `tok${i}`, root)}\nSANDGATE_EOF`);
    }
    // Each read pins a tree with `cd`, reads both files, then asks where its tree is (`pwd -P`). A
    // tree still at the workspace's path when the reads are done was live all through them: it must
    // read "11" or "22". A tree swapped out meanwhile is being removed, and may read partly: skipped.
    const reader = await core.startProcess({
      id: "wsnap-atomic",
      argv: ["sh", "-c", `while :; do (cd ${root} 2>/dev/null && v=$(cat a sub/b 2>/dev/null | tr -d '\\n') && echo "$v $(pwd -P 2>/dev/null)") >> /tmp/at/log; done`],
    });
    const lines = async () =>
      (await sh("wsnap-atomic", "cat /tmp/at/log 2>/dev/null || true"))
        .split("\n")
        .filter((l) => l.endsWith(` ${root}`))
        .map((l) => l.slice(0, -root.length - 1));
    await until(lines, (l) => l.includes("11"));
    // The swap path runs: after the first restore the workspace is another directory (the stage was
    // made while the old one existed, so it cannot have the old one's inode).
    const inode = await sh("wsnap-atomic", `stat -c %i ${root}`);
    await sh("wsnap-atomic", "sh /tmp/at/r0.sh");
    expect(await sh("wsnap-atomic", `stat -c %i ${root}`)).not.toBe(inode);
    expect(await sh("wsnap-atomic", `for i in $(seq 1 39); do sh /tmp/at/r$i.sh || exit 1; done; cat ${root}/a; ls -a /tmp/at/root | tr '\\n' ' '`)).toBe("2\n. .. workspace ");
    // The last restore left the second tree: the reader gets to it (waited for, not assumed).
    const during = await until(lines, (l) => l.includes("22"));
    expect(during.filter((l) => l !== "11" && l !== "22")).toEqual([]);
    // Control: the reader reports a mix when there is one.
    await sh("wsnap-atomic", `echo 1 > ${root}/sub/b`);
    await until(lines, (l) => l.includes("21"));
    await core.killProcess({ id: "wsnap-atomic", processId: reader.id });
    // Without perl (no renameat2 exchange) the two-rename path restores the same tree, and cleans up.
    const tools = "sh stat awk mkdir chmod tar mv rm find cat";
    const fallback = restoreScript("/tmp/at/t1.tar", "noperl", root);
    expect(
      await sh("wsnap-atomic", `mkdir -p /tmp/at/bin && for t in ${tools}; do ln -sf "$(command -v $t)" /tmp/at/bin/$t; done && PATH=/tmp/at/bin sh -c 'command -v perl || echo no-perl' && cat > /tmp/at/np.sh <<'SANDGATE_EOF'\n${fallback}\nSANDGATE_EOF\nPATH=/tmp/at/bin sh /tmp/at/np.sh && cat ${root}/a ${root}/sub/b && ls -a /tmp/at/root | tr '\\n' ' '`),
    ).toBe("no-perl\n1\n1\n. .. workspace ");
  }, 120_000);

  it("reads excludes as the local runtime does: a name at any depth, a path from /workspace down", async () => {
    await core.createSandbox({ id: "wsnap-ex" });
    await sh("wsnap-ex", "mkdir -p a b/keep b/drop keep && echo 1 > a/x.log && echo 2 > b/keep/x.txt && echo 3 > b/drop/y && echo 4 > keep/x.txt && echo 5 > top.log");
    const snap = await createSnapshot(core, { id: "wsnap-ex", excludes: ["*.log", "b/drop", "keep/x.txt"] });
    await core.createSandbox({ id: "wsnap-ex2", fromSnapshot: snap.id });
    expect(await sh("wsnap-ex2", "find . -mindepth 1 | sort | tr '\\n' ' '")).toBe("./a ./b ./b/keep ./b/keep/x.txt ./keep ");
    expect(snap.fileCount).toBe(5);
  }, 120_000);

  it("a snapshot larger than the limit answers 413 and stores nothing", async () => {
    await core.createSandbox({ id: "wsnap-big" });
    await sh("wsnap-big", "head -c 5000000 /dev/zero > big");
    const before = await objects();
    await expect(createSnapshot(core, { id: "wsnap-big" })).rejects.toMatchObject({ code: "payload_too_large" });
    expect(await objects()).toEqual(before);
  }, 120_000);

  it("refuses unsafe or broken archives on import, storing nothing; the same builder's safe archive imports", async () => {
    const good = tarOf([{ name: "dir/", type: "5" }, { name: "dir/a.txt", type: "0", body: "hi" }, { name: "dir/l", type: "2", linkname: "a.txt" }, { name: "dir/h", type: "1", linkname: "dir/a.txt" }]);
    const control = await importSnapshot(core, { body: streamOf(good) });
    // The hard link's bytes count, as the local runtime counts them.
    expect(control).toMatchObject({ fileCount: 4, sizeBytes: 4 });
    // And it restores into a sandbox: the builder's archive is a real tar.
    await core.createSandbox({ id: "wsnap-imp", fromSnapshot: control.id });
    expect(await sh("wsnap-imp", "cat dir/l dir/h")).toBe("hihi");

    const before = await objects();
    const listed = (await listSnapshots(core, {})).snapshots.length;
    const cases: [string, Uint8Array, RegExp][] = [
      ["absolute", tarOf([{ name: "/tmp/evil", type: "0", body: "x" }]), /absolute/],
      ["dot-dot", tarOf([{ name: "a/../../evil", type: "0", body: "x" }]), /'\.\.'/],
      ["symlink out", tarOf([{ name: "l", type: "2", linkname: "../../etc/passwd" }]), /symlink/],
      ["absolute symlink", tarOf([{ name: "l", type: "2", linkname: "/etc/passwd" }]), /symlink/],
      ["hard link out", tarOf([{ name: "h", type: "1", linkname: "../etc/passwd" }]), /hard link/],
      ["hard link to nothing", tarOf([{ name: "h", type: "1", linkname: "missing.txt" }]), /hard link/],
      ["device", tarOf([{ name: "dev", type: "3" }]), /device/],
      ["fifo", tarOf([{ name: "fifo", type: "6" }]), /FIFO/],
      ["truncated", good.subarray(0, 700), /truncated|ends/],
      ["corrupt", Uint8Array.from(good, (b, i) => (i === 10 ? b ^ 0xff : b)), /checksum/],
    ];
    for (const [what, bytes, message] of cases) {
      const refused = await importSnapshot(core, { body: streamOf(bytes) }).then(
        () => null,
        (err: { code: string; message: string }) => err,
      );
      expect(refused, what).toMatchObject({ code: "invalid_request" });
      expect(refused!.message, what).toMatch(message);
    }
    const large = tarOf([{ name: "big", type: "0", body: new Uint8Array(5 * 1024 * 1024) }]);
    await expect(importSnapshot(core, { body: streamOf(large) })).rejects.toMatchObject({ code: "payload_too_large" });
    // Nothing of any refused archive is kept: no object, no row, no multipart left visible.
    expect(await objects()).toEqual(before);
    expect((await listSnapshots(core, {})).snapshots.length).toBe(listed);
  }, 120_000);
});

type Member = { name: string; type: "0" | "1" | "2" | "3" | "5" | "6"; linkname?: string; body?: string | Uint8Array };

/** A ustar archive of `members`, written byte by byte as a hostile client could. */
function tarOf(members: Member[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const member of members) {
    const body = typeof member.body === "string" ? enc.encode(member.body) : (member.body ?? new Uint8Array(0));
    const header = new Uint8Array(512);
    const put = (at: number, value: string) => header.set(enc.encode(value), at);
    const octal = (at: number, length: number, value: number) => put(at, `${value.toString(8).padStart(length - 1, "0")}\0`);
    put(0, member.name);
    octal(100, 8, member.type === "5" ? 0o755 : 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, member.type === "0" ? body.length : 0);
    octal(136, 12, 1_700_000_000);
    put(148, "        ");
    put(156, member.type);
    if (member.linkname) put(157, member.linkname);
    put(257, "ustar\u000000");
    let sum = 0;
    for (const b of header) sum += b;
    put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(header);
    if (member.type === "0" && body.length > 0) {
      const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
      padded.set(body);
      blocks.push(padded);
    }
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) (out.set(b, at), (at += b.length));
  return out;
}
