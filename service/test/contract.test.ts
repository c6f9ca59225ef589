import { request } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { operations } from "../src/core/operations.ts";
import { resolveWorkspacePath } from "../src/core/paths.ts";
import { openApiJson } from "../src/surfaces/document.ts";
import { startHost } from "./host.ts";

const committed = readFileSync(join(import.meta.dirname, "..", "..", "openapi", "openapi.json"), "utf8");

describe("the contract", () => {
  it("matches the committed openapi/openapi.json (run `npm run gen` after changing a schema)", () => {
    expect(openApiJson()).toBe(committed);
  });

  it("is what a running host serves", async () => {
    const host = await startHost();
    try {
      expect(await (await fetch(`${host.url}/openapi.json`)).json()).toEqual(JSON.parse(committed));
    } finally {
      await host.stop();
    }
  });

  it("documents every operation of the table, and nothing else besides the compat profile", () => {
    const doc = JSON.parse(committed) as { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths)
      .filter(([path]) => !path.startsWith("/sandbox/"))
      .flatMap(([path, methods]) => Object.entries(methods).map(([m, o]) => `${m} ${path} ${o.operationId}`));
    const table = Object.values(operations).map((o) => `${o.method} ${o.path} ${o.operationId}`);
    expect(documented.sort()).toEqual(table.sort());
  });

  it("lists as top-level tags exactly the tags its operations use, each described", () => {
    const doc = JSON.parse(committed) as { tags: { name: string; description?: string }[]; paths: Record<string, Record<string, { tags?: string[] }>> };
    const used = new Set(Object.values(doc.paths).flatMap((methods) => Object.values(methods).flatMap((o) => o.tags ?? [])));
    // Control: the table's groups and the compat profile's are among them.
    expect(used).toContain("snapshots");
    expect(used).toContain("compat");
    expect(doc.tags.map((t) => t.name).sort()).toEqual([...used].sort());
    expect(doc.tags.filter((t) => !t.description)).toEqual([]);
  });
});

describe("what the document promises about requests", () => {
  const doc = JSON.parse(committed) as {
    paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: { error: { code: string } } }> }> }> }>>;
    components: { schemas: Record<string, Record<string, unknown>> };
  };

  it("gives each error status its own example, with the code that status carries", () => {
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!/^[45]\d\d$/.test(status) || !response.content?.["application/json"]) continue;
          const examples = response.content["application/json"].examples;
          expect(examples, `${method} ${path} ${status}`).toBeDefined();
          for (const [code, example] of Object.entries(examples!)) {
            expect(example.value.error.code, `${method} ${path} ${status}`).toBe(code);
            checked++;
          }
          if (status === "401") expect(Object.keys(examples!)).toEqual(["unauthorized"]);
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("states exactly one of command or argv, base64 content and unique scopes", () => {
    const { ExecRequest, StartProcessRequest, WriteFileRequest, CreateTokenRequest } = doc.components.schemas;
    for (const schema of [ExecRequest, StartProcessRequest]) {
      expect(schema).toMatchObject({ not: { required: ["command", "argv"] }, if: { required: ["command"] }, else: { required: ["argv"] } });
    }
    expect(WriteFileRequest).toMatchObject({ then: { properties: { content: { contentEncoding: "base64" } } } });
    expect(CreateTokenRequest).toMatchObject({ properties: { scopes: { uniqueItems: true } } });
  });

  it("answers a method a path does not take with 405 and Allow, and a trailing slash with a hint", async () => {
    const host = await startHost();
    try {
      // fetch refuses TRACE; node:http sends it.
      const trace = await rawRequest(`${host.url}/health`, "TRACE");
      expect(trace.status).toBe(405);
      expect(trace.allow).toBe("GET, HEAD");
      expect((JSON.parse(trace.body) as { error: { code: string } }).error.code).toBe("method_not_allowed");
      const getExec = await fetch(`${host.url}/v1/sandboxes/demo/exec`);
      expect(getExec.status).toBe(405);
      expect(getExec.headers.get("allow")).toBe("POST");
      const slash = await fetch(`${host.url}/v1/sandboxes/`);
      expect(slash.status).toBe(404);
      expect(((await slash.json()) as { error: { message: string } }).error.message).toContain("did you mean /v1/sandboxes (without the trailing slash)");
      // The controls: the declared method works, and a path that names nothing stays a plain 404.
      expect((await fetch(`${host.url}/health`)).status).toBe(200);
      const nothing = await rawRequest(`${host.url}/v1/nothing-here`, "TRACE");
      expect(nothing.status).toBe(404);
      expect(nothing.allow).toBeUndefined();
    } finally {
      await host.stop();
    }
  });
});

function rawRequest(url: string, method: string): Promise<{ status: number; allow: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("deploy artifacts", () => {
  it("builds the container from the same version of the sandbox image as the SDK in package.json", () => {
    const root = join(import.meta.dirname, "..", "..");
    const sdk = (JSON.parse(readFileSync(join(root, "service", "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@cloudflare/sandbox"];
    expect(sdk).toMatch(/^\d+\.\d+\.\d+$/); // pinned exactly, so the image cannot drift from it
    expect(readFileSync(join(root, "Dockerfile"), "utf8")).toContain(`FROM docker.io/cloudflare/sandbox:${sdk}\n`);
  });
});

describe("workspace paths", () => {
  it.each([
    ["a.txt", "/workspace/a.txt"],
    ["/workspace", "/workspace"],
    ["/workspace/", "/workspace"],
    ["./a/./b/../c", "/workspace/a/c"],
    ["/workspace//x///y", "/workspace/x/y"],
    ["a/..", "/workspace"],
  ])("resolves %s to %s", (input, abs) => {
    expect(resolveWorkspacePath(input).abs).toBe(abs);
  });

  it.each(["..", "../x", "/etc/passwd", "/workspace/../etc", "/workspacex/a", "a/../../b", "/"])("refuses %s", (input) => {
    expect(() => resolveWorkspacePath(input)).toThrowError(/outside \/workspace/);
  });
});
