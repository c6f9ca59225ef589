/** Pieces the client's modules share; not exported from the package. */
import type { Client } from "openapi-fetch";
import { SandgateError } from "./errors.js";
import type { paths } from "./schema.js";

/** The fetch the client calls; `globalThis.fetch` by default. A Worker may pass a service binding's fetch. */
export type FetchLike = (request: Request) => Promise<Response>;

/** What every handle of one client shares: the typed client, and what it needs to call the port proxy. */
export interface Context {
  readonly raw: Client<paths>;
  /** The base URL without a trailing slash. */
  readonly baseUrl: string;
  /** The client's extra headers and its `authorization`, sent with every request. */
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch: FetchLike;
}

export interface CallOptions {
  /** Aborts the request; for streams, closing them also stops the work on the server. */
  signal?: AbortSignal | undefined;
}

type Outcome<D> = { data?: D; error?: unknown; response: Response };

/** The data of a successful response, or the response's error envelope thrown as a SandgateError. */
export async function unwrap<D>(pending: Promise<Outcome<D>>): Promise<D> {
  const { data, error, response } = await pending;
  if (!response.ok) throw SandgateError.fromBody(response.status, error);
  return data as D;
}

export function signalOf(options: CallOptions | undefined): { signal?: AbortSignal } {
  return options?.signal ? { signal: options.signal } : {};
}

/** The path of a sandbox's resources, its id percent-encoded. */
export function sandboxPath(id: string, suffix = ""): string {
  return `/v1/sandboxes/${encodeURIComponent(id)}${suffix}`;
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
