declare namespace Cloudflare {
  interface Env {
    TEST_HOST_URL: string;
    CONSUMER: Fetcher;
  }
}
