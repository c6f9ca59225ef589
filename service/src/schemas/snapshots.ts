import { z } from "@hono/zod-openapi";
import { EnvMap, LabelSelector, NO_NUL, SandboxId, Timestamp, WELL_FORMED, wellFormed } from "./common.ts";
import { Labels, NetworkMode, SandboxInfo, TtlSeconds } from "./sandboxes.ts";

/** Snapshot ids: `snap-` and 16 base32 characters when generated; the same alphabet as sandbox ids. */
export const SnapshotId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and '-', 1 to 63 characters, not starting with '-'")
  .openapi({ description: "Snapshot id.", example: "snap-4k2xq7w9m3p5r8ta" });

export const SnapshotIdParams = z.object({
  snapshotId: SnapshotId.openapi({ param: { name: "snapshotId", in: "path" } }),
});

/** Snapshots live at most a year unless kept without a TTL. */
const SnapshotTtl = z.number().int().min(1).max(365 * 24 * 3600);

/**
 * A glob relative to /workspace (`*`, `?`, `[...]` within one name). A pattern without `/` matches
 * that name at any depth (like .gitignore); one with `/` matches from /workspace down. A directory
 * that matches is left out with everything in it.
 */
export const ExcludeGlob = z
  .string()
  .min(1)
  .max(1024)
  // One pattern, so the document states all of it: not absolute, no `..` name, no NUL.
  .regex(/^(?!\/)(?!(?:[^/]*\/)*\.\.(?:\/|$))[^\u0000]*$/, "excludes are relative to /workspace, without a '..' name or NUL")
  .refine(wellFormed, `excludes ${WELL_FORMED}`)
  .openapi({ example: "node_modules" });

export const CreateSnapshotBody = z
  .object({
    name: z.string().min(1).max(200).regex(NO_NUL).refine(wellFormed, `names ${WELL_FORMED}`).optional(),
    labels: Labels.optional(),
    excludes: z.array(ExcludeGlob).max(256).optional().openapi({ description: "Left out of the snapshot: globs relative to /workspace." }),
    ttlSeconds: SnapshotTtl.optional().openapi({ description: "Delete the snapshot this many seconds from now (default: kept until deleted)." }),
  })
  .strict()
  .openapi("CreateSnapshotRequest");
export type CreateSnapshotBody = z.infer<typeof CreateSnapshotBody>;

export const Snapshot = z
  .object({
    id: SnapshotId,
    sandboxId: SandboxId.nullable().openapi({ description: "The sandbox it was taken of; null for an imported archive." }),
    name: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable().openapi({ description: "When it is deleted; null: kept until deleted." }),
    fileCount: z.number().int().openapi({ description: "Entries: regular files, directories and symlinks." }),
    sizeBytes: z.number().int().openapi({ description: "Logical size: the bytes of its regular files." }),
    storedBytes: z.number().int().openapi({ description: "Bytes this snapshot added to storage when it was made (content already stored is not stored again)." }),
    digest: z.string().openapi({ description: "`sha256:` of the snapshot's canonical manifest: equal digests, equal trees." }),
  })
  .openapi("Snapshot");
export type Snapshot = z.infer<typeof Snapshot>;

export const ListSnapshotsQuery = z.object({
  sandboxId: SandboxId.optional().openapi({ description: "Only snapshots of this sandbox." }),
  label: z
    .union([LabelSelector, z.array(LabelSelector)])
    .optional()
    .openapi({ description: "Filter by label `key:value`; repeat to require several.", param: { style: "form", explode: true } }),
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: "Page size (default 100)." }),
  cursor: z.string().max(512).optional().openapi({ description: "`nextCursor` of the previous page. Any other value (one this service did not issue) answers 400 `invalid_request`." }),
});

export const UpdateSnapshotBody = z
  .object({
    labels: Labels.optional().openapi({ description: "Replace all labels." }),
    ttlSeconds: SnapshotTtl.nullable()
      .optional()
      .openapi({ description: "Expire this many seconds from now; null: keep it until it is deleted." }),
  })
  .strict()
  .openapi("UpdateSnapshotRequest");
export type UpdateSnapshotBody = z.infer<typeof UpdateSnapshotBody>;

export const SnapshotList = z
  .object({
    snapshots: z.array(Snapshot),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null on the last page." }),
  })
  .openapi("SnapshotList");

export const RestoreBody = z
  .object({
    snapshotId: SnapshotId,
    killProcesses: z.boolean().optional().openapi({ description: "Kill running background processes first; without it a restore while any run answers 409." }),
  })
  .strict()
  .openapi("RestoreRequest");
export type RestoreBody = z.infer<typeof RestoreBody>;

export const RestoreResult = z
  .object({
    sandbox: SandboxInfo,
    snapshot: Snapshot,
    killedProcesses: z.number().int().openapi({ description: "Background processes that were killed for the restore." }),
  })
  .openapi("RestoreResult");
export type RestoreResult = z.infer<typeof RestoreResult>;

/** Forks: one snapshot of the sandbox, then `count` sandboxes created from it. */
export const ForkBody = z
  .object({
    count: z.number().int().min(1).max(100).openapi({ description: "How many sandboxes to make (1 to 100).", example: 5 }),
    labels: Labels.optional().openapi({ description: "Labels of every new sandbox." }),
    ttlSeconds: TtlSeconds.optional().openapi({ description: "Lifetime of every new sandbox (default: the service's)." }),
    env: EnvMap.optional().openapi({ description: "Environment of every new sandbox (the source's is not copied)." }),
    network: NetworkMode.optional(),
    excludes: z.array(ExcludeGlob).max(256).optional().openapi({ description: "Left out of the copies: globs relative to /workspace." }),
    keepSnapshot: z.boolean().optional().openapi({ description: "Keep the snapshot the copies were made from (answered as `snapshot`); by default it is deleted once they exist." }),
  })
  .strict()
  .openapi("ForkRequest");
export type ForkBody = z.infer<typeof ForkBody>;

export const ForkResult = z
  .object({
    sandboxes: z.array(SandboxInfo).openapi({ description: "The new sandboxes, each with the source's workspace as it was at one moment." }),
    // Optional rather than nullable, and a bare $ref: a nullable or described $ref becomes an allOf that
    // loses null in the TS types and makes a second Snapshot class in the Python client.
    snapshot: Snapshot.optional(),
  })
  .openapi("ForkResult", { description: "`snapshot`: the snapshot they were made from, when `keepSnapshot` was true (absent otherwise: it was deleted)." });
export type ForkResult = z.infer<typeof ForkResult>;

/** An imported archive's metadata travels in the query: the body is the tar itself. */
export const ImportSnapshotQuery = z.object({
  name: z.string().min(1).max(200).regex(NO_NUL).refine(wellFormed, `names ${WELL_FORMED}`).optional(),
  label: z
    .union([LabelSelector, z.array(LabelSelector)])
    .optional()
    .openapi({ description: "Labels `key:value`; repeat for several.", param: { style: "form", explode: true } }),
  ttlSeconds: z.coerce.number().int().min(1).max(365 * 24 * 3600).optional(),
});

/** What a backend is asked to snapshot: core has checked the input and chosen the id and times. */
export interface SnapshotSpec {
  id: string;
  name: string | null;
  labels: Record<string, string>;
  excludes: string[];
  createdAt: string;
  expiresAt: string | null;
  /** Largest logical size (bytes of files) taken or imported. */
  maxBytes: number;
}

export interface SnapshotQuery {
  sandboxId?: string;
  labels: Record<string, string>;
  limit: number;
  /** The id after which the page starts (ids ascend). */
  after?: string;
}
