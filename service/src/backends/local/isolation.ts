import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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
 * Builds the command lines that run a sandboxed program: bubblewrap with its own mount, PID, IPC,
 * UTS, cgroup and network namespaces (loopback only), every capability dropped, the system read-only,
 * the sandbox's own /workspace and /tmp bound in, and prlimit limits around it.
 */
export class Isolation {
  private readonly etcDir: string;
  private readonly rootDirs: { name: string; link?: string }[];

  constructor(
    readonly mode: IsolationMode,
    readonly bwrap: string | undefined,
    dataDir: string,
    readonly limits: ResourceLimits,
  ) {
    this.etcDir = join(dataDir, "etc");
    mkdirSync(this.etcDir, { recursive: true });
    // A user database of the sandbox's own, so `id` and `whoami` answer sensibly without the host's.
    writeFileSync(join(this.etcDir, "passwd"), `root:x:0:0:root:/root:/bin/sh\nsandbox:x:${SANDBOX_UID}:${SANDBOX_UID}:sandbox:/workspace:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`);
    writeFileSync(join(this.etcDir, "group"), `root:x:0:\nsandbox:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`);
    writeFileSync(join(this.etcDir, "hosts"), "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost ip6-loopback\n");
    // Merged-/usr hosts have /bin -> usr/bin and so on; others get them bound read-only.
    this.rootDirs = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"].flatMap((name) => {
      const path = `/${name}`;
      if (!existsSync(path)) return [];
      const stat = lstatSync(path);
      return [stat.isSymbolicLink() ? { name, link: `usr/${name}` } : { name }];
    });
  }

  /** The argv that runs `argv` in the sandbox whose directories are `dirs`, starting in `cwd`. */
  commandLine(dirs: SandboxDirs, argv: string[], cwd: string, cgroupProcFiles: string[]): CommandLine {
    if (this.mode === "none") return { file: argv[0] ?? "/bin/true", args: argv.slice(1) };
    const bwrapArgs = [
      "--unshare-all",
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
      "--dev", "/dev",
      "--tmpfs", "/dev/shm",
      "--bind", dirs.tmp, "/tmp",
      "--bind", dirs.workspace, "/workspace",
      "--chdir", cwd,
      "--",
      ...argv,
    ];
    const limited = [
      "prlimit",
      `--fsize=${this.limits.maxFileSizeBytes}`,
      `--nofile=${this.limits.maxOpenFiles}`,
      "--core=0",
      "--",
      this.bwrap ?? "bwrap",
      ...bwrapArgs,
    ];
    if (cgroupProcFiles.length === 0) return { file: limited[0]!, args: limited.slice(1) };
    // The shell joins its own cgroups before it becomes prlimit/bwrap, so every descendant is counted.
    return {
      file: "/bin/sh",
      args: ["-c", 'for f in $1; do echo $$ > "$f" || exit 125; done; shift; exec "$@"', "sandgate-cgroup", cgroupProcFiles.join(" "), ...limited],
    };
  }
}
