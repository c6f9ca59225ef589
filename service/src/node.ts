/** `npm start`: runs the Node host (hosts/node) with the local runtime, until SIGINT or SIGTERM. */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type NodeHostConfig, USAGE, parseConfig } from "./hosts/node/config.ts";
import { type RunningHost, startNodeHost } from "./hosts/node/server.ts";

export { type NodeHostConfig, parseConfig } from "./hosts/node/config.ts";
export { type RunningHost, startNodeHost } from "./hosts/node/server.ts";

async function main(): Promise<void> {
  let config: NodeHostConfig;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  let host: RunningHost;
  try {
    host = await startNodeHost(config);
  } catch (err) {
    process.stderr.write(`sandgate: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const stop = () => {
    host.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
