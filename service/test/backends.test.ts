import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LocalBackend } from "../src/backends/local/index.ts";
import { RemoteBackend } from "../src/backends/remote/index.ts";
import { afterAll, beforeAll } from "vitest";
import { backendContract } from "./backend-contract.ts";
import { type TestHost, startHost, tempDir } from "./host.ts";

const portApp = readFileSync(join(import.meta.dirname, "fixtures", "port-app.mjs"), "utf8");

backendContract("LocalBackend", {
  prefix: "local",
  portApp,
  open: () => LocalBackend.open({ dataDir: tempDir(), isolation: "bwrap" }),
});

let host: TestHost;
beforeAll(async () => {
  host = await startHost({ token: "remote-contract" });
});
afterAll(async () => {
  await host.stop();
});

backendContract("RemoteBackend (to a real Node host)", {
  prefix: "remote",
  portApp,
  open: async () => new RemoteBackend({ url: host.url, token: "remote-contract" }),
});
