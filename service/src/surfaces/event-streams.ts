/**
 * How the OpenAPI document describes `text/event-stream` responses. A route declares the event object
 * (e.g. ExecEvent); on the wire each server-sent event is an `event:` name and a `data:` line holding
 * that object as JSON. The document says so, per event, as OpenAPI 3.2 and SSE-aware tools (Schemathesis)
 * read a stream's schema: `{event, data}` with `data` a string whose `contentSchema` is the event object.
 */

type Schema = { $ref?: string; discriminator?: { mapping?: Record<string, string> }; [key: string]: unknown };
type Media = { schema?: Schema };
type Operation = { responses?: Record<string, { content?: Record<string, Media> }> };
interface Document {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown> };
}

const COMPONENT = "#/components/schemas/";

/** Rewrites, in place, every event-stream response's schema from the event object to the wire event. */
export function describeEventStreams(document: Document): void {
  const components = (document.components?.schemas ?? {}) as Record<string, Schema>;
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item as Record<string, Operation>)) {
      for (const response of Object.values(operation?.responses ?? {})) {
        const media = response.content?.["text/event-stream"];
        if (media?.schema) media.schema = wireEvent(media.schema, components);
      }
    }
  }
}

function wireEvent(event: Schema, components: Record<string, Schema>): Schema {
  const target = event.$ref?.startsWith(COMPONENT) ? components[event.$ref.slice(COMPONENT.length)] : event;
  const names = Object.keys(target?.discriminator?.mapping ?? {});
  return {
    type: "object",
    required: ["event", "data"],
    properties: {
      event: { type: "string", ...(names.length ? { enum: names } : {}), description: "The event's name: the `type` of its data." },
      data: { type: "string", contentMediaType: "application/json", contentSchema: event, description: "The event object, as JSON." },
    },
  };
}
