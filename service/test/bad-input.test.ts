/**
 * Bad input against a real Node host: malformed JSON, wrong content types, huge headers and bodies,
 * invalid UTF-8 and NUL bytes, out-of-range numbers, deep nesting, wrong JSON types, malformed HTTP.
 * Every case must get a 4xx in the error envelope `{"error": {"code", "message", "details"?}}`, no 5xx
 * and no internal error in the host's log, and the host must keep serving real work afterwards.
 * Each bad request sent is counted for `npm run reliability` (test/attempts.ts), with how many got an
 * answer other than the exact 4xx and error envelope expected.
 */
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Attempts } from "./attempts.ts";
import { type TestHost, eventually, startHost, workspaceOnHost } from "./host.ts";

const figures = new Attempts("bad-input");
const BAD = "bad requests, each owed its exact 4xx in the error envelope (through: any other answer)";

const TOKEN = "bad-input-token";
// A small JSON limit keeps the oversized bodies quick: 256 KiB of file content, so bodies of
// ceil(256 KiB * 4 / 3) + 64 KiB = 415,062 bytes (surfaces/request-body.ts).
const MAX_JSON_FILE_BYTES = 256 * 1024;
const JSON_BODY_LIMIT = Math.ceil((MAX_JSON_FILE_BYTES * 4) / 3) + 64 * 1024;
const SB = "bad";

const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "timeout",
  "payload_too_large",
  "unsupported_media_type",
  "headers_too_large",
  "sandbox_unavailable",
  "internal",
];

let host: TestHost;
let cases = 0;

beforeAll(async () => {
  host = await startHost({ token: TOKEN, env: { SANDGATE_MAX_JSON_FILE_BYTES: String(MAX_JSON_FILE_BYTES) } });
  expect((await host.json("POST", "/v1/sandboxes", { id: SB })).status).toBe(201);
});

afterEach(async () => {
  // The host keeps serving, real work included, after every group of bad requests.
  const health = await fetch(`${host.url}/health`);
  expect(health.status).toBe(200);
  const exec = await host.json("POST", `/v1/sandboxes/${SB}/exec`, { command: "echo still here" });
  expect(exec.status, JSON.stringify(exec.body)).toBe(200);
  expect(exec.body.stdout).toBe("still here\n");
});

afterAll(async () => {
  const logs = host.logs();
  await host.stop();
  expect(logs).not.toMatch(/internal error/i);
  console.log(`bad input: ${cases} requests, each a 4xx in the error envelope; host still serving`);
  figures.save();
});

/** Whether `answer` is exactly the 4xx error envelope expected (the assertions below say which part is not). */
function isEnvelope(answer: Answer, status?: number, code?: string): boolean {
  if (answer.status < 400 || answer.status >= 500 || (status !== undefined && answer.status !== status)) return false;
  if (!/^application\/json/.test(answer.headers["content-type"] ?? "")) return false;
  try {
    const body = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
    const keys = Object.keys(body);
    if (keys.length !== 1 || !body.error || !ERROR_CODES.includes(String(body.error.code))) return false;
    if (code !== undefined && body.error.code !== code) return false;
    return typeof body.error.message === "string" && body.error.message.length > 0 && Object.keys(body.error).every((k) => ["code", "message", "details"].includes(k));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Asserts a 4xx in the error envelope, exactly `{"error": {"code", "message", "details"?}}`. */
function expectEnvelope(answer: Answer, what: string, status: number, code?: string): { code: string; message: string } {
  cases++;
  figures.record(BAD, 1, isEnvelope(answer, status, code) ? 0 : 1, "requests");
  const shown = `${what} -> ${answer.status} ${answer.body.slice(0, 300)}`;
  expect(answer.status, shown).toBeGreaterThanOrEqual(400);
  expect(answer.status, shown).toBeLessThan(500);
  expect(answer.status, shown).toBe(status);
  expect(answer.headers["content-type"] ?? "", shown).toMatch(/^application\/json/);
  const body = JSON.parse(answer.body);
  expect(Object.keys(body), shown).toEqual(["error"]);
  expect(ERROR_CODES, shown).toContain(body.error.code);
  if (code !== undefined) expect(body.error.code, shown).toBe(code);
  expect(typeof body.error.message, shown).toBe("string");
  expect(body.error.message.length, shown).toBeGreaterThan(0);
  for (const key of Object.keys(body.error)) expect(["code", "message", "details"], shown).toContain(key);
  return body.error;
}

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

/** A request with the token, the body sent as given (string, bytes or stream) and the given headers. */
async function send(method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit & { duplex?: string } = { method, headers: { authorization: `Bearer ${TOKEN}`, ...headers }, body };
  if (body instanceof ReadableStream) init.duplex = "half";
  return answer(await fetch(host.url + path, init));
}

const sendJson = (method: string, path: string, text: string | Uint8Array, contentType = "application/json") =>
  send(method, path, text as BodyInit, { "content-type": contentType });

/**
 * The temporary files of uploads under way in SB's workspace, read from the host's side. The sandbox's
 * disk is mounted while its environment runs: this starts it first.
 */
async function uploadsInProgress(): Promise<() => string[]> {
  expect((await host.json("POST", `/v1/sandboxes/${SB}/exec`, { command: "true" })).status).toBe(200);
  const workspace = workspaceOnHost(host.dataDir, SB);
  return () => {
    try {
      return readdirSync(workspace).filter((name) => name.startsWith(".sandgate-upload-"));
    } catch {
      return []; // between an idle stop and the next start
    }
  };
}

/** Writes `request` on a raw TCP connection and parses the one response (the request says Connection: close). */
function raw(request: string | Uint8Array): Promise<Answer> {
  const { hostname, port } = new URL(host.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      if (split < 0) return reject(new Error(`no HTTP response, got ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine!.split(" ")[1]), headers, body: text.slice(split + 4) });
    };
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("close", done);
    // The server may answer and close before it has read everything: the answer is what counts.
    socket.on("error", () => {});
    socket.setTimeout(15_000, () => socket.destroy());
    socket.write(request);
  });
}

function rawRequest(lines: string[], body = ""): string {
  const { host: authority } = new URL(host.url);
  return `${lines[0]}\r\nHost: ${authority}\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n${lines.slice(1).map((l) => `${l}\r\n`).join("")}\r\n${body}`;
}

/** The JSON routes, with a body that each accepts, to vary one thing at a time. */
const JSON_ROUTES: [string, string, Record<string, unknown>][] = [
  ["POST", "/v1/sandboxes", { labels: { a: "b" } }],
  ["PATCH", `/v1/sandboxes/${SB}`, { ttlSeconds: 3600 }],
  ["POST", `/v1/sandboxes/${SB}/exec`, { command: "true" }],
  ["POST", `/v1/sandboxes/${SB}/exec/stream`, { command: "true" }],
  ["POST", `/v1/sandboxes/${SB}/files/write`, { path: "w.txt", content: "x" }],
  ["POST", `/v1/sandboxes/${SB}/files/read`, { path: "w.txt" }],
  ["POST", `/v1/sandboxes/${SB}/files/mkdir`, { path: "d", recursive: true }],
  ["POST", `/v1/sandboxes/${SB}/files/move`, { from: "nope", to: "nope2" }],
  ["POST", "/sandbox/create", { sandbox_id: "compat-bad" }],
  ["POST", `/sandbox/${SB}/update`, { keepalive_longer_by_seconds: 10 }],
  ["POST", `/sandbox/${SB}/exec`, { command: "true" }],
  ["POST", `/sandbox/${SB}/download`, { file_path: "w.txt" }],
  ["POST", `/sandbox/${SB}/upload`, { file_path: "w.txt", content: "x" }],
];

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------

describe("malformed JSON", () => {
  const bodies = ["{", '{"a":}', '{"a":1,}', '{"a":1}{"b":2}', "NaN", "{'a':1}", '{"a":"\\ud800', '{"a":"\\x41"}', "[1,2", '"unterminated', "\u0000", ""];
  for (const [method, path] of JSON_ROUTES) {
    it(`${method} ${path}`, async () => {
      for (const text of bodies) expectEnvelope(await sendJson(method, path, text), `${JSON.stringify(text)}`, 400, "invalid_request");
    });
  }
});

describe("wrong content types", () => {
  const types = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/octet-stream",
    "application/jsonx",
    "text/json",
  ];
  for (const [method, path, valid] of JSON_ROUTES) {
    it(`${method} ${path}`, async () => {
      const text = JSON.stringify(valid);
      for (const type of types) expectEnvelope(await sendJson(method, path, text, type), type, 415, "unsupported_media_type");
      // A JSON body without any Content-Type is not taken for JSON either (bytes: fetch adds none).
      expectEnvelope(await send(method, path, new TextEncoder().encode(text)), "no content-type", 415, "unsupported_media_type");
    });
  }
});

describe("wrong JSON types", () => {
  it("answers arrays, scalars and null where objects belong with 400", async () => {
    for (const [method, path] of JSON_ROUTES) {
      for (const text of ["[]", "[{}]", '"text"', "42", "null", "true"]) {
        expectEnvelope(await sendJson(method, path, text), `${method} ${path} ${text}`, 400, "invalid_request");
      }
    }
  });

  it("answers wrongly typed fields with 400", async () => {
    const bodies: [string, string, unknown][] = [
      ["POST", "/v1/sandboxes", { labels: ["a"] }],
      ["POST", "/v1/sandboxes", { env: "A=1" }],
      ["POST", "/v1/sandboxes", { env: { A: 1 } }],
      ["POST", "/v1/sandboxes", { id: 5 }],
      ["POST", "/v1/sandboxes", { ttlSeconds: "60" }],
      ["PATCH", `/v1/sandboxes/${SB}`, { labels: null }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: ["echo", "x"] }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { argv: "echo x" }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { argv: [1, 2] }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: "true", env: [["A", "1"]] }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: "true", stdin: { a: 1 } }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: "true", timeoutMs: "1000" }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: "true", argv: ["true"] }],
      ["POST", `/v1/sandboxes/${SB}/files/write`, { path: ["a"], content: "x" }],
      ["POST", `/v1/sandboxes/${SB}/files/write`, { path: "a", content: { b: 1 } }],
      ["POST", `/v1/sandboxes/${SB}/files/write`, { path: "a", content: "x", encoding: "latin1" }],
      ["POST", `/v1/sandboxes/${SB}/files/mkdir`, { path: "d", recursive: "yes" }],
      ["POST", "/sandbox/create", { sandbox_id: "c", additional_configs: [] }],
      ["POST", `/sandbox/${SB}/exec`, { command: { sh: "true" } }],
    ];
    for (const [method, path, body] of bodies) {
      expectEnvelope(await sendJson(method, path, JSON.stringify(body)), `${method} ${path} ${JSON.stringify(body)}`, 400, "invalid_request");
    }
  });
});

describe("deeply nested JSON", () => {
  it("answers bodies nested past the limit with 400, wherever the nesting is", async () => {
    const deep = (n: number, leaf = "1") => "[".repeat(n) + leaf + "]".repeat(n);
    const deepObject = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
    const bodies: [string, string, string][] = [
      ["POST", "/v1/sandboxes", `{"labels":${deep(100_000)}}`],
      ["POST", "/v1/sandboxes", `{"labels":${deepObject(50_000)}}`],
      ["POST", "/v1/sandboxes", deep(150_000)],
      // Accepted and ignored by the schema, still refused for its depth.
      ["POST", "/sandbox/create", `{"sandbox_id":"deep","additional_configs":{"a":${deep(200)}}}`],
      ["POST", `/v1/sandboxes/${SB}/exec`, `{"command":"true","env":${deepObject(1000)}}`],
    ];
    for (const [method, path, text] of bodies) {
      const error = expectEnvelope(await sendJson(method, path, text), `${method} ${path} nested`, 400, "invalid_request");
      expect(error.message).toMatch(/nest/);
    }
    // Brackets inside strings are text, not nesting.
    const brackets = await host.json("POST", `/v1/sandboxes/${SB}/files/write`, { path: "brackets.txt", content: "[".repeat(10_000) });
    expect(brackets.status, JSON.stringify(brackets.body)).toBe(200);
    expect((await host.json("GET", "/sandbox/deep")).status).toBe(404);
  });
});

describe("huge bodies", () => {
  it("answers JSON bodies over the limit with 413, by Content-Length and streamed", async () => {
    const content = "a".repeat(JSON_BODY_LIMIT);
    for (const [method, path] of JSON_ROUTES) {
      const text = JSON.stringify({ path: "big.txt", content });
      const error = expectEnvelope(await sendJson(method, path, text), `${method} ${path} declared`, 413, "payload_too_large");
      expect(error).toMatchObject({ details: { limitBytes: JSON_BODY_LIMIT } });
      // It says where a larger file goes instead.
      expect(error.message, `${method} ${path}`).toContain("PUT its raw bytes to /v1/sandboxes/{id}/files/content");
    }
    // Without a Content-Length (chunked): counted as it arrives.
    const bytes = new TextEncoder().encode(JSON.stringify({ path: "big.txt", content }));
    const chunked = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
          controller.close();
        },
      });
    for (const path of [`/v1/sandboxes/${SB}/files/write`, `/sandbox/${SB}/upload`]) {
      expectEnvelope(await send("POST", path, chunked(), { "content-type": "application/json" }), `${path} chunked`, 413, "payload_too_large");
    }
  });

  it("answers a JSON route sent no body at all with 400 (the document requires one), and takes {}", async () => {
    const none = expectEnvelope(await send("POST", "/v1/sandboxes"), "POST /v1/sandboxes without a body", 400, "invalid_request");
    expect(none.message).toContain("takes a JSON body");
    // The control: the same route with an empty JSON object creates a sandbox.
    const created = await sendJson("POST", "/v1/sandboxes", "{}");
    expect(created.status, created.body).toBe(201);
    await host.call("DELETE", `/v1/sandboxes/${JSON.parse(created.body).id}`);
  });

  it("answers JSON file content over the file limit with 413, and takes it up to the limit", async () => {
    const over = Buffer.alloc(MAX_JSON_FILE_BYTES + 1, 7).toString("base64");
    const tooBig = await sendJson("POST", `/v1/sandboxes/${SB}/files/write`, JSON.stringify({ path: "f.bin", content: over, encoding: "base64" }));
    expect(expectEnvelope(tooBig, "content one byte over", 413, "payload_too_large").message).toContain("PUT .../files/content?path=... with the raw bytes");
    const exact = Buffer.alloc(MAX_JSON_FILE_BYTES, 7).toString("base64");
    const fits = await host.json("POST", `/v1/sandboxes/${SB}/files/write`, { path: "f.bin", content: exact, encoding: "base64" });
    expect(fits.status, JSON.stringify(fits.body)).toBe(200);
    expect(fits.body.size).toBe(MAX_JSON_FILE_BYTES);
  });
});

describe("huge headers and malformed HTTP", () => {
  it("answers a 100 KB header with 431 in the envelope", async () => {
    const big = "x".repeat(100 * 1024);
    for (const path of ["/health", `/v1/sandboxes/${SB}`, `/v1/sandboxes/${SB}/exec`]) {
      const error = expectEnvelope(await raw(rawRequest([`GET ${path} HTTP/1.1`, `X-Big: ${big}`])), `${path} header`, 431, "headers_too_large");
      expect(error).toMatchObject({ details: { limitBytes: 64 * 1024 } });
    }
    // Through fetch as well, with the token in the huge header itself.
    const viaFetch = await answer(await fetch(`${host.url}/v1/sandboxes`, { headers: { authorization: `Bearer ${big}` } }));
    expectEnvelope(viaFetch, "huge authorization header", 431, "headers_too_large");
    // Many headers, together past the limit.
    const many = Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${"v".repeat(30)}`);
    expectEnvelope(await raw(rawRequest(["GET /health HTTP/1.1", ...many])), "3000 headers", 431, "headers_too_large");
  });

  it("answers a 100 KB URL with 431, and takes a long path that the schemas allow", async () => {
    const longQuery = await raw(rawRequest([`GET /v1/sandboxes/${SB}/files/stat?path=${"a".repeat(100 * 1024)} HTTP/1.1`]));
    expectEnvelope(longQuery, "100 KB query", 431, "headers_too_large");
    // 4096 characters (the most a path may have), each three bytes of UTF-8, nine characters encoded:
    // past Node's default 16 KiB, within the host's limit. The filesystem refuses a name that long.
    const longest = "€".repeat(4096);
    expectEnvelope(await send("GET", `/v1/sandboxes/${SB}/files/stat?path=${enc(longest)}`), "4096-character path", 400, "invalid_request");
  });

  it("answers requests Node cannot parse with 400 in the envelope", async () => {
    const { host: authority } = new URL(host.url);
    const requests = [
      `GET /he\u0000alth HTTP/1.1\r\nHost: ${authority}\r\n\r\n`,
      `GE\u0001T /health HTTP/1.1\r\nHost: ${authority}\r\n\r\n`,
      `GET /health HTTP/1.1\r\nHost: ${authority}\r\nBad Header: x\r\n\r\n`,
      `GET /health HTTP/1.1\r\nHost: ${authority}\r\nX-Nul: a\u0000b\r\n\r\n`,
      `POST /v1/sandboxes HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: abc\r\n\r\n{}`,
      `POST /v1/sandboxes HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
      `POST /v1/sandboxes HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `GET /health HTTP/9.9\r\nHost: ${authority}\r\n\r\n`,
      `GET /health HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
      // An upload whose chunked body turns to garbage after it started.
      `PUT /v1/sandboxes/${SB}/files/content?path=garbled HTTP/1.1\r\nHost: ${authority}\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\nzz\r\n`,
    ];
    for (const request of requests) expectEnvelope(await raw(request), JSON.stringify(request.slice(0, 60)), 400, "invalid_request");
  });

  it("shrugs off bodies cut short by the client: no file, no internal error", { timeout: 60_000 }, async () => {
    const { hostname, port } = new URL(host.url);
    const uploading = await uploadsInProgress();
    /** Sends `request` and cuts the connection once `started` holds (the host has begun on the body). */
    const cutAfter = (request: string, started: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), hostname);
        socket.on("error", () => {});
        socket.write(request, () => {
          eventually(started, 20_000).then(
            () => (socket.destroy(), resolve()),
            (err: Error) => (socket.destroy(), reject(err)),
          );
        });
      });
    // The upload: cut once its temporary file exists (the probe ran), then that file must go and no
    // cut.bin appear. Its own temporary file: one that was not there before it (an earlier test's
    // upload may still be going away).
    const earlier = new Set(uploading());
    if (earlier.size > 0) console.log(`bad-input: temporary upload files present before the cut: ${[...earlier].join(", ")}`);
    const own = () => uploading().filter((name) => !earlier.has(name));
    let cutFile: string | undefined;
    await cutAfter(`PUT /v1/sandboxes/${SB}/files/content?path=cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100000\r\n\r\n${"a".repeat(5000)}`, () => (cutFile ??= own()[0]) !== undefined);
    await eventually(() => !uploading().includes(cutFile!), 20_000);
    // The exec: cut once the bytes are written; nothing can be observed of a body the host still waits for.
    await cutAfter(`POST /v1/sandboxes/${SB}/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"command":`, () => true);
    const stat = await host.json("GET", `/v1/sandboxes/${SB}/files/stat?path=cut.bin`);
    figures.record("uploads cut short by the client (through: a file or temporary file left)", 1, stat.status === 404 && !uploading().includes(cutFile!) ? 0 : 1, "uploads");
    expect(stat.status).toBe(404);
    expect(host.logs()).not.toMatch(/internal error/i);
  });
});

describe("an upload whose body turns to garbage, from a client that keeps its connection open", () => {
  it("answers 400 and removes the upload's temporary file at once, not when the request timeout closes the connection", { timeout: 60_000 }, async () => {
    const { hostname, port, host: authority } = new URL(host.url);
    const uploading = await uploadsInProgress();
    const earlier = new Set(uploading());
    const socket = connect(Number(port), hostname);
    socket.on("error", () => {});
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("utf8")));
    try {
      socket.write(`PUT /v1/sandboxes/${SB}/files/content?path=held-open.bin HTTP/1.1\r\nHost: ${authority}\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n`);
      // Control: the upload began (its temporary file exists) before the body turns to garbage.
      let own: string | undefined;
      await eventually(() => (own = uploading().find((name) => !earlier.has(name))) !== undefined, 20_000);
      socket.write("zz\r\n");
      await eventually(() => answer.includes("\r\n\r\n"), 20_000);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      // The client neither reads on nor closes; the host's request timeout is minutes away.
      await eventually(() => !uploading().includes(own!), 10_000);
      figures.record("garbled uploads from a client holding its connection open (through: a temporary file left)", 1, uploading().includes(own!) ? 1 : 0, "uploads");
    } finally {
      socket.destroy();
    }
    expect((await host.json("GET", `/v1/sandboxes/${SB}/files/stat?path=held-open.bin`)).status).toBe(404);
  });
});

describe("invalid UTF-8", () => {
  it("answers percent-encoding that is not UTF-8 in paths and queries with 400", async () => {
    const bad = ["%FF", "%C0%AF", "%ED%A0%80", "%E0%A4", "%F8%88%80%80%80", "%", "%zz", "a%2", "%FE%FF"];
    for (const value of bad) {
      for (const [method, path] of [
        ["GET", `/v1/sandboxes/${SB}/files/stat?path=${value}`],
        ["GET", `/v1/sandboxes/${SB}/files/content?path=${value}`],
        ["GET", `/v1/sandboxes/${SB}/files?path=${value}`],
        ["DELETE", `/v1/sandboxes/${SB}/files?path=${value}`],
        ["PUT", `/v1/sandboxes/${SB}/files/content?path=${value}`],
        ["GET", `/v1/sandboxes?label=${value}`],
        ["GET", `/v1/sandboxes?cursor=${value}`],
        ["GET", `/v1/sandboxes/${value}`],
        ["POST", `/sandbox/${value}/kill`],
        ["GET", `/v1/sandboxes/${SB}/files/stat?path=ok&${value}=1`],
      ] as const) {
        expectEnvelope(await send(method, path, method === "PUT" ? "x" : undefined), `${method} ${path}`, 400, "invalid_request");
      }
    }
    // Nothing was written under any of those names.
    const list = await host.json("GET", `/v1/sandboxes/${SB}/files`);
    expect(list.body.entries.map((e: { name: string }) => e.name).filter((n: string) => n.includes("%"))).toEqual([]);
  });

  it("keeps %25 and well-formed UTF-8 apart from bad encodings", async () => {
    expect((await send("PUT", `/v1/sandboxes/${SB}/files/content?path=${enc("café %FF.txt")}`, "ok")).status).toBe(200);
    const read = await send("GET", `/v1/sandboxes/${SB}/files/content?path=${enc("café %FF.txt")}`);
    expect(read.status).toBe(200);
    expect(read.body).toBe("ok");
  });

  it("answers JSON bodies that are not UTF-8 with 400", async () => {
    const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
    const bodies: [string, string, Uint8Array][] = [
      ["POST", `/v1/sandboxes/${SB}/exec`, latin1('{"command":"echo \u00ff"}')],
      ["POST", `/v1/sandboxes/${SB}/exec`, latin1('{"command":"true","env":{"\u00ff":"x"}}')],
      ["POST", `/v1/sandboxes/${SB}/exec`, latin1('{"command":"true","env":{"A":"\u00c3\u0028"}}')],
      ["POST", "/v1/sandboxes", latin1('{"env":{"\u00e9\u00e9":"x"}}')],
      ["POST", `/v1/sandboxes/${SB}/files/write`, latin1('{"path":"\u00ff.txt","content":"x"}')],
      ["POST", `/sandbox/${SB}/exec`, latin1('{"command":"\u00fe"}')],
      ["POST", "/v1/sandboxes", Uint8Array.of(0xef, 0xbb, 0xbf, 0xff)],
    ];
    for (const [method, path, bytes] of bodies) {
      const error = expectEnvelope(await sendJson(method, path, bytes), `${method} ${path} latin-1`, 400, "invalid_request");
      expect(error.message).toMatch(/UTF-8/);
    }
  });

  it("answers lone surrogates in text that becomes UTF-8 with 400", async () => {
    const lone = "a\\ud800b";
    const bodies: [string, string, string][] = [
      ["POST", `/v1/sandboxes/${SB}/exec`, `{"command":"echo ${lone}"}`],
      ["POST", `/v1/sandboxes/${SB}/exec`, `{"argv":["echo","${lone}"]}`],
      ["POST", `/v1/sandboxes/${SB}/exec`, `{"command":"true","cwd":"${lone}"}`],
      ["POST", `/v1/sandboxes/${SB}/exec`, `{"command":"true","env":{"A":"${lone}"}}`],
      ["POST", `/v1/sandboxes/${SB}/exec`, `{"command":"true","env":{"${lone}":"x"}}`],
      ["POST", `/v1/sandboxes/${SB}/exec`, `{"command":"cat","stdin":"\\udc00"}`],
      ["POST", "/v1/sandboxes", `{"labels":{"k":"${lone}"}}`],
      ["POST", `/v1/sandboxes/${SB}/files/write`, `{"path":"${lone}","content":"x"}`],
      ["POST", `/v1/sandboxes/${SB}/files/write`, `{"path":"x.txt","content":"${lone}"}`],
      ["POST", `/v1/sandboxes/${SB}/files/move`, `{"from":"w.txt","to":"${lone}"}`],
      ["POST", `/sandbox/${SB}/upload`, `{"file_path":"${lone}","content":"x"}`],
      ["POST", `/sandbox/${SB}/exec`, `{"command":"${lone}"}`],
    ];
    for (const [method, path, text] of bodies) expectEnvelope(await sendJson(method, path, text), `${path} ${text}`, 400, "invalid_request");
    // A surrogate pair is fine.
    const pair = await sendJson("POST", `/v1/sandboxes/${SB}/exec`, '{"command":"printf %s \\ud83d\\ude00"}');
    expect(pair.status, pair.body).toBe(200);
    expect(JSON.parse(pair.body).stdout).toBe("😀");
  });
});

describe("NUL bytes", () => {
  it("answers NUL in paths, commands, arguments, env and labels with 400", async () => {
    for (const path of [
      `/v1/sandboxes/${SB}/files/stat?path=%00`,
      `/v1/sandboxes/${SB}/files/content?path=a%00b`,
      `/v1/sandboxes/${SB}/files?path=%00`,
      `/v1/sandboxes/%00`,
      `/v1/sandboxes/a%00b`,
    ]) {
      expectEnvelope(await send("GET", path), path, 400, "invalid_request");
    }
    expectEnvelope(await send("PUT", `/v1/sandboxes/${SB}/files/content?path=n%00ul.txt`, "x"), "PUT with NUL path", 400, "invalid_request");
    const bodies: [string, string, unknown][] = [
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: "echo a\u0000b" }],
      ["POST", `/v1/sandboxes/${SB}/exec/stream`, { command: "\u0000" }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { argv: ["echo", "a\u0000b"] }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { argv: ["\u0000"] }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: "true", cwd: "d\u0000" }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: "true", env: { A: "x\u0000y" } }],
      ["POST", `/v1/sandboxes/${SB}/exec`, { command: "true", env: { "A\u0000B": "x" } }],
      ["POST", "/v1/sandboxes", { env: { A: "\u0000" } }],
      ["POST", "/v1/sandboxes", { labels: { k: "v\u0000" } }],
      ["POST", "/v1/sandboxes", { labels: { "k\u0000": "v" } }],
      ["POST", "/v1/sandboxes", { id: "a\u0000" }],
      ["PATCH", `/v1/sandboxes/${SB}`, { labels: { k: "\u0000" } }],
      ["POST", `/v1/sandboxes/${SB}/files/write`, { path: "a\u0000.txt", content: "x" }],
      ["POST", `/v1/sandboxes/${SB}/files/read`, { path: "\u0000" }],
      ["POST", `/v1/sandboxes/${SB}/files/mkdir`, { path: "d\u0000" }],
      ["POST", `/v1/sandboxes/${SB}/files/move`, { from: "w.txt", to: "\u0000" }],
      ["POST", "/sandbox/create", { sandbox_id: "\u0000" }],
      ["POST", `/sandbox/${SB}/exec`, { command: "echo \u0000" }],
      ["POST", `/sandbox/${SB}/download`, { file_path: "\u0000" }],
      ["POST", `/sandbox/${SB}/upload`, { file_path: "a\u0000", content: "x" }],
    ];
    for (const [method, path, body] of bodies) {
      expectEnvelope(await sendJson(method, path, JSON.stringify(body)), `${method} ${path} ${JSON.stringify(body)}`, 400, "invalid_request");
    }
    // NUL in file content is data, not a name: fine.
    const content = await host.json("POST", `/v1/sandboxes/${SB}/files/write`, { path: "nul.bin", content: "a\u0000b" });
    expect(content.status).toBe(200);
    expect(content.body.size).toBe(3);
  });
});

describe("numbers out of range", () => {
  it("answers negative, fractional, enormous and non-finite numbers in JSON with 400", async () => {
    const values = ["-1", "0", "-0", "1.5", "1e400", "-1e400", "9007199254740993", "1e21", '"60"', "true", "null", "[60]"];
    const fields: [string, string, (v: string) => string][] = [
      ["POST", "/v1/sandboxes", (v) => `{"ttlSeconds":${v}}`],
      ["PATCH", `/v1/sandboxes/${SB}`, (v) => `{"ttlSeconds":${v}}`],
      ["PATCH", `/v1/sandboxes/${SB}`, (v) => `{"extendBySeconds":${v}}`],
      ["POST", `/v1/sandboxes/${SB}/exec`, (v) => `{"command":"true","timeoutMs":${v}}`],
      ["POST", `/v1/sandboxes/${SB}/exec/stream`, (v) => `{"command":"true","timeoutMs":${v}}`],
      ["POST", "/sandbox/create", (v) => `{"sandbox_id":"num","keepalive_seconds":${v}}`],
      ["POST", `/sandbox/${SB}/update`, (v) => `{"keepalive_longer_by_seconds":${v}}`],
      ["POST", `/sandbox/${SB}/exec`, (v) => `{"command":"true","keepalive_seconds":${v}}`],
    ];
    for (const [method, path, body] of fields) {
      for (const value of values) expectEnvelope(await sendJson(method, path, body(value)), `${method} ${path} ${body(value)}`, 400, "invalid_request");
    }
    // Just past the documented maxima.
    for (const [method, path, text] of [
      ["POST", "/v1/sandboxes", '{"ttlSeconds":2592001}'],
      ["PATCH", `/v1/sandboxes/${SB}`, '{"extendBySeconds":2592001}'],
      ["POST", `/v1/sandboxes/${SB}/exec`, '{"command":"true","timeoutMs":86400001}'],
    ]) {
      expectEnvelope(await sendJson(method!, path!, text!), text!, 400, "invalid_request");
    }
    expect((await host.json("GET", "/sandbox/num")).status).toBe(404);
  });

  it("answers bad numbers and booleans in query strings with 400", async () => {
    for (const limit of ["-1", "0", "1.5", "1e999", "99999999999999999999", "abc", "", "1001", "0x"]) {
      expectEnvelope(await send("GET", `/v1/sandboxes?limit=${enc(limit)}`), `limit=${limit}`, 400, "invalid_request");
    }
    for (const seconds of ["-1", "0", "2.5", "1e999", "abc", "2592001"]) {
      expectEnvelope(await send("GET", `/sandbox/${SB}?keepalive_seconds=${enc(seconds)}`), `keepalive_seconds=${seconds}`, 400, "invalid_request");
    }
    for (const flag of ["yes", "2", "TRUE ", "", "null"]) {
      expectEnvelope(await send("GET", `/v1/sandboxes/${SB}/files?recursive=${enc(flag)}`), `recursive=${flag}`, 400, "invalid_request");
    }
    expectEnvelope(await send("GET", `/v1/sandboxes?limit=1&limit=2`), "limit twice", 400, "invalid_request");
    expectEnvelope(await send("GET", `/v1/sandboxes/${SB}/files/stat?path=a&path=b`), "path twice", 400, "invalid_request");
  });
});

describe("auth comes first", () => {
  it("answers bad input without a token with 401, never a hint about the input", async () => {
    for (const [method, path] of JSON_ROUTES) {
      const res = await answer(await fetch(host.url + path, { method, headers: { "content-type": "application/json" }, body: "{" }));
      const error = expectEnvelope(res, `${method} ${path} without token`, 401, "unauthorized");
      expect(error.message).not.toMatch(/JSON|body/i);
    }
    expectEnvelope(await answer(await fetch(`${host.url}/v1/sandboxes/${SB}/files/stat?path=%FF`)), "bad query without token", 401, "unauthorized");
  });
});
