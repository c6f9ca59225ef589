import { mkdir, realpath, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Backend, type ExecSpec, type SandboxPatch, type SandboxQuery, type SandboxRecord, recordInstance } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import { WORKSPACE, type WorkspacePath } from "../../core/paths.ts";
import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import type { SandboxInfo } from "../../schemas/sandboxes.ts";
import { Cgroups } from "./cgroups.ts";
import { WorkspaceFiles } from "./files.ts";
import { Isolation, type IsolationMode, type ResourceLimits, bubblewrapPath, defaultResourceLimits } from "./isolation.ts";
import { Prefork } from "./prefork.ts";
import { type Launch, type Preforked, SandboxProcess } from "./process.ts";
import { Registry } from "./registry.ts";
import { forwardToPort } from "./port-forward.ts";
import { type SandboxNetworks, openNetworks } from "./network.ts";
import type { LogSlice, PortAddress, ProcessSpec, WaitForPortSpec } from "../../core/backend.ts";
import type { ProcessInfo, ProcessLogEvent, Signal } from "../../schemas/processes.ts";
import { ProcessTable, waitForPort } from "./processes.ts";

export interface LocalBackendOptions {
  dataDir: string;
  isolation: IsolationMode;
  resources?: Partial<ResourceLimits>;
  /** How often expired sandboxes are looked for. */
  reapIntervalMs?: number;
  log?: (message: string) => void;
  /**
   * Sandbox networks (network.ts): `namespaces`, one network namespace per sandbox (needs root, ip,
   * nft, nsenter); `shared`, the host's network for `egress` sandboxes; `auto` (default), namespaces
   * where possible.
   */
  network?: "auto" | "namespaces" | "shared";
}

/** The variables every sandboxed command starts with, before the sandbox's and the command's own. */
const BASE_ENV: Record<string, string> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: WORKSPACE,
  USER: "sandbox",
  LANG: "C.UTF-8",
};

/**
 * Sandboxes on this machine: a directory each under the data directory, every command run in a
 * fresh bubblewrap sandbox over it (see Isolation), the registry kept on disk, expired sandboxes reaped.
 */
export class LocalBackend implements Backend {
  readonly name = "local";
  private readonly registry: Registry;
  private readonly processes = new Map<string, Set<SandboxProcess>>();
  /** The background processes of each sandbox that has had any (see processes.ts). */
  private readonly processTables = new Map<string, ProcessTable>();
  /** Ids with a create or delete under way; a second one for the same id is a conflict. */
  private readonly busy = new Set<string>();
  private readonly reaper: NodeJS.Timeout;
  private reaping = false;
  /** A wrapper shell forked ahead of the next command (see prefork.ts); only with isolation. */
  private readonly prefork: Prefork | undefined;

  private constructor(
    dataDir: string,
    readonly isolation: Isolation,
    private readonly cgroups: Cgroups | undefined,
    private readonly networks: SandboxNetworks,
    reapIntervalMs: number,
    private readonly log: (message: string) => void,
  ) {
    this.registry = new Registry(dataDir);
    this.reaper = setInterval(() => void this.reapExpired(), reapIntervalMs);
    this.reaper.unref();
    this.prefork = isolation.mode === "bwrap" ? new Prefork() : undefined;
  }

  static async open(options: LocalBackendOptions): Promise<LocalBackend> {
    const log = options.log ?? (() => {});
    const resources = { ...defaultResourceLimits, ...options.resources };
    await mkdir(options.dataDir, { recursive: true });
    const dataDir = await realpath(options.dataDir);
    const bwrap = bubblewrapPath();
    if (options.isolation === "bwrap" && !bwrap) {
      throw new Error("bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap) or start with --isolation=none to run commands WITHOUT isolation");
    }
    const isolation = new Isolation(options.isolation, bwrap, dataDir, resources);
    const cgroups = options.isolation === "bwrap" ? Cgroups.detect(resources, dataDir) : undefined;
    if (options.isolation === "bwrap" && !cgroups) log("cgroup v1 is not writable here: no per-sandbox memory or process-count limits");
    const networks = await openNetworks({ dataDir, isolation: options.isolation, want: options.network, log });
    log(`network: ${networks.summary}`);
    const backend = new LocalBackend(dataDir, isolation, cgroups, networks, options.reapIntervalMs ?? 1000, log);
    await cgroups?.destroyAll(); // a previous run's groups, possibly with survivors of a crash in them
    const { removed } = await backend.registry.load();
    await backend.loadProcessTables();
    if (removed.length > 0) log(`removed ${removed.length} incomplete sandbox director${removed.length === 1 ? "y" : "ies"}`);
    await backend.reapExpired();
    await backend.restoreNetworks();
    return backend;
  }

  get cgroupsEnabled(): boolean {
    return this.cgroups !== undefined;
  }

  async createSandbox(record: SandboxRecord): Promise<SandboxInfo> {
    const { id } = record;
    if (this.registry.records.has(id) || this.busy.has(id)) throw errors.conflict(`sandbox '${id}' already exists`);
    this.busy.add(id);
    let claimed: string | undefined;
    try {
      claimed = await this.registry.claim(id);
      await mkdir(join(claimed, "workspace"));
      await mkdir(join(claimed, "tmp"), { mode: 0o1777 });
      await this.networks.create(id, record.network ?? "egress");
      await this.registry.save(record);
      claimed = undefined;
      return this.info(record);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw errors.conflict(`sandbox '${id}' already exists`);
      throw err;
    } finally {
      if (claimed) {
        await this.networks.destroy(id);
        await rm(claimed, { recursive: true, force: true });
      }
      this.busy.delete(id);
    }
  }

  async getSandbox(id: string): Promise<SandboxInfo> {
    return this.info(this.record(id));
  }

  async listSandboxes(query: SandboxQuery): Promise<SandboxInfo[]> {
    const matches: SandboxRecord[] = [];
    for (const record of this.registry.records.values()) {
      if (query.after !== undefined && record.id <= query.after) continue;
      if (Object.entries(query.labels).every(([k, v]) => record.labels[k] === v)) matches.push(record);
    }
    matches.sort((a, b) => (a.id < b.id ? -1 : 1));
    return matches.slice(0, query.limit).map((r) => this.info(r));
  }

  async updateSandbox(id: string, patch: SandboxPatch): Promise<SandboxInfo> {
    const record = { ...this.record(id) };
    if (patch.expiresAt !== undefined) record.expiresAt = patch.expiresAt;
    if (patch.labels !== undefined) record.labels = patch.labels;
    if (patch.env !== undefined) record.env = patch.env;
    await this.registry.save(record);
    return this.info(record);
  }

  async deleteSandbox(id: string): Promise<void> {
    this.record(id);
    if (this.busy.has(id)) throw errors.conflict(`sandbox '${id}' is being created or deleted`);
    this.busy.add(id);
    try {
      this.registry.records.delete(id); // from here on no new command can start in it
      const endingProcesses = this.processTables.get(id)?.endAll(); // background processes end as `killed`
      this.processTables.delete(id);
      for (const proc of this.processes.get(id) ?? []) proc.kill();
      await Promise.all([...(this.processes.get(id) ?? [])].map((p) => p.exited.catch(() => {})));
      await endingProcesses;
      this.processes.delete(id);
      await this.cgroups?.destroy(id);
      await this.networks.destroy(id);
      await this.registry.remove(id);
    } finally {
      this.busy.delete(id);
    }
  }

  async exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<ExecResult> {
    const proc = await this.start(id, spec);
    return proc.collect(spec.maxOutputBytes, signal);
  }

  async execStream(id: string, spec: ExecSpec, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    const proc = await this.start(id, spec);
    return proc.events(signal);
  }

  readFile(id: string, path: WorkspacePath) {
    return this.files(id).read(path);
  }

  writeFile(id: string, path: WorkspacePath, body: ReadableStream<Uint8Array>, maxBytes: number) {
    return this.files(id).write(path, body, maxBytes);
  }

  statFile(id: string, path: WorkspacePath) {
    return this.files(id).stat(path);
  }

  listFiles(id: string, path: WorkspacePath, recursive: boolean, limit: number) {
    return this.files(id).list(path, recursive, limit);
  }

  mkdir(id: string, path: WorkspacePath, recursive: boolean) {
    return this.files(id).mkdir(path, recursive);
  }

  moveFile(id: string, from: WorkspacePath, to: WorkspacePath, overwrite: boolean) {
    return this.files(id).move(from, to, overwrite);
  }

  deleteFile(id: string, path: WorkspacePath, recursive: boolean) {
    return this.files(id).remove(path, recursive);
  }

  async startProcess(id: string, spec: ProcessSpec): Promise<ProcessInfo> {
    const table = this.processTable(id);
    const release = table.reserve(spec.processId);
    try {
      await table.ensureDir();
      const proc = await this.start(id, { argv: spec.argv, cwd: spec.cwd, env: spec.env });
      if (!this.registry.records.has(id) || this.processTables.get(id) !== table) {
        proc.kill(); // the sandbox was deleted while it started
        throw errors.sandboxNotFound(id);
      }
      return await table.add(spec, proc);
    } finally {
      release();
    }
  }

  async listProcesses(id: string): Promise<ProcessInfo[]> {
    this.record(id);
    return this.processTables.get(id)?.list() ?? [];
  }

  async getProcess(id: string, processId: string): Promise<ProcessInfo> {
    return this.processTable(id).get(processId);
  }

  readProcessLogs(id: string, processId: string, offset: number | undefined, limitBytes: number): Promise<LogSlice> {
    return this.processTable(id).read(processId, offset, limitBytes);
  }

  followProcessLogs(id: string, processId: string, offset: number, signal: AbortSignal): Promise<AsyncIterable<ProcessLogEvent>> {
    return this.processTable(id).follow(processId, offset, signal);
  }

  killProcess(id: string, processId: string, signal: Signal): Promise<ProcessInfo> {
    return this.processTable(id).kill(processId, signal);
  }

  async waitForPort(id: string, processId: string, spec: WaitForPortSpec, signal: AbortSignal): Promise<void> {
    const table = this.processTable(id);
    table.get(processId);
    await waitForPort(processId, () => this.portAddress(id, spec.port), spec, () => table.watch(processId), signal);
  }

  /** The sandbox's process table, made on first use; not_found for an unknown sandbox. */
  private processTable(id: string): ProcessTable {
    this.record(id);
    let table = this.processTables.get(id);
    if (!table) {
      table = new ProcessTable(id, this.registry.dirOf(id), this.isolation.mode === "bwrap", undefined, this.log);
      this.processTables.set(id, table);
    }
    return table;
  }

  /** On start: the process records a previous run left (those that ran then are `lost` now). */
  private async loadProcessTables(): Promise<void> {
    const now = new Date();
    for (const id of this.registry.records.keys()) {
      const table = new ProcessTable(id, this.registry.dirOf(id), this.isolation.mode === "bwrap", undefined, this.log);
      await table.load(now);
      this.processTables.set(id, table);
    }
  }

  /** The port proxy's HTTP requests (port-forward.ts); its WebSocket upgrades connect to portAddress themselves. */
  async fetchPort(id: string, port: number, request: Request): Promise<Response> {
    return forwardToPort(await this.portAddress(id, port), request, { sandboxId: id, port });
  }

  async close(): Promise<void> {
    clearInterval(this.reaper);
    this.prefork?.close();
    const endingProcesses = [...this.processTables.values()].map((table) => table.endAll());
    const all = [...this.processes.values()].flatMap((set) => [...set]);
    for (const proc of all) proc.kill();
    await Promise.all(all.map((p) => p.exited.catch(() => {})));
    await Promise.all(endingProcesses);
    await this.cgroups?.release();
    await this.networks.close(); // namespaces, links and the table go; the next open makes them again
  }

  /**
   * Where the host reaches the sandbox's `port`: the sandbox's own address with network namespaces;
   * without them (network.ts, SharedNetwork) 127.0.0.1, once the listener is found to be this
   * sandbox's own (409 conflict when something else holds the port).
   */
  async portAddress(id: string, port: number): Promise<PortAddress> {
    const record = this.record(id);
    return this.networks.portAddress(id, record.network ?? "egress", port, () => this.rootPids(id));
  }

  /** How sandboxes are networked here (`namespaces` or `shared`: see network.ts). */
  get networkKind(): "namespaces" | "shared" {
    return this.networks.kind;
  }

  /** The pids of the sandbox's running commands and processes (each the root of its process tree). */
  private rootPids(id: string): number[] {
    return [...(this.processes.get(id) ?? [])].flatMap((p) => (p.child.pid === undefined ? [] : [p.child.pid]));
  }

  /** On start: every sandbox's network, made again (a failure is logged; its next command retries). */
  private async restoreNetworks(): Promise<void> {
    await Promise.all(
      [...this.registry.records.values()].map((record) =>
        this.networks.create(record.id, record.network ?? "egress").catch((err: Error) => this.log(`the network of sandbox '${record.id}' could not be made: ${err.message}`)),
      ),
    );
  }

  /**
   * The command line of a sandboxed command, for the benchmark's direct-spawn baseline: exactly what
   * a command of this sandbox spawns cold (a preforked shell runs the same as a script: see prefork.ts).
   */
  async commandFor(id: string, argv: string[]): Promise<Launch> {
    const record = this.record(id);
    const dirs = this.dirs(id);
    const env = { ...BASE_ENV, ...record.env, PWD: WORKSPACE };
    const net = await this.networks.placement(id, record.network ?? "egress");
    return {
      command: this.isolation.commandLine(dirs, argv, WORKSPACE, (await this.cgroups?.joinFiles(id)) ?? [], env, net),
      timeoutMs: 60_000,
    };
  }

  /** Starts a command; background processes have no timeout (and never stdin). */
  private async start(id: string, spec: Omit<ExecSpec, "timeoutMs" | "maxOutputBytes"> & { timeoutMs?: number }): Promise<SandboxProcess> {
    const record = this.record(id);
    const dirs = this.dirs(id);
    // Asked at once (before any await), so a delete that follows finds whatever network this makes.
    const placed = this.networks.placement(id, record.network ?? "egress");
    if (placed instanceof Promise) placed.catch(() => {}); // awaited below, unless the cwd fails first
    // The common case costs no await at all: /workspace always exists (it cannot be deleted through
    // the API or from inside, where it is a mount point), the sandbox's cgroups and network are made once.
    const hostCwd = spec.cwd === WORKSPACE ? dirs.workspace : await this.checkCwd(id, spec.cwd);
    const joins = this.cgroups?.joinFiles(id) ?? [];
    const cgroupFiles = Array.isArray(joins) ? joins : await joins;
    const net = placed instanceof Promise ? await placed : placed;
    if (!this.registry.records.has(id)) throw errors.sandboxNotFound(id); // deleted while we prepared
    const env = { ...BASE_ENV, ...record.env, ...spec.env, PWD: spec.cwd };
    const launch: Launch = {
      command: this.isolation.commandLine(dirs, spec.argv, spec.cwd, cgroupFiles, env, net),
      hostCwd: this.isolation.mode === "none" ? hostCwd : undefined,
      stdin: spec.stdin,
      timeoutMs: spec.timeoutMs,
    };
    // A command with input spawns cold (its stdin is a pipe of its own); the others are handed to the
    // shell forked for them, if it is ready.
    let preforked: Preforked | undefined;
    const script = spec.stdin === undefined ? this.isolation.script(dirs, spec.argv, spec.cwd, cgroupFiles, env, net) : undefined;
    const shell = script === undefined ? undefined : this.prefork?.take();
    if (shell && script !== undefined) preforked = { shell, script };
    const proc = new SandboxProcess(launch, preforked);
    let set = this.processes.get(id);
    if (!set) this.processes.set(id, (set = new Set()));
    set.add(proc);
    void proc.exited.finally(() => set.delete(proc)).catch(() => {});
    return proc;
  }

  /** A working directory under /workspace must exist; elsewhere bubblewrap reports it. Returns its host path. */
  private async checkCwd(id: string, cwd: string): Promise<string> {
    const dirs = this.dirs(id);
    if (cwd !== WORKSPACE && !cwd.startsWith(`${WORKSPACE}/`)) {
      if (this.isolation.mode === "none") throw errors.invalid("without isolation, cwd must be under /workspace");
      return dirs.workspace;
    }
    const real = await new WorkspaceFiles(dirs.workspace).resolve(cwd.slice(WORKSPACE.length + 1), true);
    const stats = await stat(real.host).catch(() => undefined);
    if (!stats?.isDirectory()) throw errors.invalid(`cwd '${cwd}' is not a directory in the sandbox`);
    return real.host;
  }

  private async reapExpired(): Promise<void> {
    if (this.reaping) return;
    this.reaping = true;
    try {
      const now = Date.now();
      for (const record of [...this.registry.records.values()]) {
        if (Date.parse(record.expiresAt) > now) continue;
        await this.deleteSandbox(record.id).then(
          () => this.log(`sandbox '${record.id}' expired and was removed`),
          (err: unknown) => {
            if (!(err instanceof SandgateError)) this.log(`reaping '${record.id}' failed: ${String(err)}`);
          },
        );
      }
    } finally {
      this.reaping = false;
    }
  }

  private record(id: string): SandboxRecord {
    const record = this.registry.records.get(id);
    if (!record) throw errors.sandboxNotFound(id);
    return record;
  }

  private dirs(id: string) {
    const dir = this.registry.dirOf(id);
    return { workspace: join(dir, "workspace"), tmp: join(dir, "tmp") };
  }

  private files(id: string): WorkspaceFiles {
    this.record(id);
    return new WorkspaceFiles(this.dirs(id).workspace);
  }

  private info(record: SandboxRecord): SandboxInfo {
    return { id: record.id, instance: recordInstance(record), status: "ready", network: record.network ?? "egress", createdAt: record.createdAt, expiresAt: record.expiresAt, labels: record.labels };
  }
}
