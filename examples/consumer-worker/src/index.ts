/**
 * An example consumer: creates a sandbox, runs a command, writes and reads a file, all through the
 * `SANDGATE` service binding. `env.SANDGATE` is typed by `@sandgate/client/worker`, which a Worker
 * project installs with the client (no import from Sandgate's sources).
 */
import type { SandgateBinding } from "@sandgate/client/worker";

export interface Env {
  SANDGATE: SandgateBinding;
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    const id = url.searchParams.get("id") ?? `demo-${crypto.randomUUID().slice(0, 8)}`;
    await env.SANDGATE.createSandbox({ id, ttlSeconds: 600, labels: { from: "consumer" } });
    const box = env.SANDGATE.sandbox(id);
    const run = await box.exec({ command: "echo hello from $(pwd)" });
    await box.writeFile({ path: "greeting.txt", body: run.stdout });
    const file = await box.readFile({ path: "greeting.txt" });
    const text = await new Response(file.body).text();
    return Response.json({ id, exitCode: run.exitCode, stdout: run.stdout, file: text });
  },
} satisfies ExportedHandler<Env>;
