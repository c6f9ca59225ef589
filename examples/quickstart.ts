import { createSandgateClient } from "@sandgate/client";

const sg = createSandgateClient({ baseUrl: process.env.SANDGATE_URL ?? "http://127.0.0.1:8787", token: process.env.SANDGATE_TOKEN });
const sb = await sg.sandboxes.create({ ttlSeconds: 600, labels: { team: "docs" } });
await sb.files.write("hello.py", "import os; print('hello from', os.getcwd())");
const { exitCode, stdout } = await sb.exec(["python3", "hello.py"]);
console.log(exitCode, stdout.trim());
for await (const event of sb.execStream("for i in 1 2 3; do echo tick $i; done")) {
  if (event.type === "stdout") process.stdout.write(event.data);
}
await sb.delete();
