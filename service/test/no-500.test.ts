/**
 * Inputs that once answered 500 get their 4xx in the error envelope, on a real Node host: malformed
 * Cap'n Web batches at /rpc (garbage, protocol violations, a fuzzed stream of lines, oversized and
 * non-UTF-8 bodies) and commands too large for the kernel to start (E2BIG), whose limits the schemas
 * now state. Each refusal has a positive control at the edge of what is allowed.
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { newHttpBatchRpcSession } from "capnweb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandgateError, httpStatusOf, toSandgateError } from "../src/core/errors.ts";
import { MAX_ARGV_BYTES, MAX_ARG_BYTES, MAX_ENV_BYTES, MAX_ENV_VARS } from "../src/schemas/common.ts";
import { MAX_RPC_BATCH_BYTES, type SandgateRpc } from "../src/surfaces/rpc.ts";
import { type TestHost, startHost } from "./host.ts";

const TOKEN = "no-500-test-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };
let host: TestHost;

beforeAll(async () => {
  host = await startHost({ token: TOKEN });
  expect((await host.json("POST", "/v1/sandboxes", { id: "big" })).status).toBe(201);
});
afterAll(async () => {
  await host.stop();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } };
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: Answer["body"];
  try {
    body = JSON.parse(text) as Answer["body"];
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, body };
}

/** A 4xx with the envelope, and the code if given. */
function expectRefusal(got: Answer, what: string, status?: number, code?: string): void {
  expect(got.status, what).toBeGreaterThanOrEqual(400);
  expect(got.status, what).toBeLessThan(500);
  if (status !== undefined) expect(got.status, what).toBe(status);
  expect(typeof got.body.error?.message, what).toBe("string");
  if (code !== undefined) expect(got.body.error?.code, what).toBe(code);
}

const postRpc = async (body: BodyInit, headers: Record<string, string> = {}) =>
  answer(await fetch(`${host.url}/rpc`, { method: "POST", headers: { ...AUTH, ...headers }, body, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit));

/** A well-formed batch works: the host is fine before and after whatever came in between. */
async function batchStillWorks(): Promise<void> {
  const api = newHttpBatchRpcSession<SandgateRpc>(new Request(`${host.url}/rpc`, { headers: AUTH }));
  expect(await api.health()).toMatchObject({ ok: true });
}

/** A small seeded PRNG, so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random JSON-ish values, biased toward Cap'n Web's own message and expression shapes. */
function garbage(random: () => number, depth = 0): unknown {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const kinds = ["push", "pull", "resolve", "reject", "release", "abort", "stream", "pipe", "import", "pipeline", "export", "promise", "error", "bigint", "date", "bytes", "undefined", "remap", "x", ""];
  switch (depth > 4 ? Math.floor(random() * 4) : Math.floor(random() * 7)) {
    case 0:
      return Math.floor(random() * 2000) - 1000;
    case 1:
      return pick(kinds);
    case 2:
      return pick([null, true, false, 1.5, -0, 1e308, "", "\u0000", "\ud800"]);
    case 3:
      return pick([[], {}, [[]], { a: 1 }]);
    case 4:
    case 5:
      return [pick(kinds), ...Array.from({ length: Math.floor(random() * 4) }, () => garbage(random, depth + 1))];
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, (_, i) => [`k${i}`, garbage(random, depth + 1)]));
  }
}

describe("/rpc answers malformed batches with 4xx in the envelope", () => {
  it("refuses what is not a batch of Cap'n Web messages", async () => {
    await batchStillWorks();
    const bodies = [
      "[]",
      "{}",
      "x",
      "null",
      "1",
      '"push"',
      "[1]",
      '[null, 1]',
      '["nonsense", 1]',
      '["push",1]\n', // a trailing newline is an empty line, which is not a message
      "\n\n",
      '["push",1]\nx',
      "\ufeff[\"push\",1]",
      "[".repeat(100_000),
      `${"[".repeat(1000)}${"]".repeat(1000)}`,
    ];
    for (const body of bodies) expectRefusal(await postRpc(body), JSON.stringify(body.slice(0, 40)), 400, "invalid_request");
    await batchStillWorks();
  });

  it("refuses batches Cap'n Web gives up on: aborts, references to nothing, shapes it cannot read", async () => {
    const bodies = [
      '["push"]',
      '["pull",1]',
      '["pull","x"]',
      '["release",1,1]',
      '["release","a","b"]',
      '["abort",1]',
      '["abort",["error","Error","boom"]]',
      '["resolve"]',
      '["push",["pipeline",99,["health"]]]\n["pull",1]',
      '["push",["import",42]]\n["pull",1]',
      `["push",["bigint","${"9".repeat(20_000)}"]]\n["pull",1]`,
    ];
    for (const body of bodies) expectRefusal(await postRpc(body), JSON.stringify(body.slice(0, 60)), 400, "invalid_request");
    await batchStillWorks();
  });

  it("never answers 5xx to a fuzzed stream of batches", async () => {
    const random = prng(20261206);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const lines = Array.from({ length: 1 + Math.floor(random() * 4) }, () => JSON.stringify(garbage(random)));
      const res = await fetch(`${host.url}/rpc`, { method: "POST", headers: AUTH, body: lines.join("\n") });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `batch ${i}: ${lines.join("\\n").slice(0, 200)} -> ${text.slice(0, 200)}`).toBeLessThan(500);
      if (res.status !== 200) expect(JSON.parse(text).error.code, `batch ${i}`).toBe("invalid_request");
    }
    // Most garbage is refused; some is valid Cap'n Web (a push of a literal), which is fine.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(150);
    await batchStillWorks();
    expect(host.logs()).not.toContain("internal error");
  }, 120_000);

  it("refuses bodies that are not UTF-8, oversized bodies, and methods other than POST", async () => {
    expectRefusal(await postRpc(new Uint8Array([0x5b, 0xff, 0xfe, 0x5d])), "not UTF-8", 400, "invalid_request");
    // Declared too large: answered from the headers, the body never read.
    const declared = await rawRequest(`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${MAX_RPC_BATCH_BYTES + 1}\r\nConnection: close\r\n\r\n`);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error.code).toBe("payload_too_large");
    // Streamed past the limit without a length: answered once the limit passes, whatever is still coming.
    const streamed = await streamedPost("/rpc", MAX_RPC_BATCH_BYTES + 4 * 1024 * 1024);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).error.code).toBe("payload_too_large");
    for (const method of ["GET", "PUT", "DELETE"]) {
      expectRefusal(await answer(await fetch(`${host.url}/rpc`, { method, headers: AUTH })), method, 400, "invalid_request");
    }
    // A body cut short by the client: nothing to answer, nothing for the host's log.
    await new Promise<void>((resolve) => {
      const { hostname, port } = new URL(host.url);
      const socket = connect(Number(port), hostname, () => {
        socket.write(`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100000\r\n\r\n["push",`);
        setImmediate(() => socket.destroy());
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve());
    });
    // Without a token, still 401 first.
    expectRefusal(await answer(await fetch(`${host.url}/rpc`, { method: "POST", body: "x" })), "no token", 401, "unauthorized");
    await batchStillWorks();
    expect(host.logs()).not.toContain("internal error");
  });
});

/** POSTs `total` bytes of spaces, chunked, and resolves with the answer as soon as it comes (the rest may go unsent). */
function streamedPost(path: string, total: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${host.url}${path}`, { method: "POST", headers: AUTH });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", () => {}); // the host may stop reading once it has answered
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const write = () => {
      while (sent < total && !req.destroyed) {
        sent += chunk.byteLength;
        if (!req.write(chunk)) return void req.once("drain", write);
      }
      if (!req.destroyed) req.end();
    };
    write();
  });
}

function rawRequest(request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(host.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      if (split < 0) return reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      let body = text.slice(split + 4);
      // A chunked body: the JSON is between the first size line and the terminating chunk.
      if (/transfer-encoding: chunked/i.test(text.slice(0, split))) body = body.split("\r\n")[1] ?? "";
      resolve({ status: Number(text.split(" ")[1]), body });
    });
    socket.setTimeout(15_000, () => socket.destroy());
    socket.write(request);
  });
}

describe("commands too large for the kernel", () => {
  const exec = async (body: unknown, path = "/v1/sandboxes/big/exec") => answer(await host.call("POST", path, body));
  const long = "echo " + "a".repeat(200_000);

  it("answers a 200,000-character command with 400 on every route that runs one", async () => {
    for (const path of ["/v1/sandboxes/big/exec", "/v1/sandboxes/big/exec/stream", "/v1/sandboxes/big/processes", "/sandbox/big/exec"]) {
      const got = await exec({ command: long }, path);
      expectRefusal(got, path, 400, "invalid_request");
      expect(got.body.error!.message, path).toContain(`${MAX_ARG_BYTES} bytes`);
    }
    // Over Cap'n Web too.
    const api = newHttpBatchRpcSession<SandgateRpc>(new Request(`${host.url}/rpc`, { headers: AUTH }));
    await expect(api.sandbox("big").exec({ command: long })).rejects.toMatchObject({ code: "invalid_request" });
    // The limit is in bytes: 70,000 two-byte characters are 140,000 bytes.
    expectRefusal(await exec({ command: `: ${"é".repeat(70_000)}` }), "multi-byte", 400, "invalid_request");
    expect(host.logs()).not.toContain("internal error");
  });

  it("runs a command of exactly the limit", async () => {
    const counted = `printf %s ${"a".repeat(MAX_ARG_BYTES - 20)} | wc -c`;
    expect(counted.length).toBeLessThanOrEqual(MAX_ARG_BYTES);
    expect((await exec({ command: counted })).body).toMatchObject({ exitCode: 0, stdout: `${MAX_ARG_BYTES - 20}\n` });
    const exact = `: ${"a".repeat(MAX_ARG_BYTES - 2)}`;
    expect((await exec({ command: exact })).body).toMatchObject({ exitCode: 0 });
    expectRefusal(await exec({ command: `${exact}a` }), "one byte over", 400, "invalid_request");
  });

  it("refuses argv and env past their limits, and runs them at their limits with the sandbox's env at its own", async () => {
    const fill = (prefix: string) => {
      // Two variables whose NAME=value strings are MAX_ARG_BYTES each: MAX_ENV_BYTES in all with their NULs.
      const name = (s: string) => `${prefix}_${s}`;
      return { [name("A")]: "a".repeat(MAX_ARG_BYTES - name("A").length - 1), [name("B")]: "b".repeat(MAX_ARG_BYTES - name("B").length - 1) };
    };
    expect(2 * (MAX_ARG_BYTES + 1)).toBe(MAX_ENV_BYTES);
    expect((await host.json("POST", "/v1/sandboxes", { id: "big-env", env: fill("SB") })).status).toBe(201);

    const head = ["/bin/sh", "-c", 'echo "$#" ${#SB_A} ${#EX_B}', "x"];
    const argv = [...head];
    let used = head.reduce((sum, arg) => sum + arg.length + 1, 0);
    while (used < MAX_ARGV_BYTES) {
      const size = Math.min(MAX_ARG_BYTES, MAX_ARGV_BYTES - used - 1);
      argv.push("z".repeat(size));
      used += size + 1;
    }
    expect(used).toBe(MAX_ARGV_BYTES);
    const ran = await exec({ argv, env: fill("EX") }, "/v1/sandboxes/big-env/exec");
    expect(ran.body).toMatchObject({ exitCode: 0, stdout: `${argv.length - 4} ${MAX_ARG_BYTES - 5} ${MAX_ARG_BYTES - 5}\n` });
    const started = await exec({ argv: ["/bin/sh", "-c", "exit 0", ...argv.slice(3)], env: fill("EX") }, "/v1/sandboxes/big-env/processes");
    expect(started.status).toBe(201);

    const refusals: [string, string, unknown][] = [
      ["argv one byte over in all", "/v1/sandboxes/big-env/exec", { argv: [...argv.slice(0, -1), `${argv.at(-1)}z`] }],
      ["an argument over the limit", "/v1/sandboxes/big/exec", { argv: ["true", "a".repeat(MAX_ARG_BYTES + 1)] }],
      ["a multi-byte argument over the limit", "/v1/sandboxes/big/processes", { argv: ["true", "é".repeat(70_000)] }],
      ["env over in all", "/v1/sandboxes/big/exec", { command: "true", env: { ...fill("EX"), C: "c" } }],
      ["NAME=value over one argument", "/v1/sandboxes/big/exec", { command: "true", env: { LONG: "v".repeat(MAX_ARG_BYTES - 4) } }],
      ["too many variables", "/v1/sandboxes/big/exec", { command: "true", env: Object.fromEntries(Array.from({ length: MAX_ENV_VARS + 1 }, (_, i) => [`V${i}`, "1"])) }],
      ["sandbox env over in all", "/v1/sandboxes", { id: "big-env-2", env: { ...fill("SB"), C: "c" } }],
    ];
    for (const [what, path, body] of refusals) expectRefusal(await exec(body, path), what, 400, "invalid_request");
    expectRefusal(await answer(await host.call("PATCH", "/v1/sandboxes/big-env", { env: { ...fill("SB"), C: "c" } })), "sandbox env update", 400, "invalid_request");
    // The edges of the refusals above are allowed: NAME=value of exactly one argument, exactly MAX_ENV_VARS variables.
    expect((await exec({ command: "true", env: { LONG: "v".repeat(MAX_ARG_BYTES - 5) } })).status).toBe(200);
    expect((await exec({ command: "true", env: Object.fromEntries(Array.from({ length: MAX_ENV_VARS }, (_, i) => [`V${i}`, "1"])) })).status).toBe(200);
    expect(host.logs()).not.toContain("internal error");
  });

  it("states the limits in the document", async () => {
    const doc = (await (await fetch(`${host.url}/openapi.json`)).json()) as { components: { schemas: Record<string, any> } };
    const exec = doc.components.schemas.ExecRequest;
    expect(exec.properties.command.maxLength).toBe(MAX_ARG_BYTES);
    expect(exec.properties.command.description).toContain(`${MAX_ARG_BYTES} bytes`);
    expect(exec.properties.argv.items.maxLength).toBe(MAX_ARG_BYTES);
    expect(exec.properties.argv.description).toContain(`${MAX_ARGV_BYTES} bytes in all`);
    expect(exec.properties.env.maxProperties).toBe(MAX_ENV_VARS);
    expect(exec.properties.env.description).toContain(`${MAX_ENV_BYTES} bytes in all`);
    expect(doc.components.schemas.StartProcessRequest.properties.command.maxLength).toBe(MAX_ARG_BYTES);
  });

  it("maps E2BIG, should a command still be too large for the kernel, to 400", () => {
    const spawnError = Object.assign(new Error("spawn E2BIG"), { code: "E2BIG", errno: -7, syscall: "spawn" });
    const mapped = toSandgateError(spawnError);
    expect(mapped).toBeInstanceOf(SandgateError);
    expect(mapped.code).toBe("invalid_request");
    expect(httpStatusOf[mapped.code]).toBe(400);
    // Control: other failures stay internal.
    expect(toSandgateError(Object.assign(new Error("spawn EAGAIN"), { code: "EAGAIN" })).code).toBe("internal");
  });
});
