import { z } from "@hono/zod-openapi";
import { NO_NUL, SandboxIdParams, Timestamp, WELL_FORMED, wellFormed } from "./common.ts";
import { EXACTLY_ONE_OF_COMMAND_OR_ARGV, ExecBody } from "./exec.ts";

/** A process id: chosen by the service (`p-` and random characters) or by the caller (`name`-independent). */
export const ProcessId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "letters, digits, '_', '.', '-', 1 to 64 characters")
  .openapi({ description: "Process id, unique within its sandbox.", example: "p-3k2j9x7w" });

export const ProcessParams = SandboxIdParams.extend({
  processId: ProcessId.openapi({ param: { name: "processId", in: "path" } }),
});

/** What a background process starts with: the exec request without timeout and stdin, plus a name. */
export const StartProcessBody = z
  .object({
    command: ExecBody.shape.command,
    argv: ExecBody.shape.argv,
    cwd: ExecBody.shape.cwd,
    env: ExecBody.shape.env,
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(NO_NUL, "name may not contain NUL")
      .refine(wellFormed, `name ${WELL_FORMED}`)
      .optional()
      .openapi({ description: "A label for people; not unique.", example: "web-server" }),
  })
  .strict()
  .refine((v) => (v.command === undefined) !== (v.argv === undefined), "give exactly one of command or argv")
  .openapi("StartProcessRequest", {
    ...EXACTLY_ONE_OF_COMMAND_OR_ARGV,
    example: { command: "python3 -m http.server 8080", name: "web" },
  });
export type StartProcessBody = z.infer<typeof StartProcessBody>;

export const ProcessStatus = z.enum(["running", "exited", "killed", "lost"]).openapi("ProcessStatus", {
  description:
    "`running`; `exited`: ended by itself (see exitCode); `killed`: ended by a kill request or its sandbox's deletion; `lost`: the host restarted while it ran, so how it ended is unknown.",
});
export type ProcessStatus = z.infer<typeof ProcessStatus>;

export const ProcessInfo = z
  .object({
    id: ProcessId,
    sandboxId: z.string(),
    name: z.string().nullable(),
    argv: z.array(z.string()).openapi({ description: "What runs: `/bin/sh -c <command>` for a command line." }),
    cwd: z.string(),
    status: ProcessStatus,
    exitCode: z.number().int().nullable().openapi({ description: "Once ended: the exit status, 128 + signal number when a signal ended it." }),
    startedAt: Timestamp,
    endedAt: Timestamp.nullable(),
  })
  .openapi("ProcessInfo");
export type ProcessInfo = z.infer<typeof ProcessInfo>;

export const ProcessList = z.object({ processes: z.array(ProcessInfo) }).openapi("ProcessList");

const Offset = z.coerce
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .openapi({ description: "Byte offset in the process's output log (stdout and stderr interleaved, as UTF-8) to start from: a `nextOffset` from before." });

export const ProcessLogsQuery = z.object({
  offset: Offset.optional().openapi({ description: "Start here; without it, the tail that fits in `limitBytes`. An offset past the end of the log (one this log never gave out) answers 400 `invalid_request` with `details.nextOffset`." }),
  limitBytes: z.coerce
    .number()
    .int()
    .min(1)
    .max(16 * 1024 * 1024)
    .optional()
    .openapi({ description: "At most this many bytes of output (default 1 MiB)." }),
});

export const StreamProcessLogsQuery = z.object({
  offset: Offset.optional().openapi({ description: "Replay from here, then follow; 0 (the default) replays everything still kept. An offset past the end of the log answers 400 `invalid_request` with `details.nextOffset`." }),
});

export const LogChunk = z
  .object({
    stream: z.enum(["stdout", "stderr"]),
    data: z.string(),
    offset: z.number().int().openapi({ description: "Where `data` starts in the log; the next chunk starts at offset + its UTF-8 length." }),
  })
  .openapi("LogChunk");
export type LogChunk = z.infer<typeof LogChunk>;

export const ProcessLogs = z
  .object({
    processId: ProcessId,
    status: ProcessStatus,
    chunks: z.array(LogChunk),
    stdout: z.string().openapi({ description: "The stdout chunks joined." }),
    stderr: z.string().openapi({ description: "The stderr chunks joined." }),
    firstOffset: z.number().int().openapi({ description: "The oldest offset still kept; older output was dropped past the log limit." }),
    nextOffset: z.number().int().openapi({ description: "Pass as `offset` to continue after these chunks." }),
  })
  .openapi("ProcessLogs");
export type ProcessLogs = z.infer<typeof ProcessLogs>;

/** The events of a followed log, in order; `exit` is last when the process ends. */
export const ProcessLogEvent = z
  .discriminatedUnion("type", [
    z
      .object({ type: z.literal("stdout"), data: z.string(), offset: z.number().int(), nextOffset: z.number().int() })
      .openapi("ProcessStdoutEvent", { description: "Output; reconnect with `offset=nextOffset` to continue after it." }),
    z.object({ type: z.literal("stderr"), data: z.string(), offset: z.number().int(), nextOffset: z.number().int() }).openapi("ProcessStderrEvent"),
    z
      .object({ type: z.literal("gap"), offset: z.number().int(), nextOffset: z.number().int() })
      .openapi("ProcessLogGapEvent", { description: "Output from `offset` to `nextOffset` was dropped past the log limit before it could be sent." }),
    z
      .object({ type: z.literal("exit"), status: ProcessStatus, exitCode: z.number().int().nullable(), nextOffset: z.number().int() })
      .openapi("ProcessExitEvent", { description: "The process ended and every byte of its output was sent; always last." }),
    z.object({ type: z.literal("error"), code: z.string(), message: z.string() }).openapi("ProcessLogErrorEvent"),
  ])
  .openapi("ProcessLogEvent", { description: "One server-sent event of `streamProcessLogs`; the SSE event name equals `type`." });
export type ProcessLogEvent = z.infer<typeof ProcessLogEvent>;

const Signal = z.enum(["TERM", "KILL", "INT", "HUP", "QUIT", "USR1", "USR2"]).openapi("Signal");
export type Signal = z.infer<typeof Signal>;

export const KillProcessQuery = z.object({
  signal: Signal.optional().openapi({ description: "Sent to the process and all its descendants (default TERM)." }),
});

const WaitTimeout = z
  .number()
  .int()
  .min(1)
  .max(10 * 60 * 1000)
  .optional()
  .openapi({ description: "Give up after this many milliseconds with a `timeout` error (default 30000).", example: 30000 });

export const Port = z.number().int().min(1).max(65535).openapi({ example: 8080 });

export const WaitForPortBody = z
  .object({
    port: Port,
    timeoutMs: WaitTimeout,
    path: z
      .string()
      .max(2048)
      .regex(/^\/[\x21-\x7e]*$/, "an absolute path of printable ASCII")
      .optional()
      .openapi({ description: "Also wait until GET on this path answers `status` (default: any TCP accept is enough).", example: "/health" }),
    status: z.number().int().min(100).max(599).optional().openapi({ description: "The HTTP status `path` must answer (default: any 2xx or 3xx)." }),
  })
  .strict()
  .openapi("WaitForPortRequest");
export type WaitForPortBody = z.infer<typeof WaitForPortBody>;

export const WaitForLogBody = z
  .object({
    pattern: z
      .string()
      .min(1)
      .max(4096)
      .openapi({
        description: "A JavaScript regular expression matched against each line of output. One that does not compile answers 400 `invalid_request`.",
        example: "listening on",
        format: "regex",
      }),
    stream: z.enum(["stdout", "stderr", "both"]).optional().openapi({ description: "Which output to search (default both)." }),
    timeoutMs: WaitTimeout,
  })
  .strict()
  .openapi("WaitForLogRequest");
export type WaitForLogBody = z.infer<typeof WaitForLogBody>;

export const WaitResult = z
  .object({
    process: ProcessInfo,
    elapsedMs: z.number(),
    line: z.string().optional().openapi({ description: "wait-for-log: the matching line." }),
    offset: z.number().int().optional().openapi({ description: "wait-for-log: where the matching line starts in the log." }),
  })
  .openapi("WaitResult");
export type WaitResult = z.infer<typeof WaitResult>;
