import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NetworkPlacement } from "./network/index.ts";

/** How the local runtime confines a command. `none` exists for machines without bubblewrap and says so loudly. */
export type IsolationMode = "bwrap" | "none";

export interface ResourceLimits {
  /** RLIMIT_FSIZE: the largest file a sandboxed process may write. */
  maxFileSizeBytes: number;
  /** RLIMIT_NOFILE. */
  maxOpenFiles: number;
  /** cgroup pids.max, where a cgroup can be made. */
  maxProcesses: number;
  /** cgroup memory.limit_in_bytes, where a cgroup can be made. */
  memoryBytes: number;
}

export const defaultResourceLimits: ResourceLimits = {
  maxFileSizeBytes: 4 * 1024 ** 3,
  maxOpenFiles: 4096,
  maxProcesses: 512,
  memoryBytes: 2 * 1024 ** 3,
};

/** The host directories behind one sandbox. */
export interface SandboxDirs {
  workspace: string;
  tmp: string;
}

export interface CommandLine {
  file: string;
  args: string[];
  /**
   * The environment it is spawned with. With isolation that is empty: the sandbox's variables reach
   * the program through bubblewrap's --setenv, never the host-side processes, which run as the host
   * user before any isolation (LD_PRELOAD, say, would run a library of the caller's in them).
   */
  env: Record<string, string>;
  /**
   * Arguments the program reads from fd 3 (NUL-terminated), not from its command line: bubblewrap's
   * (`--args 3`), which name host paths. bubblewrap becomes the sandbox's PID 1, whose command line
   * every process inside can read; this way it shows `bwrap --args 3 -- /.sandgate/agent` only.
   */
  argsOnFd3?: string[];
}

/** What the sandbox user is called inside; the uid every sandbox runs as. */
const SANDBOX_UID = 1000;

/** Host files a program inside may need; each is bound read-only when it exists. Nothing secret. */
const HOST_ETC = [
  "alternatives",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "ssl",
  "ca-certificates",
  "ca-certificates.conf",
  "localtime",
  "nsswitch.conf",
  "resolv.conf",
  "os-release",
  "mime.types",
  "protocols",
  "services",
  "gai.conf",
];

export function bubblewrapPath(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v bwrap"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The host identity a sandbox's processes run as. On a root host each sandbox gets a uid of its own
 * from an unprivileged range (no user of the host has it, and it maps to uid 1000 inside); elsewhere
 * the environment runs as the host's own (unprivileged) user.
 */
export interface Identity {
  uid: number;
  gid: number;
}

/** Host files masked inside (as container runtimes do): they describe the host's kernel, keys and timers. */
const MASKED_PROC_FILES = ["kcore", "keys", "timer_list", "sched_debug", "kallsyms", "latency_stats"];
/**
 * Kernel interfaces kept read-only inside. bubblewrap's --proc covers sys, irq and bus only where they
 * are writable when it mounts /proc, which they are not for an unprivileged identity: they were left
 * read-write mounts, writable wherever the sandbox's namespaces own a file (its network's sysctls).
 * Bound over themselves read-only here; sysctl values still follow the reader's namespaces.
 */
const READ_ONLY_PROC_DIRS = ["sys", "irq", "bus", "fs", "acpi", "scsi"];

/**
 * Builds the command line of a sandbox's environment: bubblewrap with its own user, mount, PID, IPC,
 * UTS and cgroup namespaces (further user namespaces disabled), every capability dropped, the system
 * read-only, /proc's host-wide interfaces read-only or masked, the sandbox's own /workspace and /tmp
 * bound in, and the agent (service/agent) as its first process, which adds a seccomp filter and
 * starts everything else. Before bubblewrap, as the host: the resource limits (ulimit, or prlimit),
 * the sandbox's cgroups, its network namespace (nsenter), then the switch to the sandbox's
 * unprivileged identity (setpriv), so bubblewrap itself never runs with a privilege to lose.
 */
export class Isolation {
  private readonly etcDir: string;
  private readonly rootDirs: { name: string; link?: string }[];
  /** The ulimit prefix of the launch script, when /bin/sh applies the limits faithfully. */
  private readonly shellLimits: string | undefined;
  /** prlimit's absolute path, where /bin/sh's ulimit cannot be trusted with the limits. */
  private readonly prlimit: string | undefined;
  private readonly setpriv: string | undefined;
  private readonly maskedProc: string[];
  private readonly readOnlyProc: string[];

  constructor(
    readonly mode: IsolationMode,
    readonly bwrap: string | undefined,
    /** Where the sandbox-visible files of this host go (see SandboxStorage.runtimeDir). */
    runtimeDir: string,
    readonly limits: ResourceLimits,
  ) {
    this.etcDir = join(runtimeDir, "etc");
    mkdirSync(this.etcDir, { recursive: true, mode: 0o755 });
    // A user database of the sandbox's own, so `id` and `whoami` answer sensibly without the host's.
    writeFileSync(join(this.etcDir, "passwd"), `root:x:0:0:root:/root:/bin/sh\nsandbox:x:${SANDBOX_UID}:${SANDBOX_UID}:sandbox:/workspace:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`, { mode: 0o644 });
    writeFileSync(join(this.etcDir, "group"), `root:x:0:\nsandbox:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`, { mode: 0o644 });
    writeFileSync(join(this.etcDir, "hosts"), "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost ip6-loopback\n", { mode: 0o644 });
    // Merged-/usr hosts have /bin -> usr/bin and so on; others get them bound read-only.
    this.rootDirs = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"].flatMap((name) => {
      const path = `/${name}`;
      if (!existsSync(path)) return [];
      const stat = lstatSync(path);
      return [stat.isSymbolicLink() ? { name, link: `usr/${name}` } : { name }];
    });
    this.maskedProc = MASKED_PROC_FILES.filter((name) => existsSync(`/proc/${name}`));
    this.readOnlyProc = READ_ONLY_PROC_DIRS.filter((name) => existsSync(`/proc/${name}`));
    this.shellLimits = mode === "bwrap" ? shellLimitsFor(limits) : undefined;
    this.prlimit = mode === "bwrap" && !this.shellLimits ? commandPath("prlimit") : undefined;
    this.setpriv = commandPath("setpriv");
    if (mode === "bwrap" && !this.shellLimits && !this.prlimit) {
      throw new Error("cannot apply resource limits: /bin/sh's ulimit does not set them exactly here and prlimit (util-linux) is not installed");
    }
  }

  /** Whether sandboxes can get identities of their own here (root, with setpriv). */
  get separateIdentities(): boolean {
    return this.mode === "bwrap" && process.getuid?.() === 0 && this.setpriv !== undefined;
  }

  /**
   * The command line of the environment whose directories are `dirs`, running `agent`: a shell that
   * applies the resource limits, joins the cgroups through their `cgroupJoinFiles` (see cgroups.ts), and
   * becomes bubblewrap (in the network `net`, as `identity`). Without isolation, the agent itself,
   * on the host, over the workspace directory.
   */
  environment(dirs: SandboxDirs, agent: string, cgroupJoinFiles: string[], net: NetworkPlacement | undefined, identity: Identity | undefined): CommandLine {
    if (this.mode === "none") return { file: agent, args: ["--unconfined", `--workspace=${dirs.workspace}`], env: {} };
    return {
      file: "/bin/sh",
      args: ["-c", `${this.shellLimits ?? ""} ${JOIN_AND_EXEC}`, "sandgate", cgroupJoinFiles.join(" "), ...this.program(net, identity), this.bwrap!, "--args", "3", "--", AGENT_INSIDE],
      env: {},
      argsOnFd3: this.bwrapArgs(dirs, agent, net),
    };
  }

  /** What runs after the shell, before bubblewrap: [nsenter] [prlimit] [setpriv]. */
  private program(net: NetworkPlacement | undefined, identity: Identity | undefined): string[] {
    const enter = net?.enter ?? [];
    const limits = this.prlimit ? [this.prlimit, `--fsize=${this.limits.maxFileSizeBytes}`, `--nofile=${this.limits.maxOpenFiles}`, "--core=0", "--"] : [];
    const become = identity && this.setpriv
      ? [this.setpriv, `--reuid=${identity.uid}`, `--regid=${identity.gid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
      : [];
    return [...enter, ...limits, ...become];
  }

  /** bubblewrap's options (its command, the agent, follows on the command line: bubblewrap reads only options from a file). */
  private bwrapArgs(dirs: SandboxDirs, agent: string, net: NetworkPlacement | undefined): string[] {
    return [
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      ...(net?.shareNet ? ["--share-net"] : []),
      "--die-with-parent",
      "--new-session",
      "--cap-drop", "ALL",
      "--uid", String(SANDBOX_UID),
      "--gid", String(SANDBOX_UID),
      "--hostname", "sandbox",
      "--ro-bind", "/usr", "/usr",
      ...this.rootDirs.flatMap((d) => (d.link ? ["--symlink", d.link, `/${d.name}`] : ["--ro-bind", `/${d.name}`, `/${d.name}`])),
      ...HOST_ETC.flatMap((name) => ["--ro-bind-try", `/etc/${name}`, `/etc/${name}`]),
      "--ro-bind", join(this.etcDir, "passwd"), "/etc/passwd",
      "--ro-bind", join(this.etcDir, "group"), "/etc/group",
      "--ro-bind", join(this.etcDir, "hosts"), "/etc/hosts",
      "--proc", "/proc",
      ...this.maskedProc.flatMap((name) => ["--ro-bind", "/dev/null", `/proc/${name}`]),
      ...this.readOnlyProc.flatMap((name) => ["--ro-bind", `/proc/${name}`, `/proc/${name}`]),
      "--dev", "/dev",
      "--tmpfs", "/dev/shm",
      "--bind", dirs.tmp, "/tmp",
      "--bind", dirs.workspace, "/workspace",
      "--ro-bind", agent, AGENT_INSIDE,
      "--clearenv",
      "--chdir", "/workspace",
    ];
  }
}

/** Where the agent is inside every environment. */
const AGENT_INSIDE = "/.sandgate/agent";

/** The absolute path of a program on this host's PATH. */
function commandPath(name: string): string | undefined {
  try {
    const path = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    return path.startsWith("/") ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Joins the cgroups whose join files (v1 `tasks`, v2 `cgroup.procs`: see cgroups.ts) are listed in
 * $1, then execs the rest of the arguments. Writing 0 moves the calling shell.
 */
const JOIN_AND_EXEC = 'for f in $1; do echo 0 > "$f" || exit 125; done; shift; exec "$@"';

/**
 * The ulimit builtins that set `limits` (soft and hard) in /bin/sh, saving the prlimit exec; or
 * undefined where this machine's /bin/sh does not set exactly those limits (checked against
 * /proc/self/limits once), and prlimit is used instead.
 */
function shellLimitsFor(limits: ResourceLimits): string | undefined {
  // POSIX counts ulimit -f in 512-byte blocks (dash; bash as sh); rounding down keeps the limit a limit.
  const blocks = Math.floor(limits.maxFileSizeBytes / 512);
  const script = `ulimit -f ${blocks} && ulimit -n ${limits.maxOpenFiles} && ulimit -c 0 || exit 125;`;
  try {
    const report = execFileSync("/bin/sh", ["-c", `${script} exec cat /proc/self/limits`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const expected: [string, number][] = [
      ["Max file size", blocks * 512],
      ["Max open files", limits.maxOpenFiles],
      ["Max core file size", 0],
    ];
    for (const [name, value] of expected) {
      const line = report.split("\n").find((l) => l.startsWith(name));
      const [soft, hard] = line?.slice(name.length).trim().split(/\s+/) ?? [];
      if (soft !== String(value) || hard !== String(value)) return undefined;
    }
    return script;
  } catch {
    return undefined;
  }
}
