/**
 * Issue 13's "what must hold afterwards", attacked through the public API as a tenant would (a token
 * and code in its own sandbox), and checked from the host's side: who the sandbox is on the host,
 * what the data directory gives other host users, which kernel interfaces and system calls are
 * refused, that slow and half-open clients wedge neither deletes nor the reaper, host memory under
 * log pressure, the disk quota, and a unix socket read through the file API. Each figure is counted
 * for `npm run reliability` (test/attempts.ts); each "must fail" has a control that shows the probe ran.
 * The race of file operations against a swapper inside the sandbox is in races.test.ts.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Attempts } from "./attempts.ts";
import { NOBODY, asNobody, hostFds, hostTree, hostValue, identityOf, openableByNobody, walk } from "./boundary-probes.ts";
import { type TestHost, eventually, removeDir, startHost, workspaceOnHost } from "./host.ts";

const TOKEN = "boundary-test-token";
const figures = new Attempts("boundary");
let host: TestHost;

interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function exec(id: string, command: string, timeoutMs = 30_000): Promise<ExecResult> {
  const res = await host.json("POST", `/v1/sandboxes/${id}/exec`, { command, timeoutMs });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as ExecResult;
}

async function create(id: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await host.json("POST", "/v1/sandboxes", { id, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

beforeAll(async () => {
  host = await startHost({ token: TOKEN, inheritedFile: "/etc/hostname" });
});
afterAll(async () => {
  figures.save();
  await host?.stop();
  if (host) removeDir(host.dataDir);
});

describe("identity", () => {
  it("maps no sandbox process to a privileged host uid; each sandbox has an unprivileged uid of its own", async () => {
    await create("bnd-id");
    await create("bnd-id2");
    const inside = await exec("bnd-id", "id -u; echo made > made-here; mkdir made-dir; sleep 30 >/dev/null 2>&1 &");
    expect(inside.exitCode, inside.stderr).toBe(0);
    expect(inside.stdout).toBe("1000\n");
    const uid = identityOf(host, "bnd-id");
    const other = identityOf(host, "bnd-id2");
    expect(uid).toBeGreaterThanOrEqual(1_900_000_000);
    expect(other).toBeGreaterThanOrEqual(1_900_000_000);
    expect(other).not.toBe(uid);
    // The maps of a sandbox process read from the host (the initial namespace): uid 1000 inside is
    // the sandbox's own host uid, not 0. (Read inside, the map names the uid in bubblewrap's
    // intermediate namespace, which is 0 there and no privilege on the host.)
    const sleeper = () => hostTree(host.pid).find((p) => p.comm === "sleep");
    await eventually(() => sleeper() !== undefined, 5000);
    const maps = ["uid_map", "gid_map"].map((m) => readFileSync(`/proc/${sleeper()!.pid}/${m}`, "utf8").trim().split(/\s+/).map(Number));
    expect(maps).toEqual([
      [1000, uid, 1],
      [1000, uid, 1],
    ]);
    // What it created is owned on the host by that uid.
    const ws = workspaceOnHost(host.dataDir, "bnd-id");
    for (const name of ["made-here", "made-dir"]) {
      const stat = statSync(join(ws, name));
      expect([stat.uid, stat.gid], name).toEqual([uid, uid]);
    }
    // Seen from the host, every process of its environment runs as that uid (real, effective, saved, fs).
    const env = hostTree(host.pid).filter((p) => ["bwrap", "agent", "sleep"].includes(p.comm));
    expect(env.some((p) => p.comm === "agent")).toBe(true);
    // bubblewrap included: it starts as the sandbox's uid, never holding root to drop.
    const privileged = env.filter((p) => p.uids.some((u) => u !== uid));
    expect(sleeper()!.uids).toEqual([uid, uid, uid, uid]);
    expect(privileged).toEqual([]);
    figures.record("identity: sandbox processes and files at an unprivileged host uid", env.length + 2, privileged.length);
  });

  it("gives sandboxes created at once a uid each", async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `bnd-at-once-${i}`);
    await Promise.all(ids.map((id) => create(id)));
    const uids = ids.map((id) => identityOf(host, id));
    for (const uid of uids) expect(uid).toBeGreaterThanOrEqual(1_900_000_000); // control: each has one
    figures.record("identity: sandboxes created at once sharing a uid", ids.length, ids.length - new Set(uids).size);
    expect(new Set(uids).size).toBe(ids.length);
    for (const id of ids) expect((await host.json("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
  });

  it("closes the data directory to other host users", async () => {
    await create("bnd-closed", { env: { SANDBOX_SECRET: "env-secret" } });
    await exec("bnd-closed", "echo workspace-secret > secret.txt; mkdir -p deep/er; echo s > deep/er/f");
    const modes = [host.dataDir, join(host.dataDir, "sandboxes", "bnd-closed")].map((d) => statSync(d).mode & 0o777);
    for (const mode of modes) expect(mode & 0o044, mode.toString(8)).toBe(0); // no read for group or others
    // Everything of the data directory and the sandbox's mounted disk, tried as nobody.
    const ws = workspaceOnHost(host.dataDir, "bnd-closed");
    const paths = [...walk(host.dataDir), ...walk(join(ws, ".."))];
    expect(paths).toContain(join(ws, "secret.txt")); // control: root sees the files the probe aims at
    const probe = openableByNobody(paths);
    expect(probe.control).toBe(true); // nobody can open a world-readable host file: the probe works
    expect(probe.tried).toBe(paths.length);
    expect(probe.opened).toEqual([]);
    figures.record("identity: data directory paths opened by another host user", probe.tried, probe.opened.length, "paths");
  });

  it("gives nothing to a host user who runs a setuid file made in a sandbox", async () => {
    await create("bnd-suid");
    const uid = identityOf(host, "bnd-suid");
    // The attacker also opens its workspace to everyone, so that a host user can reach the file.
    const made = await exec("bnd-suid", "cp /usr/bin/id suid-id && chmod 6755 suid-id && chmod 755 /workspace && stat -c '%a %u' suid-id");
    expect(made.exitCode, made.stderr).toBe(0);
    expect(made.stdout).toBe("6755 1000\n");
    const file = join(workspaceOnHost(host.dataDir, "bnd-suid"), "suid-id");
    const stat = statSync(file);
    expect(stat.uid).toBe(uid); // not root
    expect(stat.mode & 0o6000).toBe(0o6000); // the bits are there: the mount and the owner must make them harmless
    const ran = asNobody([file, "-u"]);
    const ranGroup = asNobody([file, "-g"]);
    // Control: the file ran as nobody (it printed an id).
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout.trim()).toMatch(/^\d+$/);
    const euid = Number(ran.stdout.trim());
    const egid = Number(ranGroup.stdout.trim());
    expect(euid).not.toBe(0);
    expect(egid).not.toBe(0);
    expect([NOBODY, uid]).toContain(euid);
    figures.record("identity: setuid file from a sandbox run by a host user gains root", 2, (euid === 0 ? 1 : 0) + (egid === 0 ? 1 : 0), "runs");
  });
});

describe("kernel interfaces", () => {
  const writes = [
    "/proc/sys/kernel/printk_ratelimit",
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/vm/drop_caches",
    "/proc/sys/kernel/hostname",
    "/proc/sys/fs/file-max",
    "/proc/sysrq-trigger",
    "/proc/irq/default_smp_affinity",
    "/proc/fs/nfsd/threads",
    "/proc/sys/net/ipv4/ip_forward",
  ];

  it("refuses writes to /proc/sys, /proc/sysrq-trigger, /proc/irq, /proc/fs and leaves the host's values", async () => {
    await create("bnd-proc");
    const watched = ["/proc/sys/kernel/printk_ratelimit", "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/fs/file-max"].filter((p) => existsSync(p));
    const before = watched.map(hostValue);
    // Each path is opened for writing and written a value different from the host's.
    const script = [
      "import sys, os, json",
      "out = {}",
      "for p in sys.argv[1:]:",
      "    try:",
      "        with open(p, 'w') as f: f.write('7\\n' if 'ratelimit' in p else '|/workspace/pwn %p\\n' if 'core_pattern' in p else '/workspace/pwn\\n' if 'modprobe' in p else '1\\n')",
      "        out[p] = 'written'",
      "    except OSError as e: out[p] = os.strerror(e.errno)",
      "ctl = open('/proc/sys/kernel/printk_ratelimit').read().strip()",
      "open('/workspace/ctl', 'w').write('ok')",
      "print(json.dumps({'results': out, 'read': ctl, 'ctl': open('/workspace/ctl').read()}))",
    ].join("\n");
    const res = await exec("bnd-proc", `python3 -c "${script.replaceAll('"', '\\"')}" ${writes.join(" ")}`);
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { results: Record<string, string>; read: string; ctl: string };
    // Controls: the sandbox reads the host-wide value (the path is there) and writes its own files.
    expect(out.read).toBe(before[0]!.trim());
    expect(out.ctl).toBe("ok");
    const written = Object.entries(out.results).filter(([, r]) => r === "written");
    expect(written).toEqual([]);
    expect(watched.map(hostValue)).toEqual(before);
    figures.record("kernel: writes to host kernel interfaces from a sandbox", writes.length, written.length, "writes");
  });

  it("mounts /proc/sys, /proc/irq, /proc/bus, /proc/fs read-only and masks kcore, keys, timer_list, sched_debug", async () => {
    const mountinfo = (await exec("bnd-proc", "cat /proc/self/mountinfo")).stdout.split("\n");
    const readOnly = ["sys", "irq", "bus", "fs"].filter((name) => {
      try {
        statSync(`/proc/${name}`);
        return true;
      } catch {
        return false;
      }
    });
    expect(readOnly).toContain("sys");
    const notReadOnly = readOnly.filter((name) => {
      const line = mountinfo.find((l) => l.split(" ")[4] === `/proc/${name}`);
      return !line || !line.split(" ")[5]!.split(",").includes("ro");
    });
    expect(notReadOnly).toEqual([]);
    const masked = ["kcore", "keys", "timer_list", "sched_debug", "kallsyms"].filter((name) => {
      try {
        statSync(`/proc/${name}`);
        return true;
      } catch {
        return false;
      }
    });
    expect(masked.length).toBeGreaterThan(0);
    // Each read inside gives nothing (empty, or refused); control: /proc/self/status and /proc/version read.
    const reads = await exec("bnd-proc", `for f in ${masked.join(" ")}; do printf '%s ' $f; head -c 4096 /proc/$f 2>/dev/null | wc -c; done; head -c 100 /proc/version | wc -c; grep -c . /proc/self/status`);
    const lines = reads.stdout.trim().split("\n");
    const leaked = lines.slice(0, masked.length).filter((l) => Number(l.split(" ")[1]) > 0);
    expect(lines.slice(0, masked.length).map((l) => l.split(" ")[0])).toEqual(masked);
    expect(Number(lines[masked.length])).toBeGreaterThan(0);
    expect(Number(lines[masked.length + 1])).toBeGreaterThan(5);
    expect(leaked).toEqual([]);
    figures.record("kernel: host /proc files readable or writable inside", readOnly.length + masked.length, notReadOnly.length + leaked.length, "files");
  });

  it("refuses, with EPERM or ENOSYS, the system calls a sandbox has no business making", async () => {
    const res = await exec("bnd-proc", `python3 -c "${SECCOMP_PROBE.replaceAll('"', '\\"')}"`);
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { results: Record<string, [number, string]>; controls: Record<string, number>; status: string };
    // Controls: permitted calls work in the same process, and the filter is installed.
    expect(out.controls.getpid).toBeGreaterThan(0);
    expect(out.controls.getuid).toBe(1000);
    expect(out.controls.thread).toBe(1);
    expect(out.status).toMatch(/Seccomp:\s+2/);
    expect(out.status).toMatch(/NoNewPrivs:\s+1/);
    const allowed = Object.entries(out.results).filter(([, [ret, err]]) => !(ret === -1 && (err === "EPERM" || err === "ENOSYS")));
    expect(Object.keys(out.results).length).toBeGreaterThanOrEqual(35);
    expect(allowed).toEqual([]);
    figures.record("kernel: refused system calls that got through", Object.keys(out.results).length, allowed.length, "syscalls");
  });

  it("runs ordinary programs: shell tools, python3, node, git and a C compiler", async () => {
    const ok = await exec(
      "bnd-proc",
      [
        "set -e",
        "unshare -Ur true 2>/dev/null && echo nested-userns || echo no-nested-userns",
        "python3 -c 'import threading, subprocess; t = threading.Thread(target=print, args=(\"py-thread\",)); t.start(); t.join(); print(subprocess.run([\"echo\", \"py-sub\"], capture_output=True, text=True).stdout.strip())'",
        "node -e 'require(\"worker_threads\"); console.log(\"node\", 1 + 1)'",
        "git init -q repo && git -C repo -c user.name=t -c user.email=t@e commit -q --allow-empty -m x && echo git-ok",
        "if command -v cc >/dev/null; then printf '#include <stdio.h>\\nint main(void){puts(\"cc-ok\");return 0;}\\n' > h.c && cc h.c -o h && ./h; else echo cc-ok; fi",
      ].join("\n"),
    );
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split("\n")).toEqual(["no-nested-userns", "py-thread", "py-sub", "node 2", "git-ok", "cc-ok"]);
    figures.record("kernel: ordinary programs broken by the filter", 5, 0, "programs");
  });
});

/**
 * Tries each system call with arguments that would do no harm if it were allowed (null pointers,
 * bad descriptors, queries), so a permitted call shows as a result other than EPERM/ENOSYS.
 * x86_64 and aarch64 numbers.
 */
const SECCOMP_PROBE = String.raw`
import ctypes, json, os, platform, errno, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
X86 = dict(unshare=272, mount=165, umount2=166, keyctl=250, add_key=248, request_key=249, bpf=321, perf_event_open=298,
  kexec_load=246, kexec_file_load=320, init_module=175, finit_module=313, delete_module=176, open_by_handle_at=304,
  name_to_handle_at=303, setns=308, pivot_root=155, chroot=161, userfaultfd=323, reboot=169, swapon=167, swapoff=168,
  syslog=103, acct=163, settimeofday=164, clock_settime=227, clock_adjtime=305, adjtimex=159, quotactl=179, fsopen=430, fsmount=432,
  open_tree=428, move_mount=429, fspick=433, mount_setattr=442, iopl=172, ioperm=173, kcmp=312, fanotify_init=300,
  clone3=435, clone=56, getpid=39, getuid=102)
ARM = dict(unshare=97, mount=40, umount2=39, keyctl=219, add_key=217, request_key=218, bpf=280, perf_event_open=241,
  kexec_load=104, kexec_file_load=294, init_module=105, finit_module=273, delete_module=106, open_by_handle_at=265,
  name_to_handle_at=264, setns=268, pivot_root=41, chroot=51, userfaultfd=282, reboot=142, swapon=224, swapoff=225,
  syslog=116, acct=89, settimeofday=170, clock_settime=112, clock_adjtime=266, adjtimex=171, quotactl=60, fsopen=430, fsmount=432,
  open_tree=428, move_mount=429, fspick=433, mount_setattr=442, kcmp=272, fanotify_init=262,
  clone3=435, clone=220, getpid=172, getuid=174)
nr = X86 if platform.machine() == 'x86_64' else ARM
CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, SIGCHLD = 0x10000000, 0x00020000, 0x40000000, 17
calls = {
  'unshare(CLONE_NEWUSER)': ('unshare', CLONE_NEWUSER), 'unshare(CLONE_NEWNS)': ('unshare', CLONE_NEWNS),
  'unshare(CLONE_NEWNET)': ('unshare', CLONE_NEWNET),
  'clone(CLONE_NEWUSER)': ('clone', CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), 'clone3': ('clone3', 0, 0),
  'mount': ('mount', 0, 0, 0, 0, 0), 'umount2': ('umount2', 0, 0), 'keyctl(GET_KEYRING_ID)': ('keyctl', 0, -3, 0),
  'add_key': ('add_key', 0, 0, 0, 0, 0), 'request_key': ('request_key', 0, 0, 0, 0), 'bpf(MAP_CREATE)': ('bpf', 0, 0, 0),
  'perf_event_open': ('perf_event_open', 0, 0, -1, -1, 0), 'kexec_load': ('kexec_load', 0, 0, 0, 0),
  'kexec_file_load': ('kexec_file_load', -1, -1, 0, 0, 0), 'init_module': ('init_module', 0, 0, 0),
  'finit_module': ('finit_module', -1, 0, 0), 'delete_module': ('delete_module', 0, 0),
  'open_by_handle_at': ('open_by_handle_at', -1, 0, 0), 'name_to_handle_at': ('name_to_handle_at', -100, 0, 0, 0, 0),
  'setns': ('setns', -1, 0), 'pivot_root': ('pivot_root', 0, 0), 'chroot': ('chroot', 0), 'userfaultfd': ('userfaultfd', 0),
  'reboot': ('reboot', 0, 0, 0, 0), 'swapon': ('swapon', 0, 0), 'swapoff': ('swapoff', 0), 'syslog(SIZE_BUFFER)': ('syslog', 10, 0, 0),
  'acct': ('acct', 0), 'settimeofday': ('settimeofday', 0, 0), 'clock_settime': ('clock_settime', 0, 0),
  'clock_adjtime': ('clock_adjtime', 0, 0), 'adjtimex': ('adjtimex', 0), 'quotactl': ('quotactl', 0, 0, 0, 0),
  'fsopen': ('fsopen', 0, 0), 'fsmount': ('fsmount', -1, 0, 0), 'open_tree': ('open_tree', -100, 0, 0),
  'move_mount': ('move_mount', -1, 0, -1, 0, 0), 'fspick': ('fspick', -100, 0, 0), 'mount_setattr': ('mount_setattr', -1, 0, 0, 0, 0),
  'kcmp': ('kcmp', os.getpid(), os.getpid(), 0, 0, 0), 'fanotify_init': ('fanotify_init', 0, 0),
}
if 'iopl' in nr: calls['iopl(0)'] = ('iopl', 0)
if 'ioperm' in nr: calls['ioperm'] = ('ioperm', 0, 0, 0)
results = {}
for label, (name, *args) in calls.items():
  ctypes.set_errno(0)
  ret = libc.syscall(ctypes.c_long(nr[name]), *[ctypes.c_long(a) for a in args])
  if ret == 0 and name == 'clone':
    os._exit(0)  # a child, had the call been allowed
  err = ctypes.get_errno()
  results[label] = [ret, errno.errorcode.get(err, str(err)) if ret == -1 else '']
seen = []
t = threading.Thread(target=lambda: seen.append(1)); t.start(); t.join()
controls = {'getpid': libc.syscall(ctypes.c_long(nr['getpid'])), 'getuid': libc.syscall(ctypes.c_long(nr['getuid'])), 'thread': len(seen)}
status = ''.join(l for l in open('/proc/self/status') if l.startswith(('Seccomp:', 'NoNewPrivs:')))
print(json.dumps({'results': results, 'controls': controls, 'status': status}))
`;

describe("what a sandbox sees of the host", () => {
  it("shows no host path in PID 1's command line and environment or in the mounts, and passes on no host descriptor", async () => {
    await create("bnd-seen");
    // Control: the host holds descriptors above stdio without close-on-exec (a host file the test gave
    // it at fd 40, as a host-side library might hold one), which every program it starts would inherit.
    const inheritable = readdirSync(`/proc/${host.pid}/fd`)
      .filter((fd) => Number(fd) > 2)
      .filter((fd) => {
        let info = "";
        try {
          info = readFileSync(`/proc/${host.pid}/fdinfo/${fd}`, "utf8");
        } catch {
          return false; // closed since the listing
        }
        const flags = /flags:\s*(\d+)/.exec(info)?.[1];
        return flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0;
      });
    expect(inheritable).toContain("40");
    const seen = await exec(
      "bnd-seen",
      `for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; tr '\\0' ' ' < $p/environ 2>/dev/null; echo; done; echo MOUNTS; cat /proc/self/mountinfo; echo FDS; ls /proc/self/fd; sleep 60 > /dev/null 2>&1 & while [ "$(cat /proc/$!/comm)" != sleep ]; do :; done; echo BG; ls /proc/$!/fd`,
    );
    expect(seen.exitCode, seen.stderr).toBe(0);
    // Controls: PID 1 (bubblewrap) and the mounts were read.
    expect(seen.stdout).toMatch(/bwrap --args 3 -- \/\.sandgate\/agent/);
    expect(seen.stdout).toMatch(/ \/workspace /);
    const hostPaths = [host.dataDir, process.cwd(), join(process.cwd(), "..")];
    const shown = hostPaths.filter((path) => seen.stdout.includes(path));
    expect(shown).toEqual([]);
    // A command and a background process hold stdio and what `ls` opened itself, nothing of the host
    // (the background one listed once it is `sleep`: the shell's fork before its exec holds more).
    const fds = (section: string) => seen.stdout.split(`${section}\n`)[1]!.split(/\n[A-Z]+\n/)[0]!.split("\n").filter((l) => /^\d+$/.test(l));
    expect(fds("FDS")).toEqual(["0", "1", "2", "3"]);
    expect(fds("BG")).toEqual(["0", "1", "2"]);
    figures.record("host paths or descriptors shown inside a sandbox", hostPaths.length + inheritable.length, shown.length + (fds("FDS").length - 4) + (fds("BG").length - 3), "probes");
  });
});

describe("unix socket read through the file API", () => {
  it("answers 4xx in the envelope on every read route, never 500", async () => {
    await create("bnd-sock");
    const made = await exec("bnd-sock", `python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('/workspace/sock'); print('bound')" && stat -c %F sock`);
    expect(made.stdout).toBe("bound\nsocket\n");
    const stat = await host.json("GET", "/v1/sandboxes/bnd-sock/files/stat?path=sock");
    expect(stat.status).toBe(200); // control: the API sees the socket
    const answers = [
      await host.call("GET", "/v1/sandboxes/bnd-sock/files/content?path=sock"),
      await host.call("POST", "/v1/sandboxes/bnd-sock/files/read", { path: "sock" }),
      await host.call("POST", "/v1/sandboxes/bnd-sock/files/read", { path: "sock", encoding: "base64" }),
      await host.call("POST", "/sandbox/bnd-sock/download", { file_path: "/workspace/sock", encoding: "utf-8" }),
    ];
    let bad = 0;
    for (const res of answers) {
      const body = (await res.json()) as { error?: { code: string; message: string } };
      if (res.status < 400 || res.status >= 500 || typeof body.error?.message !== "string") bad++;
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
    }
    expect(host.logs()).not.toContain("internal error");
    figures.record("no-500: unix socket read through the file API", answers.length, bad, "requests");
  });
});
