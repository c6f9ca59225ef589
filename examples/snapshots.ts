import { createSandgateClient } from "@sandgate/client";

const sg = createSandgateClient({ baseUrl: process.env.SANDGATE_URL ?? "http://127.0.0.1:8787", token: process.env.SANDGATE_TOKEN });
const sb = await sg.sandboxes.create({ ttlSeconds: 600, labels: { team: "docs" } });
await sb.exec("mkdir -p app && echo v1 > app/version && echo noise > debug.log");
const saved = await sb.snapshot({ name: "known-good", excludes: ["*.log"] }); // outlives the sandbox
await sb.exec("rm -rf app && echo oops > broken"); // break the workspace
await sb.restore(saved.id); // back to the saved tree, atomically
console.log((await sb.exec("cat app/version; ls")).stdout.trim());
const { sandboxes } = await sb.fork(5, { labels: { team: "docs" } }); // 5 copies of one consistent cut
for (const [i, copy] of sandboxes.entries()) {
  process.stdout.write((await copy.exec(`echo copy ${i}: $(cat app/version)`)).stdout);
}
await Promise.all([sb, ...sandboxes].map((s) => s.delete()));
await sg.snapshots.delete(saved.id);
