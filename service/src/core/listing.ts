/** List pages and selectors: the opaque cursors lists hand out, and `key:value` label selectors. */
import { base64urlToBytes, bytesToBase64url } from "../schemas/base64.ts";
import { errors } from "./errors.ts";

export function encodeCursor(lastId: string): string {
  return bytesToBase64url(new TextEncoder().encode(lastId));
}

/** `key:value` selectors (query labels) as a map; `what` names them in the error. */
export function parseLabels(label: string | string[] | undefined, what: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const selector of [label ?? []].flat()) {
    const colon = selector.indexOf(":");
    if (colon <= 0) throw errors.invalid(`${what} '${selector}' is not key:value`);
    labels[selector.slice(0, colon)] = selector.slice(colon + 1);
  }
  return labels;
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const bytes = base64urlToBytes(cursor);
  try {
    const id = bytes && new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    if (id && /^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) return id;
  } catch {
    // not UTF-8: the error below
  }
  throw errors.invalid("cursor is not one this service issued");
}
