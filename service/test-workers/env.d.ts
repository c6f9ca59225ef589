declare namespace Cloudflare {
  interface Env {
    TEST_HOST_URL: string;
    CONSUMER: Fetcher;
    /** The SDK stand-in's Durable Object namespace (sdk-stand-in.ts), in place of the Sandbox binding. */
    SDK_STAND_IN: DurableObjectNamespace;
  }
}

/** Vite's raw imports: a file's text (fixtures the tests write into sandboxes). */
declare module "*?raw" {
  const text: string;
  export default text;
}
