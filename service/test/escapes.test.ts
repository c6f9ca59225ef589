/**
 * Escape attempts through the public API, each asserted to fail (issue 6's corpus; path escapes
 * through the files API are in files.test.ts). The host runs as root here, so these are real tests.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestHost, descendants, eventually, startHost, workspaceOnHost } from "./host.ts";

const TOKEN = "escape-test-token-never-inside";
let host: TestHost;
const exec = async (command: string, id = "esc", timeoutMs?: number) =>
  (await host.json("POST", `/v1/sandboxes/${id}/exec`, { command, ...(timeoutMs ? { timeoutMs } : {}) })).body as {
    exitCode: number;
    stdout: string;
    stderr: string;
    timedOut: boolean;
  };

beforeAll(async () => {
  host = await startHost({ token: TOKEN, env: { SECRET_OF_THE_HOST: "must-not-leak" } });
  await host.json("POST", "/v1/sandboxes", { id: "esc" });
  await host.json("POST", "/v1/sandboxes", { id: "victim" });
  await host.json("POST", "/v1/sandboxes/victim/files/write", { path: "secret.txt", content: "victim's secret" });
});
afterAll(async () => {
  await host.stop();
});

describe("escape attempts", () => {
  it("cannot hard-link host files or reach them at all", async () => {
    const res = await exec("ln /etc/shadow /workspace/shadow 2>&1; ln /usr/bin/env /workspace/env-link 2>&1; ls /etc/shadow /root /home 2>&1; echo done");
    expect(res.stdout).toContain("done");
    expect(existsSync(join(workspaceOnHost(host.dataDir, "esc"), "shadow"))).toBe(false);
    expect(existsSync(join(workspaceOnHost(host.dataDir, "esc"), "env-link"))).toBe(false); // /usr is another (read-only) mount
    expect(res.stdout).toMatch(/'\/etc\/shadow': No such file/);
  });

  it("cannot read another sandbox's files", async () => {
    const res = await exec(`cat ${join(workspaceOnHost(host.dataDir, "victim"), "secret.txt")} 2>&1; grep -rs "victim's secret" /workspace /tmp /home /root /var 2>/dev/null | head -1; echo end`);
    expect(res.stdout).not.toContain("victim's secret");
  });

  it("cannot write to the system", async () => {
    const res = await exec("touch /usr/bin/evil 2>&1; echo x > /etc/passwd 2>&1; mkdir /opt 2>&1; echo end");
    expect(res.stdout).toMatch(/Read-only file system/);
    expect(existsSync("/usr/bin/evil")).toBe(false);
  });

  it("sees and kills no host process", async () => {
    const res = await exec(`ps -eo pid,comm | wc -l; kill -9 ${host.pid} 2>&1; kill -9 1 2>&1; echo end`);
    expect(Number(res.stdout.split("\n")[0])).toBeLessThan(8);
    expect(res.stdout).toMatch(/No such process|not permitted/);
    expect((await host.json("GET", "/health")).status).toBe(200);
  });

  it("finds neither the token nor any host variable in its environment or /proc", async () => {
    const res = await exec("env; cat /proc/1/environ /proc/self/environ 2>&1 | tr '\\0' '\\n'; cat /proc/1/cmdline | tr '\\0' ' '");
    expect(res.stdout).not.toContain(TOKEN);
    expect(res.stdout).not.toContain("must-not-leak");
    expect(res.stdout).not.toContain("SANDGATE_");
  });

  it("cannot pass a library or PATH into the host-side launcher", async () => {
    const marker = join(host.dataDir, "preload-ran");
    await host.json("POST", "/v1/sandboxes/esc/exec", {
      command: "true",
      env: { LD_PRELOAD: "/workspace/nope.so", PATH: "/workspace", SANDGATE_MARKER: marker },
    });
    const res = await host.json("POST", "/v1/sandboxes/esc/exec", { command: "echo $LD_PRELOAD", env: { LD_PRELOAD: "/x.so" } });
    expect(res.body.stdout).toBe("/x.so\n"); // it reaches the program, inside the sandbox only
    expect(existsSync(marker)).toBe(false);
  });

  it("stops at the file size limit", async () => {
    const res = await exec("dd if=/dev/zero of=/workspace/big bs=1 count=1 seek=5G 2>&1; echo status=$?");
    expect(res.stdout).toMatch(/File size limit exceeded|status=1[0-9][0-9]/);
  });

  it("stops at the memory limit without hurting the host or other sandboxes", async () => {
    if (!readdirSync("/sys/fs/cgroup").includes("memory")) return;
    const res = await exec("python3 -c \"b = bytearray(3 * 1024**3); print('allocated')\" 2>&1; echo status=$?", "esc", 60_000);
    expect(res.stdout).not.toContain("allocated");
    expect((await exec("echo fine", "victim")).stdout).toBe("fine\n");
  });

  it("kills a process that ignores SIGTERM, on timeout and on delete", async () => {
    const started = Date.now();
    const res = await exec("trap '' TERM; sleep 60", "esc", 500);
    expect(res.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    await host.json("POST", "/v1/sandboxes", { id: "stubborn" });
    const running = host.json("POST", "/v1/sandboxes/stubborn/exec", { command: "trap '' TERM; sleep 60" });
    await eventually(() => descendants(host.pid).some((pid) => cmdline(pid).includes("sleep")), 5000);
    expect((await host.call("DELETE", "/v1/sandboxes/stubborn")).status).toBe(204);
    expect((await running).body).toMatchObject({ exitCode: 137 });
    await eventually(() => !descendants(host.pid).some((pid) => cmdline(pid).includes("sleep 60")), 5000);
  });
});

/** A process's command line, or "" once it is gone. */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}
