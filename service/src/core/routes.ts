/** REST routes of the operation table, for code that calls another Sandgate host (the remote backend). */
import { type OperationId, operations } from "./operations.ts";

export type QueryValue = string | number | boolean | undefined | readonly string[];

/**
 * The method and path of operation `id` with its `{params}` filled in (each encoded) and `query`
 * appended; a missing parameter is a programming error.
 */
export function routeOf(id: OperationId, params: Record<string, string> = {}, query: Record<string, QueryValue> = {}): { method: string; path: string } {
  const operation = operations[id];
  const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${id} needs the path parameter '${name}'`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, String(one));
  }
  const suffix = search.size > 0 ? `?${search}` : "";
  return { method: operation.method.toUpperCase(), path: `${path}${suffix}` };
}
