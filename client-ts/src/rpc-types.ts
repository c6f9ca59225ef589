/**
 * The service's RPC interface, typed from the generated OpenAPI types (`schema.d.ts`): one method per
 * REST operation, taking path parameters, query and JSON body as one object. Shared by the Cap'n Web
 * client (`@sandgate/client/rpc`) and the Workers binding type (`@sandgate/client/worker`); it needs no
 * runtime library's types, so it checks in any strict project.
 */
import type { operations } from "./schema.js";

type Ops = operations;
/** Operations of the REST contract proper (the compat profile has no RPC methods). */
type RpcOperationId = Exclude<keyof Ops, `compat${string}`>;

type Part<O, K extends string> = O extends { parameters: infer Ps }
  ? K extends keyof Ps
    ? [NonNullable<Ps[K]>] extends [never]
      ? {}
      : NonNullable<Ps[K]>
    : {}
  : {};
type JsonBody<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? Partial<B>
    : {};
type RawBody<O> = O extends { requestBody: { content: { "application/octet-stream": unknown } } } ? { body: RpcBytes } : {};
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Raw file bodies may be given whole or streamed. */
export type RpcBytes = ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | string;

/** The one object an RPC method takes. */
export type RpcInput<K extends RpcOperationId> = Simplify<Part<Ops[K], "path"> & Part<Ops[K], "query"> & JsonBody<Ops[K]> & RawBody<Ops[K]>>;

/** A bytes response: any media type (a file), or an archive's (plain tar or compressed, by Accept). */
type BytesResponse = { content: { "application/octet-stream": unknown } } | { content: { "application/x-tar": unknown } };

/** What an RPC method answers: JSON as in REST; bytes as `{body, size, contentType?}`; event streams as NDJSON bytes. */
export type RpcOutput<K extends RpcOperationId> = Ops[K] extends { responses: { 200: { content: { "application/json": infer R } } } }
  ? R
  : Ops[K] extends { responses: { 201: { content: { "application/json": infer R } } } }
    ? R
    : Ops[K] extends { responses: { 200: BytesResponse } }
      ? { body: ReadableStream<Uint8Array>; size: number; contentType?: string }
      : Ops[K] extends { responses: { 200: { content: { "text/event-stream": unknown } } } }
        ? ReadableStream<Uint8Array>
        : void;

type Method<I, O> = {} extends I ? (input?: I) => Promise<O> : (input: I) => Promise<O>;

export type SandgateRpcMethods = { [K in RpcOperationId]: Method<RpcInput<K>, RpcOutput<K>> };

type ScopedId = { [K in RpcOperationId]: RpcInput<K> extends { id: string } ? K : never }[RpcOperationId];
export type SandboxRpcMethods = { [K in ScopedId]: Method<Simplify<Omit<RpcInput<K>, "id">>, RpcOutput<K>> };

/** The service's RPC interface, as seen by a Cap'n Web client. */
export interface SandgateRpc extends SandgateRpcMethods {
  sandbox(id: string): SandboxRpcMethods;
}

