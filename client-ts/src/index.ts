/**
 * @sandgate/client: a typed client for Sandgate's REST API, generated from its OpenAPI document
 * (`schema.d.ts`, by openapi-typescript) with openapi-fetch underneath and a few ergonomic methods on top.
 */
export { createSandgateClient } from "./client.js";
export type {
  CallOptions,
  CreateSandboxRequest,
  Encoding,
  ExecCommand,
  ExecErrorEvent,
  ExecEvent,
  ExecExitEvent,
  ExecOptions,
  ExecRequest,
  ExecResult,
  ExecStderrEvent,
  ExecStdoutEvent,
  FetchLike,
  FileBody,
  FileContent,
  FileInfo,
  FileList,
  FileType,
  Health,
  ListSandboxesQuery,
  ReadOptions,
  Sandbox,
  SandboxFiles,
  SandboxInfo,
  SandboxList,
  SandboxStatus,
  SandboxesApi,
  SandgateClient,
  SandgateClientOptions,
  UpdateSandboxRequest,
} from "./client.js";
export { SandgateError, type ErrorCode } from "./errors.js";
export { parseServerSentEvents, type ServerSentEvent } from "./sse.js";
export type { components, operations, paths } from "./schema.js";
// The Cap'n Web session helper is a separate entry point, `@sandgate/client/rpc`, so only its users load capnweb.
