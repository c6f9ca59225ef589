import { join } from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

import { HOST_TOKEN, WORKER_TOKEN } from "./test-workers/constants.ts";

/** Tests inside real workerd: the Worker from ../wrangler.jsonc, with the example consumer beside it. */
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => {
      const hostUrl = inject("hostUrl");
      const consumerDir = inject("consumerDir");
      const standInDir = inject("standInDir");
      return {
        wrangler: { configPath: "../wrangler.jsonc" },
        miniflare: {
          bindings: {
            SANDGATE_TOKEN: WORKER_TOKEN,
            SANDGATE_BACKEND: "remote",
            SANDGATE_REMOTE_URL: hostUrl,
            SANDGATE_REMOTE_TOKEN: HOST_TOKEN,
            TEST_HOST_URL: hostUrl,
            // The registry's alarm destroys through the SDK stand-in (there are no containers here).
            SANDGATE_SANDBOX_BINDING: "SDK_STAND_IN",
          },
          workers: [
            {
              name: "sandgate-consumer",
              modules: true,
              scriptPath: join(consumerDir, "index.js"),
              modulesRoot: consumerDir,
              compatibilityDate: "2026-08-15",
              compatibilityFlags: ["nodejs_compat"],
              // The Worker under test runs as the pool's runner, named after this project.
              serviceBindings: { SANDGATE: { name: "vitest-plugin-runner-workers", entrypoint: "SandgateService" } },
            },
            {
              name: "sdk-stand-in",
              modules: true,
              scriptPath: join(standInDir, "index.js"),
              modulesRoot: standInDir,
              compatibilityDate: "2026-08-15",
              compatibilityFlags: ["nodejs_compat"],
              bindings: { HOST_URL: hostUrl, HOST_TOKEN },
              durableObjects: { SANDBOX: "SandboxStandIn" },
            },
          ],
          serviceBindings: { CONSUMER: "sandgate-consumer" },
          // The SDK stand-in's Durable Object, reached over real RPC (test-workers/sdk-stand-in.ts).
          durableObjects: { SDK_STAND_IN: { className: "SandboxStandIn", scriptName: "sdk-stand-in" } },
        },
      };
    }),
  ],
  test: {
    name: "workers",
    include: ["test-workers/**/*.test.ts"],
    globalSetup: ["./test-workers/global-setup.ts"],
    testTimeout: 60_000,
  },
});
