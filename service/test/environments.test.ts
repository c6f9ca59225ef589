/**
 * One long-lived environment per sandbox (local runtime): what runs in it, how it ends, how it
 * stops when idle and comes back, and the fallbacks without root or without isolation. Everything is
 * looked at from the host's side as well (its /proc, its mounts), not only from inside.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestHost, descendants, eventually, removeDir, startHost, tempDir } from "./host.ts";

/** Host processes below `pid` with their command names (the environments' own included). */
function tree(pid: number): { pid: number; comm: string; state: string }[] {
  const all = new Map<number, { ppid: number; comm: string; state: string }>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      all.set(Number(name), { ppid: Number(rest[1]), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), state: rest[0]! });
    } catch {
      // gone
    }
  }
  const out: { pid: number; comm: string; state: string }[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const parent = todo.pop()!;
    for (const [child, info] of all) if (info.ppid === parent) (out.push({ pid: child, comm: info.comm, state: info.state }), todo.push(child));
  }
  return out;
}

const agents = (host: TestHost) => tree(host.pid).filter((p) => p.comm === "agent");
const mounts = (fragment: string) => readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(fragment));

describe("one environment per sandbox", () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startHost({ env: { SANDGATE_IDLE_STOP_SECONDS: "2" } });
  });
  afterAll(async () => {
    await host.stop();
    removeDir(host.dataDir);
  });
  const exec = async (id: string, command: string) => (await host.json("POST", `/v1/sandboxes/${id}/exec`, { command })).body;

  it("starts on first use, and an exec's ps shows the sandbox's background processes and nothing else", async () => {
    expect((await host.json("POST", "/v1/sandboxes", { id: "envs-a" })).status).toBe(201);
    expect((await host.json("POST", "/v1/sandboxes", { id: "envs-b" })).status).toBe(201);
    const before = agents(host).length;
    const started = await host.json("POST", "/v1/sandboxes/envs-a/processes", { argv: ["sleep", "4242"] });
    expect(started.status).toBe(201);
    await exec("envs-b", "sleep 4343 >/dev/null 2>&1 & true");
    expect(agents(host).length).toBe(before + 2); // one agent per sandbox, seen from the host
    const ps = await exec("envs-a", "ps -eo pid,args");
    expect(ps.stdout).toContain("sleep 4242"); // its own background process
    expect(ps.stdout).not.toContain("4343"); // not the other sandbox's
    expect(ps.stdout).not.toContain("node"); // nor the host's
    const lines = ps.stdout.trim().split("\n").slice(1);
    expect(lines.length).toBeLessThanOrEqual(6); // bubblewrap's init, the agent, sleep, this shell and ps
  });

  it("gives commands no way into the agent that starts them (no ptrace, no descriptors, no memory)", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "envs-agent" });
    const probe = [
      "cat /proc/2/comm", // the agent is there, and visible: the probes below aim at the right process
      "ls /proc/self/fd >/dev/null && echo own-fds-ok", // positive control: a process's own descriptors
      "ls /proc/2/fd 2>&1 | head -1",
      "cat /proc/2/environ 2>&1 | head -1",
      "head -c1 /proc/2/mem 2>&1 | head -1",
      `python3 -c "import ctypes; l=ctypes.CDLL(None, use_errno=True); r=l.ptrace(16, 2, 0, 0); print('ptrace', r, ctypes.get_errno())"`,
    ].join("; ");
    const lines = (await exec("envs-agent", probe)).stdout.trim().split("\n");
    expect(lines[0]).toBe("agent");
    expect(lines[1]).toBe("own-fds-ok");
    expect(lines[2]).toMatch(/Permission denied/);
    expect(lines[3]).toMatch(/Permission denied/);
    expect(lines[4]).toMatch(/Permission denied|Input\/output error/);
    expect(lines[5]).toBe("ptrace -1 1"); // EPERM
  });

  it("kills a command's whole tree and nothing else, and leaves no zombie or stray process", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "envs-kill" });
    const keep = await host.json("POST", "/v1/sandboxes/envs-kill/processes", { argv: ["sleep", "5151"] });
    const res = await host.json("POST", "/v1/sandboxes/envs-kill/exec", { command: "sleep 5252 & (sleep 5353 &) ; setsid sleep 5454 & sleep 5555", timeoutMs: 800 });
    expect(res.body).toMatchObject({ timedOut: true, exitCode: 137 });
    const sleeps = () => tree(host.pid).map((p) => readFileSync(`/proc/${p.pid}/cmdline`, "utf8").replaceAll("\0", " ")).filter((c) => c.startsWith("sleep "));
    // Positive control: the background process of the same sandbox is still there.
    await eventually(() => !sleeps().some((c) => /52|53|55/.test(c.slice(6, 8))), 5000);
    expect(sleeps()).toContain("sleep 5151 ");
    expect(tree(host.pid).filter((p) => p.state === "Z")).toEqual([]);
    expect((await host.json("DELETE", `/v1/sandboxes/envs-kill/processes/${keep.body.id}?signal=KILL`)).body.status).toBe("killed");
    await eventually(() => !sleeps().includes("sleep 5151 "), 5000);
  });

  it("stops an idle environment, keeps its files, and starts it again on the next command", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "envs-idle" });
    expect((await exec("envs-idle", "echo kept > f.txt; echo $$")).stdout).toMatch(/^\d+\n$/);
    const count = () => agents(host).length;
    const running = count();
    // Nothing runs in it: after the idle time (2 s here) its environment is gone from the host...
    await eventually(async () => count() < running, 15_000);
    await eventually(() => mounts("/envs-idle ").length + mounts("/envs-idle/").length === 0, 5000); // its disk, unmounted
    // ...and the next command brings it back, with the workspace as it was.
    expect((await exec("envs-idle", "cat f.txt")).stdout).toBe("kept\n");
  });

  it("is not stopped while a background process runs", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "envs-busy" });
    const proc = await host.json("POST", "/v1/sandboxes/envs-busy/processes", { command: "while true; do date +%s%N >> ticks; sleep 0.2; done" });
    // A second sandbox left idle at the same time: once its environment is stopped, the idle stopper
    // has run past the idle time with the busy one in view (this is the control, not a sleep).
    await host.json("POST", "/v1/sandboxes", { id: "envs-quiet" });
    await exec("envs-quiet", "true");
    const quietAgents = () => tree(host.pid).filter((p) => p.comm === "agent").length;
    const withQuiet = quietAgents();
    await eventually(() => quietAgents() < withQuiet, 15_000);
    const info = await host.json("GET", `/v1/sandboxes/envs-busy/processes/${proc.body.id}`);
    expect(info.body.status).toBe("running");
    // ...and still ticking afterwards, in the same environment.
    const ticks = async () => Number((await exec("envs-busy", "wc -l < ticks")).stdout.trim());
    const seen = await ticks();
    expect(seen).toBeGreaterThan(0);
    await eventually(async () => (await ticks()) > seen, 5000);
  });

  it("ends everything in it when the sandbox is deleted, and unmounts its disk", async () => {
    await host.json("POST", "/v1/sandboxes", { id: "envs-del" });
    await host.json("POST", "/v1/sandboxes/envs-del/processes", { argv: ["sleep", "6161"] });
    const agentsBefore = agents(host).length;
    expect(tree(host.pid).some((p) => p.comm === "sleep")).toBe(true);
    const started = Date.now();
    expect((await host.call("DELETE", "/v1/sandboxes/envs-del")).status).toBe(204);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(agents(host).length).toBe(agentsBefore - 1);
    expect(mounts("/envs-del ").length).toBe(0);
  });
});

describe("host restarts", () => {
  it("leaks no environment or mount of a killed host, and reports its processes lost", async () => {
    const dataDir = tempDir();
    const first = await startHost({ dataDir });
    let second: TestHost | undefined;
    try {
      await first.json("POST", "/v1/sandboxes", { id: "survivor" });
      const proc = await first.json("POST", "/v1/sandboxes/survivor/processes", { argv: ["sleep", "7171"] });
      await first.json("POST", "/v1/sandboxes/survivor/exec", { command: "echo on-disk > f.txt" });
      const agentPids = agents(first).map((p) => p.pid);
      expect(agentPids.length).toBe(1);
      await first.stop("SIGKILL");
      await eventually(() => agentPids.every((pid) => !readdirSync("/proc").includes(String(pid))), 5000);
      second = await startHost({ dataDir });
      expect((await second.json("GET", `/v1/sandboxes/survivor/processes/${proc.body.id}`)).body.status).toBe("lost");
      expect((await second.json("POST", "/v1/sandboxes/survivor/exec", { command: "cat f.txt" })).body.stdout).toBe("on-disk\n");
      expect(agents(second).length).toBe(1);
    } finally {
      await first.stop("SIGKILL");
      await second?.stop();
      // A clean stop leaves nothing mounted for this data directory.
      expect(mounts(join(dataDir, "sandboxes")).length).toBe(0);
      removeDir(dataDir);
    }
  });
});

describe("fallbacks", () => {
  it("works without root: sandboxes run as the host's own user, no quota, files and exec as usual", async () => {
    // The host runs as nobody, over a data directory nobody owns; bubblewrap needs no privilege.
    const dataDir = tempDir();
    chmodSync(dataDir, 0o755);
    chownSync(dataDir, 65534, 65534);
    const home = join(dataDir, "home");
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    const unprivileged = await startHost({
      dataDir,
      wrapper: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"],
      env: { HOME: home },
    });
    try {
      expect(unprivileged.logs()).toContain("no per-sandbox disk quota");
      expect((await unprivileged.json("POST", "/v1/sandboxes", { id: "plain" })).status).toBe(201);
      const res = await unprivileged.json("POST", "/v1/sandboxes/plain/exec", { command: "id -u; echo x > f; cat f" });
      expect(res.body.stdout).toBe("1000\nx\n");
      expect((await unprivileged.json("GET", "/v1/sandboxes/plain/files/stat?path=f")).body.size).toBe(2);
      // Restores without root: the content goes through the agent's tar stream (no descriptor lent).
      expect(unprivileged.logs()).toContain("through the agent's tar stream");
      await unprivileged.json("POST", "/v1/sandboxes/plain/exec", { command: "head -c 300000 /dev/urandom > big; : > empty; sha256sum big > sum" });
      const snap = await unprivileged.json("POST", "/v1/sandboxes/plain/snapshots", {});
      expect(snap.status, JSON.stringify(snap.body)).toBe(201);
      await unprivileged.json("POST", "/v1/sandboxes/plain/exec", { command: "rm big empty; echo changed > f" });
      expect((await unprivileged.json("POST", "/v1/sandboxes/plain/restore", { snapshotId: snap.body.id })).status).toBe(200);
      const back = await unprivileged.json("POST", "/v1/sandboxes/plain/exec", { command: "sha256sum -c sum && cat f && test -f empty && echo restored" });
      expect(back.body.stdout).toBe("big: OK\nx\nrestored\n");
      expect(descendants(unprivileged.pid).length).toBe(0);
    } finally {
      await unprivileged.stop();
      removeDir(dataDir);
    }
  });

  it("works with --isolation=none (the agent runs on the host, over the workspace directory)", async () => {
    const none = await startHost({ args: ["--isolation", "none"] });
    try {
      expect((await none.json("POST", "/v1/sandboxes", { id: "bare" })).status).toBe(201);
      const res = await none.json("POST", "/v1/sandboxes/bare/exec", { command: "echo hi > g; cat g", cwd: "/workspace" });
      expect(res.body.stdout).toBe("hi\n");
      const file = await none.call("GET", "/v1/sandboxes/bare/files/content?path=g");
      expect(await file.text()).toBe("hi\n");
    } finally {
      await none.stop();
      removeDir(none.dataDir);
    }
  });
});
