import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestHost, cgroupModelOf, descendants, eventually, isRoot, readEvents, startHost } from "./host.ts";

let host: TestHost;
beforeAll(async () => {
  host = await startHost();
  expect((await host.json("POST", "/v1/sandboxes", { id: "ex", env: { FROM_SANDBOX: "sb", SHARED: "sandbox" } })).status).toBe(201);
});
afterAll(async () => {
  await host.stop();
});

const exec = (body: unknown, id = "ex") => host.json("POST", `/v1/sandboxes/${id}/exec`, body);

/**
 * The cgroup model the host limits sandboxes with. As root the README promises a cgroup per sandbox,
 * so a host without one fails the test loudly; without root the test is skipped with the reason
 * printed (and `npm run reliability` counts any skip as a failure).
 */
function cgroupModel(ctx: { skip(note?: string): void }): string | undefined {
  const model = cgroupModelOf(host);
  if (isRoot) {
    expect(model, `running as root, yet the host limits no sandbox with cgroups:\n${host.logs()}`).toMatch(/^v[12]$/);
    return model;
  }
  const reason = "not root: this machine gives the host no cgroups, so per-sandbox limits are not in force";
  console.warn(`exec.test.ts: skipped: ${reason}`);
  ctx.skip(reason);
  return undefined;
}

/** The directories of sandbox `id`'s cgroups under this host's parent group, for the model in use. */
function sandboxGroups(model: string, id: string): string[] {
  const roots = model === "v1" ? ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory"] : ["/sys/fs/cgroup"];
  return roots.flatMap((root) => (existsSync(root) ? readdirSync(root).filter((name) => name.startsWith("sandgate-") && hostOwns(name)).map((parent) => `${root}/${parent}/${id}`) : []));
}

/** Whether a cgroup parent is this file's host's (named by a hash of its real data dir). */
function hostOwns(parent: string): boolean {
  return parent === `sandgate-${createHash("sha256").update(realpathSync(host.dataDir)).digest("hex").slice(0, 12)}`;
}

/** No process started by the host may outlive its exec. */
async function expectNoLeftovers() {
  await eventually(() => descendants(host.pid).length === 0, 5000);
  // The host's groups are named sandgate-<hash of its data dir>; this file's host has its own.
  const model = cgroupModelOf(host);
  if (!model) return; // no cgroups (not root): the process check above is all there is; cgroupModel() says why
  let checked = 0;
  for (const group of sandboxGroups(model, "ex")) {
    const procs = `${group}/cgroup.procs`;
    if (!existsSync(procs)) continue;
    // Only the sandbox's environment (bubblewrap and its agent) stays in the sandbox's group.
    const left = readFileSync(procs, "utf8").trim().split("\n").filter(Boolean);
    const commands = left.filter((pid) => !/\((bwrap|agent)\)/.test(readFileSync(`/proc/${pid}/stat`, "utf8")));
    expect(commands).toEqual([]);
    checked++;
  }
  expect(checked, `no cgroup of sandbox 'ex' found for cgroup ${model}`).toBeGreaterThan(0);
}

describe("buffered exec", () => {
  it("runs a shell command in /workspace with the sandbox's env", async () => {
    const res = await exec({ command: 'echo "$FROM_SANDBOX $SHARED $HOME"; pwd; echo err >&2; exit 7', env: { SHARED: "exec" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ exitCode: 7, stdout: "sb exec /workspace\n/workspace\n", stderr: "err\n", timedOut: false, truncated: false });
    expect(res.body.durationMs).toBeGreaterThan(0);
  });

  it("runs argv without a shell, with cwd and stdin", async () => {
    await exec({ command: "mkdir -p sub/dir" });
    const res = await exec({ argv: ["/bin/sh", "-c", 'pwd; cat; echo "$0"', "$HOME not expanded"], cwd: "sub/dir", stdin: "from stdin\n" });
    expect(res.body.stdout).toBe("/workspace/sub/dir\nfrom stdin\n$HOME not expanded\n");
    const missing = await exec({ argv: ["/nonexistent/program"] });
    expect(missing.status).toBe(200);
    expect(missing.body.exitCode).not.toBe(0);
  });

  it("rejects a cwd that does not exist and bodies with neither or both of command and argv", async () => {
    const cwd = await exec({ command: "true", cwd: "/workspace/not/here" });
    expect(cwd.status).toBe(400);
    expect(cwd.body.error.code).toBe("invalid_request");
    expect(cwd.body.error.message).toContain("cwd");
    for (const body of [{}, { command: "a", argv: ["b"] }, { command: "" }, { argv: [] }, { command: "x\u0000y" }, { command: "true", timeoutMs: -5 }, { command: "true", timeoutMs: 1e15 }]) {
      const res = await exec(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
  });

  it("answers 404 for an unknown sandbox", async () => {
    const res = await exec({ command: "true" }, "missing");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("kills the whole process tree on timeout and leaves nothing behind", async () => {
    const started = Date.now();
    const res = await exec({ command: "sleep 30 & sleep 30 & (sh -c 'sleep 30') ; wait", timeoutMs: 500 });
    expect(res.body).toMatchObject({ timedOut: true, exitCode: 137 });
    expect(Date.now() - started).toBeLessThan(5000);
    await expectNoLeftovers();
  });

  it("caps output and says so", async () => {
    const res = await exec({ command: "head -c 11000000 /dev/zero | tr '\\0' a; echo done >&2" });
    expect(res.body.truncated).toBe(true);
    expect(res.body.stdout.length).toBe(10 * 1024 * 1024);
    expect(res.body.stderr).toBe("done\n");
    expect(res.body.exitCode).toBe(0);
  });

  it("runs 50 execs across 10 sandboxes at once", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `par-${i}`);
    await Promise.all(ids.map((id) => host.json("POST", "/v1/sandboxes", { id })));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => exec({ command: `echo ${i} > n-${i}; cat n-${i}` }, ids[i % 10])),
    );
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ exitCode: 0, stdout: `${i}\n` });
    });
    const listing = await host.json("GET", "/v1/sandboxes/par-3/files");
    expect(listing.body.entries.map((e: { name: string }) => e.name)).toEqual(["n-13", "n-23", "n-3", "n-33", "n-43"]);
  });
});

describe("isolation", () => {
  it("shows no host processes, no capabilities, loopback only, a read-only system", async () => {
    const res = await exec({
      command: [
        "ls /proc | grep -E '^[0-9]+$' | wc -l",
        "grep CapEff /proc/self/status",
        "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '",
        "touch /usr/x 2>&1 || echo usr-readonly",
        "id -u",
        "test -e /root/.bashrc || echo no-root-home",
        "test -e /etc/shadow || echo no-shadow",
      ].join("; "),
    });
    const lines = res.body.stdout.trim().split("\n");
    expect(Number(lines[0])).toBeLessThanOrEqual(6); // the environment's init and agent, this shell and its pipeline; none of the host's
    expect(lines[1]).toBe("CapEff:\t0000000000000000");
    expect(lines[2]).toBe("lo");
    expect(res.body.stdout).toContain("usr-readonly");
    expect(lines).toContain("1000");
    expect(lines).toContain("no-root-home");
    expect(lines).toContain("no-shadow");
  });

  it("cannot reach the host's services", async () => {
    // The host itself listens on 127.0.0.1; inside, 127.0.0.1 is the sandbox's own loopback.
    const port = new URL(host.url).port;
    const res = await exec({ command: `python3 -c "import socket; s=socket.socket(); s.settimeout(2); s.connect(('127.0.0.1', ${port}))" 2>&1 | tail -1` });
    expect(res.body.stdout).toMatch(/refused|unreachable/i);
  });

  it("keeps sandboxes apart and gives each a private /tmp that lasts across commands", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "other" });
    await exec({ command: "echo secret > /workspace/mine; echo t > /tmp/keep" });
    expect((await exec({ command: "cat /tmp/keep" })).body.stdout).toBe("t\n");
    const peek = await exec({ command: "ls /workspace/mine 2>&1; cat /tmp/keep 2>&1; ls / " }, "other");
    expect(peek.body.stdout).toContain("No such file");
    expect(peek.body.stdout).not.toContain("secret");
    expect(readdirSync(host.dataDir)).not.toContain("mine");
  });

  it("limits processes per sandbox (fork bomb) without hurting the host or other sandboxes", async (ctx) => {
    const model = cgroupModel(ctx);
    if (!model) return;
    // Positive control: the limit is really written on the sandbox's group.
    const limits = sandboxGroups(model, "ex").filter((group) => existsSync(`${group}/pids.max`));
    expect(limits.length, `no pids.max for sandbox 'ex' under cgroup ${model}`).toBeGreaterThan(0);
    for (const group of limits) expect(readFileSync(`${group}/pids.max`, "utf8").trim()).toBe("512");
    const bomb = await exec({ command: "for i in $(seq 1 2000); do sleep 5 & done 2>&1 | tail -1; echo spawned", timeoutMs: 20_000 });
    expect(bomb.body.stdout + bomb.body.stderr).toMatch(/fork|resource|Cannot/i);
    const fine = await exec({ command: "echo still fine" }, "other");
    expect(fine.body.stdout).toBe("still fine\n");
  });
});

describe("streaming exec", () => {
  it("streams stdout and stderr events, then exit", async () => {
    const res = await host.call("POST", "/v1/sandboxes/ex/exec/stream", { command: "echo one; sleep 0.2; echo two >&2; printf 'é'; exit 3" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readEvents(res);
    const out = events.filter((e) => e.event === "stdout").map((e) => e.data.data).join("");
    const err = events.filter((e) => e.event === "stderr").map((e) => e.data.data).join("");
    expect(out).toBe("one\né");
    expect(err).toBe("two\n");
    const last = events.at(-1)!;
    expect(last.event).toBe("exit");
    expect(last.data).toMatchObject({ type: "exit", exitCode: 3, timedOut: false });
  });

  it("answers errors before streaming as plain JSON", async () => {
    const res = await host.json("POST", "/v1/sandboxes/missing/exec/stream", { command: "true" });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("kills the command when the client goes away", async () => {
    const controller = new AbortController();
    const res = await fetch(`${host.url}/v1/sandboxes/ex/exec/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command: "echo started; while true; do echo tick; sleep 0.1; done" }),
      signal: controller.signal,
    });
    // Read until the command has printed, keeping the connection open.
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("event: stdout")) seen += new TextDecoder().decode((await reader.read()).value);
    expect(descendants(host.pid).length).toBeGreaterThan(0);
    controller.abort();
    await expectNoLeftovers();
    expect((await exec({ command: "echo alive" })).body.stdout).toBe("alive\n");
  });

  it("streams a timeout as an exit event", async () => {
    const res = await host.call("POST", "/v1/sandboxes/ex/exec/stream", { command: "echo a; sleep 10", timeoutMs: 300 });
    const events = await readEvents(res);
    expect(events.at(-1)!.data).toMatchObject({ type: "exit", timedOut: true, exitCode: 137 });
  });
});
