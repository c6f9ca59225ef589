import { createSandgateClient } from "@sandgate/client";

const sg = createSandgateClient({ baseUrl: process.env.SANDGATE_URL ?? "http://127.0.0.1:8787", token: process.env.SANDGATE_TOKEN });
const sb = await sg.sandboxes.create({ ttlSeconds: 600, labels: { team: "docs" } });
const job = await sb.startProcess("for i in 1 2 3; do echo step $i; sleep 0.2; done");
for await (const event of job.follow()) { // resumes from the last offset if the connection drops
  if (event.type === "stdout") process.stdout.write(event.data);
  if (event.type === "exit") console.log("exit", event.exitCode);
}
await sb.files.write("site/index.html", "<h1>hi</h1>");
const web = await sb.startProcess(["python3", "-m", "http.server", "8080"], { cwd: "site" });
await web.waitForPort(8080);
const page = await sb.fetchPort(8080, "/"); // through the port proxy, with the client's token
console.log(page.status, await page.text());
const link = await sb.portLink(8080, { ttlSeconds: 600 }); // opens in a browser without a token
console.log(link.url.startsWith(sb.portUrl(8080)));
await sb.delete();
