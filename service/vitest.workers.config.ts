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
      return {
        wrangler: { configPath: "../wrangler.jsonc" },
        miniflare: {
          bindings: {
            SANDGATE_TOKEN: WORKER_TOKEN,
            SANDGATE_BACKEND: "remote",
            SANDGATE_REMOTE_URL: hostUrl,
            SANDGATE_REMOTE_TOKEN: HOST_TOKEN,
            TEST_HOST_URL: hostUrl,
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
          ],
          serviceBindings: { CONSUMER: "sandgate-consumer" },
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
