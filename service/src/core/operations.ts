import type { z } from "@hono/zod-openapi";
import type { ErrorCode } from "../schemas/common.ts";
import { CreateTokenBody, type Scope, ScopedToken } from "../schemas/tokens.ts";
import { SandboxIdParams } from "../schemas/common.ts";
import { ExecBody, ExecEvent, ExecResult } from "../schemas/exec.ts";
import {
  DeleteFileQuery,
  FileContent,
  FileInfo,
  FileList,
  ListFilesQuery,
  MkdirBody,
  MoveFileBody,
  PathQuery,
  ReadFileJsonBody,
  WriteFileJsonBody,
} from "../schemas/files.ts";
import {
  CreateSandboxBody,
  HealthInfo,
  ListSandboxesQuery,
  SandboxInfo,
  SandboxList,
  UpdateSandboxBody,
} from "../schemas/sandboxes.ts";
import { GitCheckoutBody, GitCheckoutResult } from "../schemas/git.ts";
import { CreatePortLinkBody, PortLink } from "../schemas/ports.ts";
import {
  KillProcessQuery,
  ProcessInfo,
  ProcessList,
  ProcessLogEvent,
  ProcessLogs,
  ProcessLogsQuery,
  ProcessParams,
  StartProcessBody,
  StreamProcessLogsQuery,
  WaitForLogBody,
  WaitForPortBody,
  WaitResult,
} from "../schemas/processes.ts";
import {
  CreateSnapshotBody,
  ForkBody,
  ForkResult,
  ImportSnapshotQuery,
  ListSnapshotsQuery,
  RestoreBody,
  RestoreResult,
  Snapshot,
  SnapshotIdParams,
  SnapshotList,
  UpdateSnapshotBody,
} from "../schemas/snapshots.ts";
import { createSnapshot, deleteSnapshot, exportSnapshot, forkSandbox, getSnapshot, importSnapshot, listSnapshots, restoreSnapshot, updateSnapshot } from "./snapshots.ts";
import type { FileStream } from "./backend.ts";
import type { Principal } from "./auth.ts";
import type { SandgateCore } from "./core.ts";

/**
 * The operation table: every operation of Sandgate, declared once. Surfaces are generated from it
 * (REST routes and the OpenAPI document now; RPC methods later), so adding an operation means adding
 * a row here, its schemas and its core method, and never touching a surface.
 */

type ObjectSchema = z.ZodType<Record<string, unknown>>;
export type BodySpec = { kind: "json"; schema: z.ZodType } | { kind: "bytes"; description: string };
export type ResponseSpec =
  | { kind: "json"; status: 200 | 201; schema: z.ZodType }
  | { kind: "empty" }
  | { kind: "bytes"; description: string; contentType?: string; contentTypes?: readonly string[] }
  | { kind: "events"; schema: z.ZodType; description: string };

type Out<S> = S extends z.ZodType ? z.output<S> : unknown;
type BodyInput<B> = B extends { kind: "json"; schema: infer S } ? Out<S> : B extends { kind: "bytes" } ? { body: ReadableStream<Uint8Array> } : unknown;

/** What a handler receives: path params, query and body merged into one object, as RPC callers pass it. */
export type OperationInput<P, Q, B> = Out<P> & Out<Q> & BodyInput<B>;
export type OperationOutput<R> = R extends { kind: "json"; schema: infer S }
  ? Out<S>
  : R extends { kind: "empty" }
    ? void
    : R extends { kind: "bytes" }
      ? FileStream
      : R extends { kind: "events"; schema: infer S }
        ? AsyncIterable<Out<S>>
        : never;

export interface OperationContext {
  /** Aborted when the caller goes away; long operations stop and clean up. */
  signal: AbortSignal;
  /** The declared length of a raw body, when the transport knows it. */
  contentLength?: number;
  /** This service's origin as the caller reached it (`https://host`), when the transport knows it. */
  origin?: string;
  /** Who calls (default: the API token's holder); what a scoped token mints does not outlive it. */
  principal?: Principal;
  /** The request's Accept header, when the transport has one (an operation that answers several media types picks by it). */
  accept?: string;
}

/**
 * The groups the operations are listed under (the OpenAPI document's tags), in the document's order,
 * each with the description the document gives it. An operation can only name a group listed here.
 */
export const operationTags = {
  service: "Liveness and metadata.",
  sandboxes: "Create, find, extend and delete sandboxes.",
  exec: "Run commands, buffered or streamed.",
  files: "Read and write files under /workspace.",
  processes: "Background processes: start, list, follow their output, wait for ports and lines, kill.",
  ports: "Reach a sandbox's ports: the proxy at /v1/sandboxes/{id}/ports/{port}/... (HTTP and WebSocket) and signed links to it.",
  git: "Clone repositories into the workspace.",
  snapshots: "Save a sandbox's workspace, restore it, and move it between hosts as a tar archive.",
} as const;
export type OperationTag = keyof typeof operationTags;

export interface Operation<P = unknown, Q = unknown, B = unknown, R extends ResponseSpec = ResponseSpec> {
  operationId: string;
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI-style path, `{id}` for parameters. */
  path: string;
  summary: string;
  description?: string;
  tags: OperationTag[];
  /** Public operations need no token. */
  public?: boolean;
  /** The scope(s) a scoped token needs for this operation (on its sandbox); none: the API token only. */
  scope?: Scope | readonly Scope[];
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /** The error codes this operation can answer with, besides the ones every operation has. */
  errors: ErrorCode[];
  run(core: SandgateCore, input: OperationInput<P, Q, B>, ctx: OperationContext): Promise<OperationOutput<R>> | OperationOutput<R>;
}

function op<P extends ObjectSchema | undefined, Q extends ObjectSchema | undefined, B extends BodySpec | undefined, R extends ResponseSpec>(
  def: Operation<P, Q, B, R>,
): Operation<P, Q, B, R> {
  return def;
}

const json = <S extends z.ZodType>(schema: S) => ({ kind: "json" as const, schema });
const ok = <S extends z.ZodType>(schema: S, status: 200 | 201 = 200) => ({ kind: "json" as const, status, schema });
const sandboxErrors: ErrorCode[] = ["not_found", "sandbox_unavailable"];
const fileErrors: ErrorCode[] = [...sandboxErrors, "forbidden"];
const waitErrors: ErrorCode[] = [...sandboxErrors, "timeout", "conflict"];

export const operations = {
  health: op({
    operationId: "health",
    method: "get",
    path: "/health",
    summary: "Liveness, version and backend",
    tags: ["service"],
    public: true,
    response: ok(HealthInfo),
    errors: [],
    run: (core) => core.health(),
  }),

  createSandbox: op({
    operationId: "createSandbox",
    method: "post",
    path: "/v1/sandboxes",
    summary: "Create a sandbox",
    description:
      "Creates an isolated sandbox with an empty /workspace, or with a repository cloned into it (`git`: its errors are those of `gitCheckout`, and no sandbox is left). Creating an id that exists answers 409.",
    tags: ["sandboxes"],
    body: json(CreateSandboxBody),
    response: ok(SandboxInfo, 201),
    errors: ["conflict", "sandbox_unavailable", "not_found", "forbidden", "timeout", "upstream_unavailable"],
    run: (core, input) => core.createSandbox(input),
  }),

  listSandboxes: op({
    operationId: "listSandboxes",
    method: "get",
    path: "/v1/sandboxes",
    summary: "List sandboxes, optionally by label",
    tags: ["sandboxes"],
    query: ListSandboxesQuery,
    response: ok(SandboxList),
    errors: ["sandbox_unavailable"],
    run: (core, input) => core.listSandboxes(input),
  }),

  getSandbox: op({
    operationId: "getSandbox",
    scope: "sandbox:read",
    method: "get",
    path: "/v1/sandboxes/{id}",
    summary: "Get a sandbox",
    tags: ["sandboxes"],
    params: SandboxIdParams,
    response: ok(SandboxInfo),
    errors: ["not_found", "sandbox_unavailable"],
    run: (core, input) => core.getSandbox(input),
  }),

  updateSandbox: op({
    operationId: "updateSandbox",
    method: "patch",
    path: "/v1/sandboxes/{id}",
    summary: "Extend a sandbox's TTL or replace its labels",
    tags: ["sandboxes"],
    params: SandboxIdParams,
    body: json(UpdateSandboxBody),
    response: ok(SandboxInfo),
    errors: ["not_found", "sandbox_unavailable"],
    run: (core, input) => core.updateSandbox(input),
  }),

  createToken: op({
    operationId: "createToken",
    method: "post",
    path: "/v1/tokens",
    summary: "Mint a token scoped to one sandbox",
    description:
      "Answers a token that works only on `sandboxId`, for the given scopes, until it expires: hand it to code you trust less than the API token's holder. Needs the API token itself.",
    tags: ["sandboxes"],
    body: json(CreateTokenBody),
    response: ok(ScopedToken, 201),
    errors: ["not_found", "forbidden"],
    run: (core, input) => core.createToken(input),
  }),

  deleteSandbox: op({
    operationId: "deleteSandbox",
    method: "delete",
    path: "/v1/sandboxes/{id}",
    summary: "Delete a sandbox, its processes and its files",
    tags: ["sandboxes"],
    params: SandboxIdParams,
    response: { kind: "empty" },
    errors: ["not_found", "conflict", "sandbox_unavailable"],
    run: (core, input) => core.deleteSandbox(input),
  }),

  exec: op({
    operationId: "exec",
    scope: "exec",
    method: "post",
    path: "/v1/sandboxes/{id}/exec",
    summary: "Run a command and wait for it",
    description: "Runs `command` with /bin/sh or `argv` directly, and answers with its exit code and output once it ends. A timeout kills the whole process tree.",
    tags: ["exec"],
    params: SandboxIdParams,
    body: json(ExecBody),
    response: ok(ExecResult),
    errors: sandboxErrors,
    run: (core, input, ctx) => core.exec(input, ctx.signal),
  }),

  execStream: op({
    operationId: "execStream",
    scope: "exec",
    method: "post",
    path: "/v1/sandboxes/{id}/exec/stream",
    summary: "Run a command and stream its output",
    description:
      "Server-sent events `stdout`, `stderr`, then one `exit` or `error`; a comment line every 15 s keeps idle streams open. Closing the stream kills the command.",
    tags: ["exec"],
    params: SandboxIdParams,
    body: json(ExecBody),
    response: { kind: "events", schema: ExecEvent, description: "A stream of ExecEvent objects, each as the `data` of an SSE event named by its `type`." },
    errors: sandboxErrors,
    run: (core, input, ctx) => core.execStream(input, ctx.signal),
  }),

  readFile: op({
    operationId: "readFile",
    scope: "files:read",
    method: "get",
    path: "/v1/sandboxes/{id}/files/content",
    summary: "Download a file's bytes",
    tags: ["files"],
    params: SandboxIdParams,
    query: PathQuery,
    response: { kind: "bytes", description: "The file's bytes, streamed, with the Content-Type its extension gives (application/octet-stream when none fits)." },
    errors: fileErrors,
    run: (core, input) => core.readFile(input),
  }),

  writeFile: op({
    operationId: "writeFile",
    scope: "files:write",
    method: "put",
    path: "/v1/sandboxes/{id}/files/content",
    summary: "Upload a file's bytes",
    description: "Streams the body to a temporary file and renames it into place, so readers never see half a file. Missing parent directories are created.",
    tags: ["files"],
    params: SandboxIdParams,
    query: PathQuery,
    body: { kind: "bytes", description: "The file's bytes." },
    response: ok(FileInfo),
    errors: [...fileErrors, "payload_too_large"],
    run: (core, input, ctx) => core.writeFile(input, ctx.contentLength),
  }),

  readFileJson: op({
    operationId: "readFileJson",
    scope: "files:read",
    method: "post",
    path: "/v1/sandboxes/{id}/files/read",
    summary: "Read a file as JSON (text or base64)",
    tags: ["files"],
    params: SandboxIdParams,
    body: json(ReadFileJsonBody),
    response: ok(FileContent),
    errors: [...fileErrors, "payload_too_large"],
    run: (core, input) => core.readFileJson(input),
  }),

  writeFileJson: op({
    operationId: "writeFileJson",
    scope: "files:write",
    method: "post",
    path: "/v1/sandboxes/{id}/files/write",
    summary: "Write a file from JSON (text or base64)",
    tags: ["files"],
    params: SandboxIdParams,
    body: json(WriteFileJsonBody),
    response: ok(FileInfo),
    errors: [...fileErrors, "payload_too_large"],
    run: (core, input) => core.writeFileJson(input),
  }),

  listFiles: op({
    operationId: "listFiles",
    scope: "files:read",
    method: "get",
    path: "/v1/sandboxes/{id}/files",
    summary: "List a directory",
    tags: ["files"],
    params: SandboxIdParams,
    query: ListFilesQuery,
    response: ok(FileList),
    errors: fileErrors,
    run: (core, input) => core.listFiles(input),
  }),

  statFile: op({
    operationId: "statFile",
    scope: "files:read",
    method: "get",
    path: "/v1/sandboxes/{id}/files/stat",
    summary: "Describe one file or directory",
    tags: ["files"],
    params: SandboxIdParams,
    query: PathQuery,
    response: ok(FileInfo),
    errors: fileErrors,
    run: (core, input) => core.statFile(input),
  }),

  mkdir: op({
    operationId: "mkdir",
    scope: "files:write",
    method: "post",
    path: "/v1/sandboxes/{id}/files/mkdir",
    summary: "Create a directory",
    tags: ["files"],
    params: SandboxIdParams,
    body: json(MkdirBody),
    response: ok(FileInfo, 201),
    errors: [...fileErrors, "conflict"],
    run: (core, input) => core.mkdir(input),
  }),

  moveFile: op({
    operationId: "moveFile",
    scope: "files:write",
    method: "post",
    path: "/v1/sandboxes/{id}/files/move",
    summary: "Move or rename a file or directory",
    tags: ["files"],
    params: SandboxIdParams,
    body: json(MoveFileBody),
    response: ok(FileInfo),
    errors: [...fileErrors, "conflict"],
    run: (core, input) => core.moveFile(input),
  }),

  deleteFile: op({
    operationId: "deleteFile",
    scope: "files:write",
    method: "delete",
    path: "/v1/sandboxes/{id}/files",
    summary: "Delete a file or directory",
    tags: ["files"],
    params: SandboxIdParams,
    query: DeleteFileQuery,
    response: { kind: "empty" },
    errors: [...fileErrors, "conflict"],
    run: (core, input) => core.deleteFile(input),
  }),

  startProcess: op({
    operationId: "startProcess",
    scope: "exec",
    method: "post",
    path: "/v1/sandboxes/{id}/processes",
    summary: "Start a background process",
    description:
      "Starts `command` (with /bin/sh) or `argv` and answers at once. It keeps running when the caller goes away, until it ends, is killed or its sandbox is deleted; its output is kept for `getProcessLogs` and `streamProcessLogs`.",
    tags: ["processes"],
    params: SandboxIdParams,
    body: json(StartProcessBody),
    response: ok(ProcessInfo, 201),
    errors: [...sandboxErrors, "conflict"],
    run: (core, input) => core.startProcess(input),
  }),

  listProcesses: op({
    operationId: "listProcesses",
    scope: "exec",
    method: "get",
    path: "/v1/sandboxes/{id}/processes",
    summary: "List a sandbox's background processes, running and ended",
    tags: ["processes"],
    params: SandboxIdParams,
    response: ok(ProcessList),
    errors: sandboxErrors,
    run: (core, input) => core.listProcesses(input),
  }),

  getProcess: op({
    operationId: "getProcess",
    scope: "exec",
    method: "get",
    path: "/v1/sandboxes/{id}/processes/{processId}",
    summary: "Get a background process",
    tags: ["processes"],
    params: ProcessParams,
    response: ok(ProcessInfo),
    errors: sandboxErrors,
    run: (core, input) => core.getProcess(input),
  }),

  getProcessLogs: op({
    operationId: "getProcessLogs",
    scope: "exec",
    method: "get",
    path: "/v1/sandboxes/{id}/processes/{processId}/logs",
    summary: "Read a process's output",
    description:
      "Output so far, stdout and stderr interleaved as they came: the tail within `limitBytes`, or from `offset` on. Continue from `nextOffset`; to follow, use `streamProcessLogs`.",
    tags: ["processes"],
    params: ProcessParams,
    query: ProcessLogsQuery,
    response: ok(ProcessLogs),
    errors: sandboxErrors,
    run: (core, input) => core.getProcessLogs(input),
  }),

  streamProcessLogs: op({
    operationId: "streamProcessLogs",
    scope: "exec",
    method: "get",
    path: "/v1/sandboxes/{id}/processes/{processId}/logs/stream",
    summary: "Follow a process's output",
    description:
      "Server-sent events: the output from `offset` (default 0), then new output as it comes, then `exit` once the process has ended. Closing the stream does not stop the process; reconnect with `offset` set to the last event's `nextOffset` to miss nothing.",
    tags: ["processes"],
    params: ProcessParams,
    query: StreamProcessLogsQuery,
    response: { kind: "events", schema: ProcessLogEvent, description: "A stream of ProcessLogEvent objects, each as the `data` of an SSE event named by its `type`." },
    errors: sandboxErrors,
    run: (core, input, ctx) => core.streamProcessLogs(input, ctx.signal),
  }),

  killProcess: op({
    operationId: "killProcess",
    scope: "exec",
    method: "delete",
    path: "/v1/sandboxes/{id}/processes/{processId}",
    summary: "Signal a process and all its descendants",
    description: "Sends `signal` (default TERM) to the process and every process it started, and answers once they ended (KILL), or after a short grace for a signal they may catch.",
    tags: ["processes"],
    params: ProcessParams,
    query: KillProcessQuery,
    response: ok(ProcessInfo),
    errors: sandboxErrors,
    run: (core, input) => core.killProcess(input),
  }),

  waitForPort: op({
    operationId: "waitForPort",
    scope: "exec",
    method: "post",
    path: "/v1/sandboxes/{id}/processes/{processId}/wait-for-port",
    summary: "Wait until a process's port accepts connections",
    description: "Answers once `port` accepts a connection (and, with `path`, answers that GET with `status`); `timeout` past `timeoutMs`, `conflict` when the process ends first.",
    tags: ["processes"],
    params: ProcessParams,
    body: json(WaitForPortBody),
    response: ok(WaitResult),
    errors: waitErrors,
    run: (core, input, ctx) => core.waitForPort(input, ctx.signal),
  }),

  waitForLog: op({
    operationId: "waitForLog",
    scope: "exec",
    method: "post",
    path: "/v1/sandboxes/{id}/processes/{processId}/wait-for-log",
    summary: "Wait until a process prints a matching line",
    description: "Searches the output from the start, then follows it, for a line matching `pattern`; `timeout` past `timeoutMs`, `conflict` when the process ends without one.",
    tags: ["processes"],
    params: ProcessParams,
    body: json(WaitForLogBody),
    response: ok(WaitResult),
    errors: waitErrors,
    run: (core, input, ctx) => core.waitForLog(input, ctx.signal),
  }),

  createPortLink: op({
    operationId: "createPortLink",
    scope: "ports",
    method: "post",
    path: "/v1/sandboxes/{id}/port-links",
    summary: "Mint a signed link to a port",
    description:
      "Answers a link to `/v1/sandboxes/{id}/ports/{port}/` that works without a token until it expires (HMAC over the sandbox's instance, port and expiry): open it in a browser. The proxy then sets a cookie for that port's path. A link minted with a scoped token expires no later than that token, and no link outlives its sandbox: one re-created under the same id does not honour it.",
    tags: ["ports"],
    params: SandboxIdParams,
    body: json(CreatePortLinkBody),
    response: ok(PortLink, 201),
    errors: sandboxErrors,
    run: (core, input, ctx) => core.createPortLink(input, ctx.origin, ctx.principal),
  }),

  gitCheckout: op({
    operationId: "gitCheckout",
    scope: "files:write",
    method: "post",
    path: "/v1/sandboxes/{id}/git/checkout",
    summary: "Clone a git repository into the workspace",
    description:
      "Runs git in the sandbox (its network, its files). Errors: `not_found` for a missing repository or branch, `forbidden` when authentication fails, `conflict` when `dir` is not empty, `upstream_unavailable` when the remote cannot be reached.",
    tags: ["git"],
    params: SandboxIdParams,
    body: json(GitCheckoutBody),
    response: ok(GitCheckoutResult, 201),
    errors: [...fileErrors, "conflict", "timeout", "upstream_unavailable"],
    run: (core, input, ctx) => core.gitCheckout(input, ctx.signal),
  }),

  ...snapshotOperations(),
};

/** Snapshots (core/snapshots.ts): saved workspaces that outlive their sandbox; archives are tar. */
function snapshotOperations() {
  const snapshotErrors: ErrorCode[] = ["not_found", "not_implemented", "sandbox_unavailable"];
  return {
    createSnapshot: op({
      operationId: "createSnapshot",
      scope: "snapshots:write",
      method: "post",
      path: "/v1/sandboxes/{id}/snapshots",
      summary: "Snapshot a sandbox's workspace",
      description:
        "Saves /workspace (regular files, directories, symlinks as links, modes and mtimes; not processes or memory) as a consistent cut: a file written while it is taken is read again until it holds still. Content already stored is not stored again (`storedBytes`). The snapshot outlives its sandbox.",
      tags: ["snapshots"],
      params: SandboxIdParams,
      body: json(CreateSnapshotBody),
      response: ok(Snapshot, 201),
      errors: [...snapshotErrors, "conflict", "payload_too_large"],
      run: (core, input, ctx) => createSnapshot(core, input, ctx.signal),
    }),

    listSnapshots: op({
      operationId: "listSnapshots",
      method: "get",
      path: "/v1/snapshots",
      summary: "List snapshots, by sandbox or label",
      tags: ["snapshots"],
      query: ListSnapshotsQuery,
      response: ok(SnapshotList),
      errors: ["not_implemented"],
      run: (core, input) => listSnapshots(core, input),
    }),

    getSnapshot: op({
      operationId: "getSnapshot",
      method: "get",
      path: "/v1/snapshots/{snapshotId}",
      summary: "Get a snapshot",
      tags: ["snapshots"],
      params: SnapshotIdParams,
      response: ok(Snapshot),
      errors: ["not_found", "not_implemented"],
      run: (core, input) => getSnapshot(core, input),
    }),

    updateSnapshot: op({
      operationId: "updateSnapshot",
      method: "patch",
      path: "/v1/snapshots/{snapshotId}",
      summary: "Relabel a snapshot or change when it expires",
      tags: ["snapshots"],
      params: SnapshotIdParams,
      body: json(UpdateSnapshotBody),
      response: ok(Snapshot),
      errors: ["not_found", "not_implemented"],
      run: (core, input) => updateSnapshot(core, input),
    }),

    deleteSnapshot: op({
      operationId: "deleteSnapshot",
      method: "delete",
      path: "/v1/snapshots/{snapshotId}",
      summary: "Delete a snapshot",
      description: "Frees the stored content no other snapshot uses.",
      tags: ["snapshots"],
      params: SnapshotIdParams,
      response: { kind: "empty" },
      errors: ["not_found", "not_implemented"],
      run: (core, input) => deleteSnapshot(core, input),
    }),

    restoreSnapshot: op({
      operationId: "restoreSnapshot",
      scope: ["snapshots:write", "files:write"],
      method: "post",
      path: "/v1/sandboxes/{id}/restore",
      summary: "Replace a sandbox's workspace with a snapshot",
      description:
        "Atomic: a command or reader sees the old tree or the new one, never a mix. The sandbox's environment starts afresh, so commands running in it end; while background processes run it answers 409 unless `killProcesses` is true.",
      tags: ["snapshots"],
      params: SandboxIdParams,
      body: json(RestoreBody),
      response: ok(RestoreResult),
      errors: [...snapshotErrors, "conflict", "payload_too_large"],
      run: (core, input, ctx) => restoreSnapshot(core, input, ctx.principal),
    }),

    forkSandbox: op({
      operationId: "forkSandbox",
      method: "post",
      path: "/v1/sandboxes/{id}/fork",
      summary: "Copy a sandbox into 1 to 100 new ones",
      description:
        "Takes one snapshot of the sandbox's workspace (a consistent cut), then creates `count` sandboxes from it, each with that workspace and its own id, environment and processes (none run at first). All or nothing: if one cannot be made, none is left. The snapshot is deleted afterwards unless `keepSnapshot` (then it is answered as `snapshot`).",
      tags: ["snapshots"],
      params: SandboxIdParams,
      body: json(ForkBody),
      response: ok(ForkResult, 201),
      errors: [...snapshotErrors, "conflict", "payload_too_large"],
      run: (core, input, ctx) => forkSandbox(core, input, ctx.signal),
    }),

    exportSnapshot: op({
      operationId: "exportSnapshot",
      method: "get",
      path: "/v1/snapshots/{snapshotId}/archive",
      summary: "Download a snapshot as a tar archive",
      description:
        "A streamed tar of the workspace (paths relative to it): the portable format, which `importSnapshot` takes on any backend. Plain tar (`application/x-tar`) unless the request's `Accept` asks for `application/zstd` or `application/gzip` (q-values honoured; `application/x-tar` ranked higher wins): the archive is then compressed as it streams and the `Content-Type` says which. The local runtime makes both; the Cloudflare backend makes gzip only (asked for zstd alone, it answers plain tar). Compression is a media type, not a `Content-Encoding`: HTTP clients do not undo it.",
      tags: ["snapshots"],
      params: SnapshotIdParams,
      response: {
        kind: "bytes",
        description: "The tar archive, streamed: `application/x-tar`, or compressed (`application/zstd`, `application/gzip`) as `Accept` asked.",
        contentType: "application/x-tar",
        contentTypes: ["application/x-tar", "application/zstd", "application/gzip"],
      },
      errors: ["not_found", "not_implemented"],
      run: (core, input, ctx) => exportSnapshot(core, input, ctx.accept),
    }),

    importSnapshot: op({
      operationId: "importSnapshot",
      method: "post",
      path: "/v1/snapshots",
      summary: "Make a snapshot from a tar archive",
      description:
        "The body is a tar (streamed), plain or compressed with gzip or zstd (recognised from its first bytes, whatever the Content-Type says). Regular files, directories, symlinks and hard links within the tree are taken; absolute or `..` names, links that lead out of the tree, devices and FIFOs are refused (400), as is a truncated or corrupt archive, and nothing of a refused archive is kept.",
      tags: ["snapshots"],
      query: ImportSnapshotQuery,
      body: { kind: "bytes", description: "A tar archive: plain, gzip or zstd." },
      response: ok(Snapshot, 201),
      errors: ["not_implemented", "payload_too_large"],
      run: (core, input, ctx) => importSnapshot(core, input, ctx.contentLength),
    }),
  };
}

export type Operations = typeof operations;
/** Any row of the table, for code that handles every operation alike (the surfaces). */
export type AnyOperation = Operation<unknown, unknown, unknown, ResponseSpec>;
export type OperationId = keyof Operations;
