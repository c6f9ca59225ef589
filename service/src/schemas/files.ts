import { z } from "@hono/zod-openapi";
import { QueryBoolean, SandboxPath, Timestamp, WELL_FORMED, base64WhenEncoded, validBase64Content, wellFormed } from "./common.ts";

export const FileType = z.enum(["file", "directory", "symlink", "other"]).openapi("FileType");

export const FileInfo = z
  .object({
    path: z.string().openapi({ description: "Absolute path in the sandbox.", example: "/workspace/hello.txt" }),
    name: z.string().openapi({ example: "hello.txt" }),
    type: FileType,
    size: z.number().int().openapi({ description: "Size in bytes." }),
    mode: z.number().int().openapi({ description: "Permission bits (e.g. 420 = 0o644).", example: 420 }),
    modifiedAt: Timestamp,
  })
  .openapi("FileInfo");
export type FileInfo = z.infer<typeof FileInfo>;

export const Encoding = z
  .enum(["utf-8", "base64"])
  .openapi("Encoding", { description: "How `content` is encoded in JSON: text as-is, or any bytes as base64." });
export type Encoding = z.infer<typeof Encoding>;

export const PathQuery = z.object({
  path: SandboxPath.openapi({ param: { name: "path", in: "query" } }),
});

export const ReadFileJsonBody = z
  .object({ path: SandboxPath, encoding: Encoding.default("utf-8") })
  .strict()
  .openapi("ReadFileRequest");

export const FileContent = z
  .object({
    path: z.string(),
    content: z.string(),
    encoding: Encoding,
    size: z.number().int().openapi({ description: "Size of the file in bytes." }),
  })
  .openapi("FileContent");
export type FileContent = z.infer<typeof FileContent>;

export const WriteFileJsonBody = z
  .object({
    path: SandboxPath,
    content: z
      .string()
      .refine(wellFormed, `content ${WELL_FORMED}`)
      .openapi({ description: "The file's bytes, as text or base64 per `encoding`." }),
    encoding: Encoding.default("utf-8"),
  })
  .strict()
  .refine(validBase64Content, { message: "content is not valid base64", path: ["content"] })
  .openapi("WriteFileRequest", base64WhenEncoded("content"));

export const ListFilesQuery = z.object({
  path: SandboxPath.default("/workspace").openapi({ param: { name: "path", in: "query" } }),
  recursive: QueryBoolean.optional().openapi({ param: { name: "recursive", in: "query" }, description: "Walk subdirectories too." }),
});

export const FileList = z
  .object({
    entries: z.array(FileInfo),
    truncated: z.boolean().openapi({ description: "True when the listing stopped at the entry limit." }),
  })
  .openapi("FileList");

export const MkdirBody = z
  .object({ path: SandboxPath, recursive: z.boolean().default(false).openapi({ description: "Create missing parents; no error when it exists." }) })
  .strict()
  .openapi("MkdirRequest");

export const MoveFileBody = z
  .object({
    from: SandboxPath,
    to: SandboxPath,
    overwrite: z.boolean().default(false).openapi({ description: "Replace an existing file at `to`." }),
  })
  .strict()
  .openapi("MoveFileRequest");

export const DeleteFileQuery = z.object({
  path: SandboxPath.openapi({ param: { name: "path", in: "query" } }),
  recursive: QueryBoolean.optional().openapi({ param: { name: "recursive", in: "query" }, description: "Delete a directory and everything in it." }),
});
