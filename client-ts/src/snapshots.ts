/** Snapshots: saved workspaces that outlive their sandbox, and the tar archives they travel as. */
import type { Client } from "openapi-fetch";
import { SandgateError } from "./errors.js";
import { type CallOptions, isReadableStream, signalOf, unwrap } from "./internal.js";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
export type Snapshot = Schemas["Snapshot"];
export type SnapshotList = Schemas["SnapshotList"];
export type CreateSnapshotRequest = Schemas["CreateSnapshotRequest"];
export type RestoreRequest = Schemas["RestoreRequest"];
export type RestoreResult = Schemas["RestoreResult"];
export type ForkRequest = Schemas["ForkRequest"];
export type UpdateSnapshotRequest = Schemas["UpdateSnapshotRequest"];
export type ForkResult = Schemas["ForkResult"];
export type ListSnapshotsQuery = NonNullable<paths["/v1/snapshots"]["get"]["parameters"]["query"]>;
export type ImportSnapshotQuery = NonNullable<paths["/v1/snapshots"]["post"]["parameters"]["query"]>;

/** A tar archive to import: a stream (sent as it is read), bytes or a Blob. */
export type ArchiveBody = ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | Blob;

/** `onProgress`: called with the bytes received (export) or sent (import) so far, as they pass. */
export interface ProgressOptions extends CallOptions {
  onProgress?: (bytes: number) => void;
}

/**
 * `compression`: ask for the archive compressed (`Accept: application/zstd` or `application/gzip`).
 * A host that cannot make it (the Cloudflare backend makes gzip only) sends plain tar; `import`
 * takes all three, recognised from the bytes.
 */
export interface ExportOptions extends ProgressOptions {
  compression?: "zstd" | "gzip";
}

export interface SnapshotsApi {
  /** One page; pass `nextCursor` back as `cursor` for the next. */
  list(query?: ListSnapshotsQuery, options?: CallOptions): Promise<SnapshotList>;
  /** Every snapshot matching `query`, fetching page after page as the loop goes. */
  listAll(query?: Omit<ListSnapshotsQuery, "cursor">, options?: CallOptions): AsyncGenerator<Snapshot, void, undefined>;
  get(snapshotId: string, options?: CallOptions): Promise<Snapshot>;
  delete(snapshotId: string, options?: CallOptions): Promise<void>;
  /** Replaces the labels and/or the expiry (`ttlSeconds` from now; `null`: keep until deleted). */
  update(snapshotId: string, body: UpdateSnapshotRequest, options?: CallOptions): Promise<Snapshot>;
  /** The snapshot as a tar archive (paths relative to /workspace), streamed as it arrives; zstd or gzip if `compression` asks. */
  export(snapshotId: string, options?: ExportOptions): Promise<ReadableStream<Uint8Array>>;
  /** Makes a snapshot from a tar archive; a refused archive leaves nothing behind. */
  import(archive: ArchiveBody, query?: ImportSnapshotQuery, options?: ProgressOptions): Promise<Snapshot>;
}

export class SnapshotsImpl implements SnapshotsApi {
  constructor(private readonly raw: Client<paths>) {}

  list(query: ListSnapshotsQuery = {}, options?: CallOptions): Promise<SnapshotList> {
    return unwrap(this.raw.GET("/v1/snapshots", { params: { query }, ...signalOf(options) }));
  }

  async *listAll(query: Omit<ListSnapshotsQuery, "cursor"> = {}, options?: CallOptions): AsyncGenerator<Snapshot, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...query, ...(cursor ? { cursor } : {}) }, options);
      yield* page.snapshots;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  get(snapshotId: string, options?: CallOptions): Promise<Snapshot> {
    return unwrap(this.raw.GET("/v1/snapshots/{snapshotId}", { params: { path: { snapshotId } }, ...signalOf(options) }));
  }

  update(snapshotId: string, body: UpdateSnapshotRequest, options?: CallOptions): Promise<Snapshot> {
    return unwrap(this.raw.PATCH("/v1/snapshots/{snapshotId}", { params: { path: { snapshotId } }, body, ...signalOf(options) }));
  }

  async delete(snapshotId: string, options?: CallOptions): Promise<void> {
    await unwrap(this.raw.DELETE("/v1/snapshots/{snapshotId}", { params: { path: { snapshotId } }, ...signalOf(options) }));
  }

  async export(snapshotId: string, options?: ExportOptions): Promise<ReadableStream<Uint8Array>> {
    const { data, error, response } = await this.raw.GET("/v1/snapshots/{snapshotId}/archive", {
      params: { path: { snapshotId } },
      ...(options?.compression ? { headers: { accept: `application/${options.compression}, application/x-tar;q=0.1` } } : {}),
      parseAs: "stream",
      ...signalOf(options),
    });
    if (!response.ok) throw SandgateError.fromBody(response.status, error);
    const body = data ?? new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
    return options?.onProgress ? body.pipeThrough(counting(options.onProgress)) : body;
  }

  import(archive: ArchiveBody, query: ImportSnapshotQuery = {}, options?: ProgressOptions): Promise<Snapshot> {
    if (options?.onProgress) archive = asStream(archive).pipeThrough(counting(options.onProgress));
    return unwrap(
      this.raw.POST("/v1/snapshots", {
        params: { query },
        // The document types raw bytes as a binary string; the body goes to fetch untouched.
        body: archive as unknown as string,
        bodySerializer: (value: unknown) => value,
        headers: { "content-type": "application/octet-stream" },
        ...(isReadableStream(archive) ? { duplex: "half" } : {}),
        ...signalOf(options),
      }),
    );
  }
}

/** Passes chunks on unchanged, reporting the running total after each. */
function counting(onProgress: (bytes: number) => void): TransformStream<Uint8Array, Uint8Array> {
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      total += chunk.byteLength;
      onProgress(total);
    },
  });
}

function asStream(archive: ArchiveBody): ReadableStream<Uint8Array> {
  if (isReadableStream(archive)) return archive;
  const blob = archive instanceof Blob ? archive : new Blob([archive as BlobPart]);
  return blob.stream() as ReadableStream<Uint8Array>;
}
