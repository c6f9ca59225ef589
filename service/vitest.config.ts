import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Every file starts its own real host; two at a time fits a 2-core machine.
    maxWorkers: 2,
    // Removes the temp dirs each file made (/tmp/sandgate-test-*), after its own hooks.
    setupFiles: ["./test/cleanup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
