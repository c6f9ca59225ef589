/**
 * The contract every Backend keeps, as seen through core. Run against the LocalBackend and the
 * RemoteBackend in Node, and against the RemoteBackend and the CloudflareBackend (over the SDK
 * stand-in) inside workerd, so the backends cannot drift apart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../src/core/backend.ts";
import { SandgateCore, defaultLimits } from "../src/core/core.ts";
import type { ExecEvent } from "../src/schemas/exec.ts";

export interface ContractOptions {
  /** A fresh backend for this suite; closed after it. */
  open(): Promise<Backend>;
  /** Prefix for sandbox ids, so suites sharing one host never collide. */
  prefix: string;
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

async function collect(events: AsyncIterable<ExecEvent>): Promise<ExecEvent[]> {
  const out: ExecEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

export function backendContract(name: string, options: ContractOptions): void {
  describe(`backend contract: ${name}`, () => {
    let backend: Backend;
    let core: SandgateCore;
    const id = (suffix: string) => `${options.prefix}-${suffix}`;

    beforeAll(async () => {
      backend = await options.open();
      core = new SandgateCore(backend, { ...defaultLimits, maxOutputBytes: 1024 });
    });
    afterAll(async () => {
      await backend.close();
    });

    it("creates, finds, lists, updates and deletes sandboxes", async () => {
      const created = await core.createSandbox({ id: id("life"), ttlSeconds: 300, labels: { suite: options.prefix, n: "1" }, env: { A: "1" } });
      expect(created).toMatchObject({ id: id("life"), labels: { suite: options.prefix, n: "1" } });
      expect(["ready", "sleeping"]).toContain(created.status);
      await expect(core.createSandbox({ id: id("life") })).rejects.toMatchObject({ code: "conflict" });
      expect((await core.getSandbox({ id: id("life") })).id).toBe(id("life"));

      await core.createSandbox({ id: id("life2"), labels: { suite: options.prefix, n: "2" } });
      const listed = await core.listSandboxes({ label: `suite:${options.prefix}` });
      expect(listed.sandboxes.map((s) => s.id)).toEqual([id("life"), id("life2")]);
      const page = await core.listSandboxes({ label: `suite:${options.prefix}`, limit: 1 });
      expect(page.sandboxes.map((s) => s.id)).toEqual([id("life")]);
      const next = await core.listSandboxes({ label: `suite:${options.prefix}`, limit: 1, cursor: page.nextCursor ?? undefined });
      expect(next.sandboxes.map((s) => s.id)).toEqual([id("life2")]);

      const before = Date.parse(created.expiresAt);
      const extended = await core.updateSandbox({ id: id("life"), extendBySeconds: 60, labels: { suite: options.prefix, n: "x" } });
      expect(Math.abs(Date.parse(extended.expiresAt) - before - 60_000)).toBeLessThan(2000);
      expect(extended.labels.n).toBe("x");

      await core.deleteSandbox({ id: id("life") });
      await core.deleteSandbox({ id: id("life2") });
      await expect(core.getSandbox({ id: id("life") })).rejects.toMatchObject({ code: "not_found" });
      await expect(core.deleteSandbox({ id: id("life") })).rejects.toMatchObject({ code: "not_found" });
    });

    it("runs commands with env, cwd, stdin, argv, exit codes, output caps and timeouts", async () => {
      await core.createSandbox({ id: id("exec"), env: { FROM_SANDBOX: "yes", SHARED: "sandbox" } });
      const shell = await core.exec({ id: id("exec"), command: 'echo "$FROM_SANDBOX $SHARED"; pwd; echo e >&2; exit 3', env: { SHARED: "exec" } });
      expect(shell).toMatchObject({ exitCode: 3, stdout: "yes exec\n/workspace\n", stderr: "e\n", timedOut: false, truncated: false });
      await core.exec({ id: id("exec"), command: "mkdir -p sub" });
      const argv = await core.exec({ id: id("exec"), argv: ["sh", "-c", 'pwd; cat; echo "$0"', "it's quoted"], cwd: "sub", stdin: "input\n" });
      expect(argv.stdout).toBe("/workspace/sub\ninput\nit's quoted\n");
      const big = await core.exec({ id: id("exec"), command: "head -c 5000 /dev/zero | tr '\\0' x" });
      expect(big).toMatchObject({ truncated: true });
      expect(big.stdout.length).toBe(1024);
      const slow = await core.exec({ id: id("exec"), command: "sleep 20", timeoutMs: 500 });
      expect(slow.timedOut).toBe(true);
      expect(slow.exitCode).not.toBe(0);
      await expect(core.exec({ id: id("missing"), command: "true" })).rejects.toMatchObject({ code: "not_found" });
    });

    it("streams a command's output and ends with exit", async () => {
      const events = await collect(await core.execStream({ id: id("exec"), command: "echo out; echo err >&2; exit 4" }, new AbortController().signal));
      expect(events.filter((e) => e.type === "stdout").map((e) => (e as { data: string }).data).join("")).toBe("out\n");
      expect(events.filter((e) => e.type === "stderr").map((e) => (e as { data: string }).data).join("")).toBe("err\n");
      expect(events.at(-1)).toMatchObject({ type: "exit", exitCode: 4 });
    });

    it("writes, reads, lists, stats, moves and deletes files", async () => {
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) % 256);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 100_000));
          controller.enqueue(bytes.subarray(100_000));
          controller.close();
        },
      });
      const written = await core.writeFile({ id: id("exec"), path: "dir/blob.bin", body });
      expect(written).toMatchObject({ path: "/workspace/dir/blob.bin", name: "blob.bin", type: "file", size: bytes.length });
      const read = await core.readFile({ id: id("exec"), path: "/workspace/dir/blob.bin" });
      expect(read.size).toBe(bytes.length);
      expect(new Uint8Array(await new Response(read.body).arrayBuffer())).toEqual(bytes);

      await core.writeFileJson({ id: id("exec"), path: "dir/note.txt", content: "héllo", encoding: "utf-8" });
      expect(await core.readFileJson({ id: id("exec"), path: "dir/note.txt", encoding: "utf-8" })).toMatchObject({ content: "héllo", size: 6 });
      expect((await core.readFileJson({ id: id("exec"), path: "dir/note.txt", encoding: "base64" })).content).toBe("aMOpbGxv");

      const listing = await core.listFiles({ id: id("exec"), path: "dir" });
      expect(listing.entries.map((e) => [e.name, e.type])).toEqual([
        ["blob.bin", "file"],
        ["note.txt", "file"],
      ]);
      expect(await core.statFile({ id: id("exec"), path: "dir" })).toMatchObject({ type: "directory", path: "/workspace/dir" });

      await core.mkdir({ id: id("exec"), path: "made/deep", recursive: true });
      await expect(core.mkdir({ id: id("exec"), path: "made", recursive: false })).rejects.toMatchObject({ code: "conflict" });
      await core.moveFile({ id: id("exec"), from: "dir/note.txt", to: "made/note.txt", overwrite: false });
      await expect(core.statFile({ id: id("exec"), path: "dir/note.txt" })).rejects.toMatchObject({ code: "not_found" });
      await core.writeFileJson({ id: id("exec"), path: "made/other.txt", content: "x", encoding: "utf-8" });
      await expect(core.moveFile({ id: id("exec"), from: "made/other.txt", to: "made/note.txt", overwrite: false })).rejects.toMatchObject({ code: "conflict" });
      await core.moveFile({ id: id("exec"), from: "made/other.txt", to: "made/note.txt", overwrite: true });
      expect(await text((await core.readFile({ id: id("exec"), path: "made/note.txt" })).body)).toBe("x");

      await expect(core.deleteFile({ id: id("exec"), path: "made", recursive: false })).rejects.toMatchObject({ code: "conflict" });
      await core.deleteFile({ id: id("exec"), path: "made", recursive: true });
      await core.deleteFile({ id: id("exec"), path: "dir/blob.bin" });
      await expect(core.readFile({ id: id("exec"), path: "dir/blob.bin" })).rejects.toMatchObject({ code: "not_found" });
      await expect(core.readFile({ id: id("exec"), path: "../etc/passwd" })).rejects.toMatchObject({ code: "forbidden" });
      await core.deleteSandbox({ id: id("exec") });
    });
  });
}
