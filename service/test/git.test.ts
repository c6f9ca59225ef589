import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestHost, startHost } from "./host.ts";

/**
 * Git checkout, create-time and later, cloning real repositories made inside the sandbox with git
 * (a `file://` URL names the sandbox's own files: the clone runs there).
 */
let host: TestHost;
const IDENTITY = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };

const exec = async (id: string, command: string) => {
  const res = await host.json("POST", `/v1/sandboxes/${id}/exec`, { command, env: IDENTITY });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { exitCode: number; stdout: string; stderr: string };
};
const checkout = (id: string, body: unknown) => host.json("POST", `/v1/sandboxes/${id}/git/checkout`, body);

beforeAll(async () => {
  host = await startHost({ token: "git-test-token" });
  expect((await host.json("POST", "/v1/sandboxes", { id: "git" })).status).toBe(201);
  // A bare repository with a three-commit `main` and a `feature` branch one commit further.
  const made = await exec(
    "git",
    [
      "set -e",
      "git init -q --bare -b main origin.git",
      "git clone -q origin.git work 2>/dev/null",
      "cd work",
      "git checkout -q -b main",
      "for n in 1 2 3; do echo main $n > file.txt; git add file.txt; git commit -qm main-$n; done",
      "git push -q origin main",
      "git checkout -q -b feature",
      "echo feature > file.txt; git commit -qam feature",
      "git push -q origin feature",
      "git rev-parse main feature",
    ].join("\n"),
  );
  expect(made.exitCode, made.stderr).toBe(0);
});
afterAll(async () => {
  await host.stop();
});

describe("gitCheckout", () => {
  it("clones the default branch into /workspace/<repository name>", async () => {
    const res = await checkout("git", { url: "file:///workspace/origin.git" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ dir: "/workspace/origin", branch: "main" });
    expect(res.body.commit).toMatch(/^[0-9a-f]{40}$/);
    const read = await host.json("POST", "/v1/sandboxes/git/files/read", { path: "origin/file.txt" });
    expect(read.body.content).toBe("main 3\n");
  });

  it("takes a branch, a depth and a directory", async () => {
    const res = await checkout("git", { url: "file:///workspace/origin.git", branch: "feature", depth: 1, dir: "shallow/feature" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ dir: "/workspace/shallow/feature", branch: "feature" });
    const count = await exec("git", "git -C shallow/feature rev-list --count HEAD && cat shallow/feature/file.txt");
    expect(count.stdout).toBe("1\nfeature\n");
  });

  it("answers 404 for a branch the repository does not have", async () => {
    const res = await checkout("git", { url: "file:///workspace/origin.git", branch: "nope", dir: "nope" });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
    expect(res.body.error.message).toContain("branch 'nope'");
  });

  it("answers 404 for a repository that is not there", async () => {
    const res = await checkout("git", { url: "file:///workspace/missing.git" });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain("no repository");
  });

  it("answers 409 when the directory is not empty", async () => {
    const res = await checkout("git", { url: "file:///workspace/origin.git", dir: "work" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
  });

  it("answers 502 when the remote cannot be reached", async () => {
    const res = await checkout("git", { url: "http://127.0.0.1:9/repo.git", dir: "unreachable" });
    expect(res.status, JSON.stringify(res.body)).toBe(502);
    expect(res.body.error.code).toBe("upstream_unavailable");
  });

  it("answers 403 when the remote asks for credentials, without prompting", async () => {
    // A server in the sandbox that refuses everyone, as a private repository does.
    const server = [
      "import http.server",
      "class H(http.server.BaseHTTPRequestHandler):",
      "    def do_GET(self):",
      "        self.send_response(401); self.send_header('WWW-Authenticate', 'Basic realm=\"git\"'); self.send_header('Content-Length', '0'); self.end_headers()",
      "http.server.HTTPServer(('0.0.0.0', 8181), H).serve_forever()",
    ].join("\n");
    const started = await host.json("POST", "/v1/sandboxes/git/processes", { argv: ["python3", "-c", server] });
    expect(started.status).toBe(201);
    const ready = await host.json("POST", `/v1/sandboxes/git/processes/${started.body.id}/wait-for-port`, { port: 8181, timeoutMs: 10_000 });
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    const res = await checkout("git", { url: "http://127.0.0.1:8181/private.git", dir: "private" });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    expect(res.body.error.message).toContain("could not authenticate");
    await host.json("DELETE", `/v1/sandboxes/git/processes/${started.body.id}?signal=KILL`);
  });

  it("keeps credentials in a URL out of its messages", async () => {
    const res = await checkout("git", { url: "http://user:s3cret-token@127.0.0.1:9/repo.git", dir: "secret" });
    expect(res.status).toBe(502);
    expect(JSON.stringify(res.body)).not.toContain("s3cret-token");
  });

  /** Whether `path` exists, seen from inside the sandbox. */
  const existsInside = async (path: string) => {
    const res = await host.json("POST", "/v1/sandboxes/git/exec", { command: `test -e ${path} && echo yes || echo no` });
    expect(res.status).toBe(200);
    return res.body.stdout as string;
  };
  /**
   * Control: the payload's own command, run plainly in this sandbox, does make its marker (so a missing
   * /workspace/pwned means the injection did not run, not that touch cannot write there).
   */
  const injectionControl = async () => {
    const res = await host.json("POST", "/v1/sandboxes/git/exec", { command: "rm -f /workspace/pwned; touch /workspace/pwned-control" });
    expect(res.body.exitCode).toBe(0);
    expect(await existsInside("/workspace/pwned-control")).toBe("yes\n");
    expect(await existsInside("/workspace/pwned")).toBe("no\n");
  };

  it.each([
    ["an option", "-uhttps://example.com/x.git"],
    ["git's command transport", "ext::sh -c touch% /workspace/pwned"],
    ["no scheme", "origin.git"],
    ["a local path", "/workspace/origin.git"],
  ])("refuses %s as a URL with 400, and runs nothing", async (_what, url) => {
    await injectionControl();
    const res = await checkout("git", { url });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(await existsInside("/workspace/pwned")).toBe("no\n");
  });

  it("refuses a directory outside /workspace and /workspace itself", async () => {
    expect((await checkout("git", { url: "file:///workspace/origin.git", dir: "../etc" })).status).toBe(403);
    expect((await checkout("git", { url: "file:///workspace/origin.git", dir: "/workspace" })).status).toBe(400);
  });

  it("refuses a branch that would be an option, and runs nothing", async () => {
    await injectionControl();
    const res = await checkout("git", { url: "file:///workspace/origin.git", branch: "--upload-pack=touch /workspace/pwned" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(await existsInside("/workspace/pwned")).toBe("no\n");
  });
});

describe("createSandbox with git", () => {
  it("leaves no sandbox behind when the clone fails", async () => {
    const res = await host.json("POST", "/v1/sandboxes", { id: "git-failed", git: { url: "file:///workspace/none.git" } });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain("no repository");
    expect((await host.json("GET", "/v1/sandboxes/git-failed")).status).toBe(404);
    // The id is free again.
    expect((await host.json("POST", "/v1/sandboxes", { id: "git-failed" })).status).toBe(201);
  });
});

describe("sandbox-wide env", () => {
  it("is replaced by PATCH env and lies under each command's own", async () => {
    expect((await host.json("POST", "/v1/sandboxes", { id: "env", env: { A: "1", B: "2" } })).status).toBe(201);
    const patched = await host.json("PATCH", "/v1/sandboxes/env", { env: { B: "3", C: "4" } });
    expect(patched.status).toBe(200);
    const res = await host.json("POST", "/v1/sandboxes/env/exec", { command: 'echo "${A:-unset} $B $C"', env: { C: "override" } });
    expect(res.body.stdout).toBe("unset 3 override\n");
  });
});
