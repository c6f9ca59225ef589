import { z } from "@hono/zod-openapi";
import { ENV_LIMITS, EnvMap, MAX_ARGV_BYTES, MAX_ARG_BYTES, NO_NUL, ONE_ARGUMENT, WELL_FORMED, fitsOneArgument, utf8Length, wellFormed } from "./common.ts";

/**
 * JSON Schema for "exactly one of command or argv" on the object itself: not both, and argv when
 * there is no command. Not `oneOf`, which both client generators turn into an untyped body (Python)
 * or `& (unknown | unknown)` (TypeScript); they leave `not` and `if`/`else` alone, validators do not.
 */
export const EXACTLY_ONE_OF_COMMAND_OR_ARGV = { not: { required: ["command", "argv"] }, if: { required: ["command"] }, else: { required: ["argv"] } } as object;

export const ExecBody = z
  .object({
    command: z
      .string()
      .min(1)
      .max(MAX_ARG_BYTES)
      .regex(NO_NUL, "command may not contain NUL")
      .refine(wellFormed, `command ${WELL_FORMED}`)
      .refine(fitsOneArgument, `command must be ${ONE_ARGUMENT}: pass a longer script as stdin to \`sh -s\`, or in a file`)
      .optional()
      .openapi({
        description: `A shell command line, run by \`/bin/sh -c\`: ${ONE_ARGUMENT}. Pass a longer script as \`stdin\` to \`sh -s\`, or write it to a file.`,
        example: "echo hello && ls -la",
      }),
    argv: z
      .array(
        z
          .string()
          .max(MAX_ARG_BYTES)
          .regex(NO_NUL, "arguments may not contain NUL")
          .refine(wellFormed, `arguments ${WELL_FORMED}`)
          .refine(fitsOneArgument, `each argument must be ${ONE_ARGUMENT}`),
      )
      .min(1)
      .max(4096)
      .refine((argv) => argv.reduce((sum, arg) => sum + utf8Length(arg) + 1, 0) <= MAX_ARGV_BYTES, `arguments may take at most ${MAX_ARGV_BYTES} bytes in all (each in UTF-8, plus one)`)
      .optional()
      .openapi({
        description: `Program and arguments, run without a shell: each ${ONE_ARGUMENT}, and ${MAX_ARGV_BYTES} bytes in all (each argument in UTF-8 plus one byte).`,
        example: ["python3", "-c", "print(1)"],
      }),
    cwd: z
      .string()
      .min(1)
      .max(4096)
      .regex(NO_NUL, "cwd may not contain NUL")
      .refine(wellFormed, `cwd ${WELL_FORMED}`)
      .optional()
      .openapi({ description: "Working directory; relative paths are under /workspace (the default). One that does not exist, or is not a directory, answers 400 `invalid_request`." }),
    env: EnvMap.optional().openapi({ description: `Variables for this command, over the sandbox's own. ${ENV_LIMITS}` }),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600 * 1000)
      .optional()
      .openapi({ description: "Kill the whole process tree after this many milliseconds (default 60000).", example: 30000 }),
    stdin: z
      .string()
      .max(16 * 1024 * 1024)
      .refine(wellFormed, `stdin ${WELL_FORMED}`)
      .optional()
      .openapi({ description: "Written to the command's standard input, which is then closed." }),
  })
  .strict()
  .refine((v) => (v.command === undefined) !== (v.argv === undefined), "give exactly one of command or argv")
  .openapi("ExecRequest", {
    // The refinement above, in the document: one object type for the clients, exactly one of the two.
    ...EXACTLY_ONE_OF_COMMAND_OR_ARGV,
    example: { command: "echo hello && ls -la", timeoutMs: 30000 },
  });
export type ExecBody = z.infer<typeof ExecBody>;

export const ExecResult = z
  .object({
    exitCode: z.number().int().openapi({ description: "The exit status; 128 + signal number when killed by a signal (137 after a timeout)." }),
    stdout: z.string(),
    stderr: z.string(),
    durationMs: z.number(),
    timedOut: z.boolean(),
    truncated: z.boolean().openapi({ description: "True when stdout or stderr passed the output limit and was cut." }),
  })
  .openapi("ExecResult");
export type ExecResult = z.infer<typeof ExecResult>;

/** The events of a streaming exec, in the order they happen; `exit` or `error` is always last. */
export const ExecEvent = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("stdout"), data: z.string() }).openapi("ExecStdoutEvent", { description: "A chunk of standard output, decoded as UTF-8." }),
    z.object({ type: z.literal("stderr"), data: z.string() }).openapi("ExecStderrEvent", { description: "A chunk of standard error, decoded as UTF-8." }),
    z
      .object({
        type: z.literal("exit"),
        exitCode: z.number().int(),
        durationMs: z.number(),
        timedOut: z.boolean(),
      })
      .openapi("ExecExitEvent", { description: "The command ended; always the last event of a successful stream." }),
    z
      .object({
        type: z.literal("error"),
        code: z.string(),
        message: z.string(),
      })
      .openapi("ExecErrorEvent", { description: "The stream failed after it started; always the last event." }),
  ])
  .openapi("ExecEvent", {
    description: "One server-sent event of `execStream`; the SSE event name equals `type` and `data` holds this object as JSON.",
  });
export type ExecEvent = z.infer<typeof ExecEvent>;
