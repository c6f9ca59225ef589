import { z } from "@hono/zod-openapi";
import { ENV_LIMITS, EnvMap, LabelSelector, NO_NUL, SandboxId, Timestamp, WELL_FORMED, keysMatching, wellFormed } from "./common.ts";
import { GitCheckoutBody } from "./git.ts";

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/** Labels select sandboxes in list calls: short keys and values, as in Kubernetes. */
export const Labels = z
  .record(
    z.string().regex(LABEL_KEY, "label keys are 1-63 of letters, digits, '.', '_', '/', '-'"),
    z.string().max(256).regex(NO_NUL, "label values may not contain NUL").refine(wellFormed, `label values ${WELL_FORMED}`),
  )
  .refine((v) => Object.keys(v).length <= 64, "at most 64 labels")
  .openapi({
    description: "Key/value labels for finding sandboxes later.",
    example: { team: "search", job: "42" },
    ...keysMatching(LABEL_KEY),
    maxProperties: 64,
  });

export const TtlSeconds = z
  .number()
  .int()
  .min(1)
  .max(30 * 24 * 3600)
  .openapi({ description: "Seconds until the sandbox expires and is reaped (at most 30 days).", example: 3600 });

export const SandboxStatus = z
  .enum(["ready", "sleeping", "unavailable"])
  .openapi("SandboxStatus", {
    description: "`ready`: accepts work now; `sleeping`: its container is stopped and wakes on the next call; `unavailable`: its runtime cannot be reached.",
  });

export const NetworkMode = z.enum(["egress", "none"]).openapi("NetworkMode", {
  description:
    "`egress` (the default): the sandbox may open connections to the internet, never to the host or other sandboxes; `none`: it has no network beyond its own ports, which the port proxy still reaches.",
});
export type NetworkMode = z.infer<typeof NetworkMode>;

export const SandboxInfo = z
  .object({
    id: SandboxId,
    instance: z.string().openapi({
      description:
        "Set when the sandbox is created and never again: a sandbox deleted and re-created under the same id has a new one. Scoped tokens and port links are bound to it and stop working when it changes.",
      example: "i-3k2j9x7wq4m5n6p7r8s9",
    }),
    status: SandboxStatus,
    network: NetworkMode,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    labels: z.record(z.string(), z.string()),
  })
  .openapi("SandboxInfo");
export type SandboxInfo = z.infer<typeof SandboxInfo>;

export const CreateSandboxBody = z
  .object({
    id: SandboxId.optional().openapi({ description: "Choose the id; generated when omitted. Creating an existing id is a 409." }),
    ttlSeconds: TtlSeconds.optional(),
    env: EnvMap.optional().openapi({ description: `Environment for every command in this sandbox; per-exec env overrides it. ${ENV_LIMITS}` }),
    labels: Labels.optional(),
    network: NetworkMode.optional(),
    git: GitCheckoutBody.optional().openapi({ description: "Clone a repository into the workspace before the sandbox is answered; if the clone fails, no sandbox is left." }),
    // The id's pattern is the snapshot id's (schemas/snapshots.ts imports this file, so not from there).
    fromSnapshot: SandboxId.optional().openapi({ description: "Start with this snapshot's workspace (an unknown snapshot is a 404 and no sandbox is made).", example: "snap-4k2xq7w9m3p5r8ta" }),
  })
  .strict()
  .openapi("CreateSandboxRequest");
export type CreateSandboxBody = z.infer<typeof CreateSandboxBody>;

export const ListSandboxesQuery = z.object({
  label: z
    .union([LabelSelector, z.array(LabelSelector)])
    .optional()
    .openapi({
      description: "Filter by label `key:value`; repeat to require several.",
      example: "team:search",
      param: { style: "form", explode: true },
    }),
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: "Page size (default 100).", example: 100 }),
  cursor: z.string().max(512).optional().openapi({ description: "`nextCursor` of the previous page. Any other value (one this service did not issue) answers 400 `invalid_request`." }),
});

export const SandboxList = z
  .object({
    sandboxes: z.array(SandboxInfo),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null on the last page." }),
  })
  .openapi("SandboxList");

export const UpdateSandboxBody = z
  .object({
    ttlSeconds: TtlSeconds.optional().openapi({ description: "Expire this many seconds from now." }),
    extendBySeconds: TtlSeconds.optional().openapi({ description: "Push the current expiry back by this many seconds." }),
    labels: Labels.optional().openapi({ description: "Replace all labels." }),
    env: EnvMap.optional().openapi({ description: `Replace the sandbox-wide environment: commands and processes started from now on see it, under their own env. ${ENV_LIMITS}` }),
  })
  .strict()
  .refine((v) => !(v.ttlSeconds !== undefined && v.extendBySeconds !== undefined), "give ttlSeconds or extendBySeconds, not both")
  // The refinement above, in the document.
  .openapi("UpdateSandboxRequest", { not: { required: ["ttlSeconds", "extendBySeconds"] } });
export type UpdateSandboxBody = z.infer<typeof UpdateSandboxBody>;

export const HealthInfo = z
  .object({
    ok: z.boolean(),
    version: z.string().openapi({ example: "0.1.0" }),
    backend: z.string().openapi({ example: "local" }),
    snapshots: z
      .object({
        count: z.number().int().openapi({ description: "Snapshots kept." }),
        blobs: z.number().int().openapi({ description: "Distinct file contents stored for them." }),
        storedBytes: z.number().int().openapi({ description: "Bytes those contents take." }),
      })
      .optional()
      .openapi({ description: "Snapshot storage on this host (backends that keep snapshots)." }),
  })
  .openapi("Health");
