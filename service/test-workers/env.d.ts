declare namespace Cloudflare {
  interface Env {
    TEST_HOST_URL: string;
    CONSUMER: Fetcher;
  }
}

/** Vite's raw imports: a file's text (fixtures the tests write into sandboxes). */
declare module "*?raw" {
  const text: string;
  export default text;
}
