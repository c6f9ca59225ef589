/** The seed-001 wire format through the Worker (RemoteBackend to a real Node host), as a Python backend would call it. */
import { exports as workerExports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { WORKER_TOKEN } from "./constants.ts";

const exports = workerExports as unknown as { default: Fetcher };
const post = (path: string, body?: unknown) =>
  exports.default.fetch(`http://sandgate${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${WORKER_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

it("creates, execs, uploads, downloads and kills in the seed's format", async () => {
  const created = await post("/sandbox/create", { sandbox_id: "compat-worker", keepalive_seconds: 900, additional_configs: {} });
  expect(created.status).toBe(200);
  const info = (await created.json()) as Record<string, string>;
  expect(info).toMatchObject({ sandbox_id: "compat-worker", sandbox_status: "running" });
  expect(Date.parse(info.sandbox_expires_at!) - Date.parse(info.sandbox_created_at!)).toBe(900_000);

  const extended = (await (await post("/sandbox/compat-worker/update", { keepalive_longer_by_seconds: 100 })).json()) as Record<string, string>;
  expect(Date.parse(extended.sandbox_expires_at!) - Date.parse(info.sandbox_expires_at!)).toBe(100_000);

  expect(await (await post("/sandbox/compat-worker/exec", { command: "python3 --version" })).json()).toMatchObject({ exit_code: 0 });
  expect(await (await post("/sandbox/compat-worker/exec", { command: "echo hi" })).json()).toEqual({ stdout: "hi\n", stderr: "", exit_code: 0 });

  const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 13) % 256);
  const content = btoa(String.fromCharCode(...bytes));
  expect(await (await post("/sandbox/compat-worker/upload", { file_path: "/workspace/in/data.bin", content, encoding: "base64" })).json()).toEqual({ success: true });
  expect(await (await post("/sandbox/compat-worker/download", { file_path: "/workspace/in/data.bin", encoding: "base64" })).json()).toEqual({ content, encoding: "base64" });

  expect(await (await post("/sandbox/compat-worker/kill")).json()).toEqual({ success: true });
  const after = await exports.default.fetch("http://sandgate/sandbox/compat-worker", { headers: { authorization: `Bearer ${WORKER_TOKEN}` } });
  expect(after.status).toBe(404);
});
