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

const nullBodyStatuses = new Set([101, 204, 205, 304]);

/**
 * Wraps a fetch so that a call that gets no response rejects with SandgateError (`unreachable`, or
 * `timeout` after `timeoutMs` without response headers; a caller's own abort stays as it is), and so
 * does a body cut short while it is read.
 */
export function withFailureErrors(fetch: FetchLike, timeoutMs: number | undefined): FetchLike {
  return async (request) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let input = request;
    if (timeoutMs !== undefined) {
      const timeout = new AbortController();
      timer = setTimeout(() => timeout.abort(new DOMException(`no answer in ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
      input = new Request(request, { signal: AbortSignal.any([request.signal, timeout.signal]), duplex: "half" } as RequestInit);
    }
    let response: Response;
    try {
      response = await fetch(input);
    } catch (err) {
      if (request.signal.aborted) throw err;
      throw SandgateError.fromFailure(err);
    } finally {
      clearTimeout(timer);
    }
    if (!response.body || nullBodyStatuses.has(response.status)) return response;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (err) {
          controller.error(request.signal.aborted ? err : SandgateError.fromFailure(err));
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
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

/** A stream body (sent as it is read, `duplex: "half"`); duck-typed, so streams of another realm count too. */
export function isReadableStream(body: unknown): body is ReadableStream<Uint8Array> {
  return typeof (body as { getReader?: unknown } | null)?.getReader === "function";
}
