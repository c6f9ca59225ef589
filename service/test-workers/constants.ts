/** Tokens shared by the Worker tests' configuration (Node side) and the tests (workerd side). */
export const WORKER_TOKEN = "workers-test-api-token";
export const HOST_TOKEN = "workers-test-host-token";
