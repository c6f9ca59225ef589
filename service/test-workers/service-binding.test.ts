/** Workers RPC: the example consumer over its service binding, and the entrypoint called directly. */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SandgateService } from "../src/worker.ts";
import { readNdjson } from "../src/surfaces/rpc.ts";
import type { ExecEvent } from "../src/schemas/exec.ts";
import type { ProcessLogEvent } from "../src/schemas/processes.ts";

/** The code of the error a call ends with (awaited here, so no rejection goes unhandled). */
async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "no error";
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${(err as Error).message}`;
  }
}

// The loopback binding to this Worker's own entrypoint, typed as a consumer sees it.
const sandgate = (exports as unknown as { SandgateService: Service<SandgateService> }).SandgateService;

describe("the example consumer Worker", () => {
  it("creates a sandbox, runs a command and reads a file over its binding", async () => {
    const res = await env.CONSUMER.fetch("http://consumer/?id=consumer-demo");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "consumer-demo", exitCode: 0, stdout: "hello from /workspace\n", file: "hello from /workspace\n" });
  });
});

describe("SandgateService over Workers RPC", () => {
  it("runs the lifecycle", async () => {
    const created = await sandgate.createSandbox({ id: "rpc-life", ttlSeconds: 120, labels: { k: "v" } });
    expect(created).toMatchObject({ id: "rpc-life", labels: { k: "v" } });
    expect((await sandgate.getSandbox({ id: "rpc-life" })).id).toBe("rpc-life");
    const listed = await sandgate.listSandboxes({ label: "k:v" });
    expect(listed.sandboxes.map((s) => s.id)).toContain("rpc-life");
    const updated = await sandgate.updateSandbox({ id: "rpc-life", extendBySeconds: 60 });
    expect(Date.parse(updated.expiresAt)).toBeGreaterThan(Date.parse(created.expiresAt));
    await sandgate.deleteSandbox({ id: "rpc-life" });
    expect(await codeOf(sandgate.getSandbox({ id: "rpc-life" }))).toBe("not_found");
  });

  it("runs buffered and streamed commands through a sandbox handle", async () => {
    await sandgate.createSandbox({ id: "rpc-exec" });
    const box = sandgate.sandbox("rpc-exec");
    expect(await box.exec({ command: "echo hi; exit 5" })).toMatchObject({ exitCode: 5, stdout: "hi\n" });
    const stream = await box.execStream({ command: "for i in 1 2 3; do echo $i; done; echo bad >&2" });
    const events: ExecEvent[] = [];
    for await (const event of readNdjson<ExecEvent>(stream)) events.push(event);
    expect(events.filter((e) => e.type === "stdout").map((e) => (e as { data: string }).data).join("")).toBe("1\n2\n3\n");
    expect(events.at(-1)).toMatchObject({ type: "exit", exitCode: 0 });
  });

  it("moves a multi-MiB binary body both ways as streams", async () => {
    const box = sandgate.sandbox("rpc-exec");
    const size = 6 * 1024 * 1024;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) return controller.close();
        const chunk = new Uint8Array(Math.min(256 * 1024, size - sent)).map((_, i) => (sent + i) % 253);
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    // Workers RPC only carries byte streams of known type; a fixed-length stream keeps it byte-oriented.
    const info = await box.writeFile({ path: "big/data.bin", body: body.pipeThrough(new FixedLengthStream(size)) });
    expect(info).toMatchObject({ size, path: "/workspace/big/data.bin" });
    const file = await box.readFile({ path: "big/data.bin" });
    expect(file.size).toBe(size);
    const back = new Uint8Array(await new Response(file.body).arrayBuffer());
    expect(back.length).toBe(size);
    let mismatches = 0;
    for (let i = 0; i < size; i += 4093) if (back[i] !== i % 253) mismatches++;
    expect(mismatches).toBe(0);
    expect((await box.exec({ command: "wc -c < big/data.bin" })).stdout.trim()).toBe(String(size));
  });

  it("starts a background process and follows its log as NDJSON, resuming from an offset", async () => {
    const box = sandgate.sandbox("rpc-exec");
    const started = await box.startProcess({ command: "for i in $(seq 1 30); do echo tick $i; sleep 0.01; done; echo done >&2", name: "ticker" });
    expect(started).toMatchObject({ sandboxId: "rpc-exec", name: "ticker", status: "running" });
    // Read the first events, drop the stream, and come back from the last offset.
    const first: ProcessLogEvent[] = [];
    const reader = (await box.streamProcessLogs({ processId: started.id })).getReader();
    let buffered = "";
    const decoder = new TextDecoder();
    while (first.length < 3) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0 && first.length < 3) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim()) first.push(JSON.parse(line) as ProcessLogEvent);
      }
    }
    await reader.cancel();
    const last = first.at(-1) as { nextOffset: number };
    const rest: ProcessLogEvent[] = [];
    for await (const event of readNdjson<ProcessLogEvent>(await box.streamProcessLogs({ processId: started.id, offset: last.nextOffset }))) rest.push(event);
    const all = [...first, ...rest];
    const text = (type: string) =>
      all
        .filter((e) => e.type === type)
        .map((e) => (e as { data: string }).data)
        .join("");
    expect(text("stdout")).toBe(Array.from({ length: 30 }, (_, i) => `tick ${i + 1}\n`).join(""));
    expect(text("stderr")).toBe("done\n");
    expect(all.at(-1)).toMatchObject({ type: "exit", status: "exited", exitCode: 0 });
    expect((await box.getProcess({ processId: started.id })).status).toBe("exited");
    expect((await box.listProcesses()).processes.map((p) => p.id)).toContain(started.id);
  });

  it("carries error codes across RPC", async () => {
    expect(await codeOf(sandgate.getSandbox({ id: "nope" }))).toBe("not_found");
    expect(await codeOf(sandgate.createSandbox({ id: "BAD ID" }))).toBe("invalid_request");
    expect(await codeOf(sandgate.createSandbox({ id: "rpc-exec" }))).toBe("conflict");
    expect(await codeOf(sandgate.sandbox("rpc-exec").readFile({ path: "/etc/passwd" }))).toBe("forbidden");
  });
});
