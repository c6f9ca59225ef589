/**
 * Starts a real Node host (local runtime, bubblewrap) for the Worker tests: the Worker's
 * RemoteBackend and the CloudflareBackend's SDK stand-in both reach it over real HTTP.
 * Also bundles the example consumer Worker for use as an auxiliary Worker.
 */
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { removeTempDirs, startHost } from "../test/host.ts";

import { HOST_TOKEN } from "./constants.ts";

declare module "vitest" {
  interface ProvidedContext {
    hostUrl: string;
    consumerDir: string;
    standInDir: string;
  }
}

export default async function setup(project: TestProject) {
  const host = await startHost({ token: HOST_TOKEN });
  const consumerDir = mkdtempSync(join(tmpdir(), "sandgate-consumer-"));
  await build({
    entryPoints: [join(import.meta.dirname, "..", "..", "examples", "consumer-worker", "src", "index.ts")],
    bundle: true,
    format: "esm",
    external: ["cloudflare:*"],
    outfile: join(consumerDir, "index.js"),
    logLevel: "warning",
  });
  // The SDK stand-in runs as its own Worker, so calls to it are real Durable Object RPC.
  const standInDir = mkdtempSync(join(tmpdir(), "sandgate-sdk-stand-in-"));
  await build({
    entryPoints: [join(import.meta.dirname, "sdk-stand-in.ts")],
    bundle: true,
    format: "esm",
    external: ["cloudflare:*"],
    outfile: join(standInDir, "index.js"),
    logLevel: "warning",
  });
  project.provide("hostUrl", host.url);
  project.provide("standInDir", standInDir);
  project.provide("consumerDir", consumerDir);
  return async () => {
    await host.stop();
    // The host's data directory (and its sandboxes' disks) and the bundles go with the run.
    removeTempDirs();
    for (const dir of [consumerDir, standInDir]) rmSync(dir, { recursive: true, force: true });
  };
}
