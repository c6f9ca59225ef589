import { z } from "@hono/zod-openapi";
import { Timestamp } from "./common.ts";
import { Port } from "./processes.ts";

export const CreatePortLinkBody = z
  .object({
    port: Port,
    ttlSeconds: z.number().int().min(1).max(7 * 24 * 3600).optional().openapi({ description: "Lifetime of the link (default 3600 s, at most 7 days); a link minted with a scoped token expires no later than the token.", example: 3600 }),
    path: z
      .string()
      .max(2048)
      .regex(/^\/[\x21-\x7e]*$/, "an absolute path of printable ASCII")
      .optional()
      .openapi({ description: "Where in the proxied app the link lands (default /).", example: "/" }),
  })
  .strict()
  .openapi("CreatePortLinkRequest");
export type CreatePortLinkBody = z.infer<typeof CreatePortLinkBody>;

export const PortLink = z
  .object({
    path: z.string().openapi({ description: "The link, relative to this service's origin: open it in a browser, no token needed.", example: "/v1/sandboxes/demo/ports/8080/?sandgate_link=sgl1..." }),
    url: z.string().nullable().openapi({ description: "The same link as an absolute URL, when the service knows its own origin." }),
    port: Port,
    expiresAt: Timestamp,
  })
  .openapi("PortLink");
export type PortLink = z.infer<typeof PortLink>;
