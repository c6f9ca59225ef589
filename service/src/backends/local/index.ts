import { chmod, mkdir, readFile, realpath, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Backend, type ExecSpec, type SandboxPatch, type SandboxQuery, type SandboxRecord, applyExpiry, recordInstance } from "../../core/backend.ts";
import { SandgateError, errors } from "../../core/errors.ts";
import { WORKSPACE, type WorkspacePath } from "../../core/paths.ts";
import type { ExecEvent, ExecResult } from "../../schemas/exec.ts";
import type { SandboxInfo } from "../../schemas/sandboxes.ts";
import { agentBinary } from "./agent-binary.ts";
import { type CgroupModel, Cgroups } from "./cgroups.ts";
import { SandboxStorage } from "./disk.ts";
import { Environment } from "./environment.ts";
import { SandboxFiles } from "./files.ts";
import { type Identity, Isolation, type IsolationMode, type ResourceLimits, bubblewrapPath, defaultResourceLimits } from "./isolation.ts";
import { BACKGROUND_WINDOW, SandboxCommand } from "./process.ts";
import { Registry } from "./registry.ts";
import { forwardToPort } from "./port-forward.ts";
import { type SandboxNetworks, openNetworks } from "./network/index.ts";
import type { PortAddress, ProcessLogSlice, ProcessSpec, WaitForPortSpec } from "../../core/backend.ts";
import type { ProcessInfo, ProcessLogEvent, Signal } from "../../schemas/processes.ts";
import { type ProcessLimits, ProcessTable, defaultProcessLimits, waitForPort } from "./processes.ts";
import { LocalSnapshots, type SandboxAccess } from "./snapshots/index.ts";
import { type RestoreOutcome, completeRestore } from "./snapshots/swap.ts";

export interface LocalBackendOptions {
  dataDir: string;
  isolation: IsolationMode;
  resources?: Partial<ResourceLimits>;
  /** How often expired sandboxes are looked for. */
  reapIntervalMs?: number;
  log?: (message: string) => void;
  /** Each sandbox's disk quota in bytes, its process logs included (root hosts with loop devices; see disk.ts). Default 10 GiB. */
  diskBytes?: number;
  /**
   * What the logs of one sandbox's background processes may take on the host's disk together (the
   * oldest output goes first past it; see log-budget.ts). Default: an eighth of `diskBytes`.
   */
  logBudgetBytes?: number;
  /**
   * How root hosts keep sandboxes' disks (disk.ts): `pool` (default), subvolumes of one btrfs pool
   * where btrfs-progs are installed, so restores clone instead of copying; `image`, an ext4 image each.
   */
  disks?: "pool" | "image";
  /** An environment with nothing running in it for this long is stopped (and started again on next use). Default 10 minutes. */
  idleStopMs?: number;
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

/** Host uids of sandboxes start here (root hosts): far from any user, system or container range. */
const UID_BASE = 1_900_000_000;
const UID_SLOTS = 1_000_000;

/**
 * Sandboxes on this machine: a directory each under the data directory, and one long-lived isolated
 * environment each (environment.ts: bubblewrap with the sandbox's agent inside, started on first use),
 * where every command, background process and file operation runs; the registry kept on disk,
 * expired sandboxes reaped, idle environments stopped.
 */
export class LocalBackend implements Backend {
  readonly name = "local";
  private readonly registry: Registry;
  private readonly environments = new Map<string, Environment>();
  /** What the last environment start made of a noted restore, for the restore waiting on it. */
  private readonly restoreOutcomes = new Map<string, RestoreOutcome>();
  /** Host uids of the sandboxes (root hosts only), kept in each sandbox's directory. */
  private readonly identities = new Map<string, number>();
  /** The background processes of each sandbox that has had any (see processes.ts). */
  private readonly processTables = new Map<string, ProcessTable>();
  /** Ids with a create or delete under way; a second one for the same id is a conflict. */
  private readonly busy = new Set<string>();
  private readonly reaper: NodeJS.Timeout;
  /** Snapshots (snapshots/): set once the backend is open. */
  snapshots!: LocalSnapshots;

  private constructor(
    dataDir: string,
    readonly isolation: Isolation,
    private readonly cgroups: Cgroups | undefined,
    private readonly networks: SandboxNetworks,
    private readonly storage: SandboxStorage,
    private readonly agentPath: string,
    reapIntervalMs: number,
    private readonly idleStopMs: number,
    private readonly processLimits: ProcessLimits,
    private readonly log: (message: string) => void,
  ) {
    this.registry = new Registry(dataDir);
    this.reaper = setInterval(() => void this.reap(), reapIntervalMs);
    this.reaper.unref();
  }

  static async open(options: LocalBackendOptions): Promise<LocalBackend> {
    const log = options.log ?? (() => {});
    const resources = { ...defaultResourceLimits, ...options.resources };
    await mkdir(options.dataDir, { recursive: true });
    const dataDir = await realpath(options.dataDir);
    // Sandbox identities must pass through (not list) the data directory to reach their own disk.
    if (process.getuid?.() === 0) await chmod(dataDir, 0o711);
    const bwrap = bubblewrapPath();
    if (options.isolation === "bwrap" && !bwrap) {
      throw new Error("bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap) or start with --isolation=none to run commands WITHOUT isolation");
    }
    const diskBytes = options.diskBytes ?? 10 * 1024 ** 3;
    const logBudgetBytes = options.logBudgetBytes ?? Math.floor(diskBytes / 8);
    const storage = await SandboxStorage.open(dataDir, diskBytes, logBudgetBytes, options.isolation === "bwrap", options.disks);
    const processLimits: ProcessLimits = { ...defaultProcessLimits, logBudgetBytes };
    const isolation = new Isolation(options.isolation, bwrap, storage.runtimeDir, resources);
    const detected = options.isolation === "bwrap" ? Cgroups.detect(resources, dataDir) : undefined;
    const cgroups = detected instanceof Cgroups ? detected : undefined;
    if (typeof detected === "string") log(`cgroups: none (${detected}): no per-sandbox memory or process-count limits`);
    if (cgroups) log(`cgroups: ${cgroups.summary}`);
    const networks = await openNetworks({ dataDir, isolation: options.isolation, want: options.network, log });
    log(`network: ${networks.summary}`);
    if (options.isolation === "bwrap") log(`disk: ${storage.summary}`);

    if (options.isolation === "bwrap") {
      log(isolation.separateIdentities ? `identity: each sandbox runs as its own unprivileged host uid (from ${UID_BASE})` : "identity: sandboxes run as this host's (unprivileged) user");
    }
    const agent = await agentBinary(storage.runtimeDir, log);
    const backend = new LocalBackend(dataDir, isolation, cgroups, networks, storage, agent, options.reapIntervalMs ?? 1000, options.idleStopMs ?? 10 * 60_000, processLimits, log);
    await cgroups?.destroyAll(); // a previous run's groups, possibly with survivors of a crash in them
    const { removed } = await backend.registry.load();
    const released = await storage.releaseAll(new Set(backend.registry.records.keys()));
    if (released.unmounted > 0) log(`unmounted the disks of ${released.unmounted} sandbox(es) a previous run left mounted`);
    if (released.swept > 0) log(`removed the disks of ${released.swept} sandbox(es) deleted (or half made) when a previous run stopped`);
    await backend.loadIdentities();
    await backend.loadProcessTables();
    if (removed.length > 0) log(`removed ${removed.length} incomplete sandbox director${removed.length === 1 ? "y" : "ies"}`);
    await backend.reapExpired();
    await backend.restoreNetworks();
    backend.snapshots = await LocalSnapshots.open(storage.snapshotDir, storage.restorePath, backend.snapshotAccess(), log);
    return backend;
  }

  /** The cgroup model that limits sandboxes here, if any (the host prints it when it listens). */
  get cgroupModel(): CgroupModel | undefined {
    return this.cgroups?.model;
  }

  async createSandbox(record: SandboxRecord): Promise<SandboxInfo> {
    const { id } = record;
    if (this.registry.records.has(id) || this.busy.has(id)) throw errors.conflict(`sandbox '${id}' already exists`);
    this.busy.add(id);
    let claimed: string | undefined;
    try {
      const dir = (claimed = await this.registry.claim(id));
      // The network (a run of ip) is made while the sandbox's files are set up; the record is saved once both are.
      await Promise.all([
        this.networks.create(id, record.network ?? "egress"),
        (async () => {
          await chmod(dir, 0o711);
          await this.assignIdentity(id, dir);
          // With disk quotas the workspace is made on the sandbox's disk when its environment first starts.
          await this.storage.create(dir, this.identityOf(id));
        })(),
      ]);
      await this.registry.save(record);
      claimed = undefined;
      return this.info(record);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw errors.conflict(`sandbox '${id}' already exists`);
      throw err;
    } finally {
      if (claimed) {
        await this.networks.destroy(id);
        this.identities.delete(id);
        await this.registry.remove(id);
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

  async updateSandbox(id: string, patch: SandboxPatch, now: number): Promise<SandboxInfo> {
    const record = { ...this.record(id) };
    if (patch.expiry) record.expiresAt = applyExpiry(patch.expiry, record.expiresAt, now);
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
      this.snapshots?.forget(id);
      const table = this.processTables.get(id);
      this.processTables.delete(id);
      table?.markEnding(); // background processes end as `killed`
      // Everything in the sandbox ends with its environment, whoever is still reading from it.
      await this.environments.get(id)?.stop(true);
      this.environments.delete(id);
      // What no environment's exit released: a disk kept mounted for a restart whose start never came.
      await this.storage.release(id);
      await table?.endAll();
      await this.cgroups?.destroy(id);
      this.identities.delete(id);
      await this.networks.destroy(id);
      await this.registry.remove(id);
      await this.storage.destroy(id); // after the registry forgot it: a crash before this leaves what the next start sweeps
    } finally {
      this.busy.delete(id);
    }
  }

  async exec(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<ExecResult> {
    const proc = await this.start(id, spec);
    return proc.collect(spec.maxOutputBytes, signal);
  }

  async execStream(id: string, spec: ExecSpec, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    // Its output goes out as JSON text: the agent escapes it (process.ts, events()).
    const proc = await this.start(id, { ...spec, jsonText: true });
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
      const proc = await this.start(id, { argv: spec.argv, cwd: spec.cwd, env: spec.env, windowBytes: BACKGROUND_WINDOW });
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

  async readProcessLogs(id: string, processId: string, offset: number | undefined, limitBytes: number): Promise<ProcessLogSlice> {
    const table = this.processTable(id);
    // The status first: once it says ended, the slice read after it holds all the output there is.
    const { status } = table.get(processId);
    return { status, ...(await table.read(processId, offset, limitBytes)) };
  }

  followProcessLogs(id: string, processId: string, offset: number, signal: AbortSignal): Promise<AsyncIterable<ProcessLogEvent>> {
    return this.processTable(id).follow(processId, offset, signal);
  }

  killProcess(id: string, processId: string, signal: Signal): Promise<ProcessInfo> {
    return this.processTable(id).kill(processId, signal);
  }

  async waitForPort(id: string, processId: string, spec: WaitForPortSpec, signal: AbortSignal): Promise<ProcessInfo> {
    const table = this.processTable(id);
    table.get(processId);
    await waitForPort(processId, () => this.portAddress(id, spec.port), spec, () => table.watch(processId), signal);
    return table.get(processId);
  }

  /** The sandbox's process table, made on first use; not_found for an unknown sandbox. */
  private processTable(id: string): ProcessTable {
    this.record(id);
    let table = this.processTables.get(id);
    if (!table) {
      table = new ProcessTable(id, this.registry.dirOf(id), this.processLimits, this.log);
      this.processTables.set(id, table);
    }
    return table;
  }

  /** On start: the process records a previous run left (those that ran then are `lost` now). */
  private async loadProcessTables(): Promise<void> {
    const now = new Date();
    for (const id of this.registry.records.keys()) {
      const table = new ProcessTable(id, this.registry.dirOf(id), this.processLimits, this.log);
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
    this.snapshots?.close();
    for (const table of this.processTables.values()) table.markEnding();
    await Promise.all([...this.environments.values()].map((env) => env.stop(true)));
    this.environments.clear();
    await Promise.all([...this.processTables.values()].map((table) => table.endAll()));
    await this.cgroups?.release();
    await this.networks.close(); // namespaces, links and the table go; the next open makes them again
    await this.storage.close();
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

  /** The host pid of the sandbox's environment (the root of every process tree in it), while it runs. */
  private rootPids(id: string): number[] {
    const pid = this.environments.get(id)?.pid;
    return pid === undefined ? [] : [pid];
  }

  /** On start: every sandbox's network, made again (a failure is logged; its next command retries). */
  private async restoreNetworks(): Promise<void> {
    await Promise.all(
      [...this.registry.records.values()].map((record) =>
        this.networks.create(record.id, record.network ?? "egress").catch((err: Error) => this.log(`the network of sandbox '${record.id}' could not be made: ${err.message}`)),
      ),
    );
  }

  /** Starts a command in the sandbox's environment; background processes have no timeout (and never stdin). */
  private async start(id: string, spec: Omit<ExecSpec, "timeoutMs" | "maxOutputBytes"> & { timeoutMs?: number; windowBytes?: number; jsonText?: boolean }): Promise<SandboxCommand> {
    const record = this.record(id);
    const env = this.environment(id);
    const release = env.hold();
    try {
      const agent = await env.agent();
      if (!this.registry.records.has(id)) throw errors.sandboxNotFound(id); // deleted while it started
      const command = new SandboxCommand(agent, {
        argv: spec.argv,
        cwd: spec.cwd,
        env: { ...BASE_ENV, ...record.env, ...spec.env, PWD: spec.cwd },
        stdin: spec.stdin,
        timeoutMs: spec.timeoutMs,
        windowBytes: spec.windowBytes,
        jsonText: spec.jsonText,
      });
      await command.started;
      // A background process keeps its environment busy (not idle-stopped) until it ends.
      void command.exited.catch(() => {}).finally(release);
      return command;
    } catch (err) {
      release();
      throw err;
    }
  }

  /** The sandbox's environment object (not started until something needs it). */
  private environment(id: string): Environment {
    let env = this.environments.get(id);
    if (!env) {
      env = new Environment(id, {
        prepare: () => this.prepareEnvironment(id),
        release: () => this.releaseEnvironment(id),
        log: this.log,
      });
      this.environments.set(id, env);
    }
    return env;
  }

  /** What an environment needs before it starts: its disk, cgroups and network; its command line. */
  private async prepareEnvironment(id: string) {
    const record = this.record(id);
    const dir = this.registry.dirOf(id);
    const identity = this.identityOf(id);
    // A restore noted before the environment last ended is swapped in first (snapshots/swap.ts).
    const dirs = await this.storage.prepare(id, dir, identity, async (workspace) => {
      const outcome = await completeRestore(dir, workspace, identity, this.log);
      if (outcome !== "none") this.restoreOutcomes.set(id, outcome);
      return outcome === "swapped";
    });
    const joins = this.cgroups?.joinFiles(id) ?? [];
    const cgroupFiles = Array.isArray(joins) ? joins : await joins;
    const net = await this.networks.placement(id, record.network ?? "egress");
    return this.isolation.environment(dirs, this.agentPath, cgroupFiles, net, identity);
  }

  /** What snapshots and restores need of a sandbox (snapshots/index.ts). */
  private snapshotAccess(): SandboxAccess {
    return {
      workspaceLimit: this.storage.workspaceLimit,
      directory: (id) => {
        if (this.busy.has(id)) throw errors.conflict(`sandbox '${id}' is being created or deleted`);
        this.record(id);
        return this.registry.dirOf(id);
      },
      agent: async (id) => {
        this.record(id);
        const env = this.environment(id);
        const release = env.hold();
        try {
          return { agent: await env.agent(), release };
        } catch (err) {
          release();
          throw err;
        }
      },
      runningProcesses: (id) => this.processTables.get(id)?.runningCount() ?? 0,
      killProcesses: async (id) => {
        const table = this.processTables.get(id);
        const running = table?.list().filter((p) => p.status === "running") ?? [];
        await Promise.all(running.map((p) => table!.kill(p.id, "KILL")));
        return running.length;
      },
      restartEnvironment: async (id) => {
        await this.environments.get(id)?.stop(false, true);
        this.restoreOutcomes.delete(id);
        const env = this.environment(id);
        const release = env.hold();
        try {
          await env.agent();
        } finally {
          release();
        }
        const outcome = this.restoreOutcomes.get(id) ?? "none";
        this.restoreOutcomes.delete(id);
        return outcome;
      },
    };
  }

  private async releaseEnvironment(id: string): Promise<void> {
    await this.storage.release(id);
  }

  private identityOf(id: string): Identity | undefined {
    const uid = this.identities.get(id);
    return uid === undefined ? undefined : { uid, gid: uid };
  }

  /** A new sandbox's host uid: the lowest free one of the range, kept in its directory. */
  private async assignIdentity(id: string, dir: string): Promise<void> {
    if (!this.isolation.separateIdentities) return;
    const taken = new Set(this.identities.values());
    let uid = UID_BASE;
    while (taken.has(uid) && uid < UID_BASE + UID_SLOTS) uid++;
    if (uid >= UID_BASE + UID_SLOTS) throw new SandgateError("sandbox_unavailable", "no sandbox identity is free on this host");
    // Taken before the write: sandboxes created at once must not each pick the same free uid.
    this.identities.set(id, uid);
    try {
      await writeFile(join(dir, "identity"), String(uid), { mode: 0o600 });
    } catch (err) {
      this.identities.delete(id);
      throw err;
    }
  }

  private async loadIdentities(): Promise<void> {
    if (!this.isolation.separateIdentities) return;
    for (const id of this.registry.records.keys()) {
      const text = await readFile(join(this.registry.dirOf(id), "identity"), "utf8").catch(() => undefined);
      const uid = Number(text);
      if (text !== undefined && Number.isInteger(uid) && uid >= UID_BASE) this.identities.set(id, uid);
      else await this.assignIdentity(id, this.registry.dirOf(id)); // made before identities existed
    }
  }

  /** Expired sandboxes go, each on its own (one slow delete never holds up another); idle environments stop. */
  private async reap(): Promise<void> {
    await this.reapExpired();
    const now = Date.now();
    for (const env of this.environments.values()) {
      if (env.running && env.idleFor(now) >= this.idleStopMs && !this.processTables.get(env.sandboxId)?.runningCount()) {
        this.log(`stopping the idle environment of sandbox '${env.sandboxId}'`);
        void env.stop(false);
      }
    }
  }

  /**
   * Deletes the expired sandboxes not already being deleted. No tick waits for an earlier one: a
   * delete that takes long holds up its own sandbox only, never the expiry of the others.
   */
  private async reapExpired(): Promise<void> {
    const now = Date.now();
    const expired = [...this.registry.records.values()].filter((record) => Date.parse(record.expiresAt) <= now && !this.busy.has(record.id));
    await Promise.all(
      expired.map((record) =>
        this.deleteSandbox(record.id).then(
          () => this.log(`sandbox '${record.id}' expired and was removed`),
          (err: unknown) => {
            if (!(err instanceof SandgateError)) this.log(`reaping '${record.id}' failed: ${String(err)}`);
          },
        ),
      ),
    );
  }

  private record(id: string): SandboxRecord {
    const record = this.registry.records.get(id);
    if (!record) throw errors.sandboxNotFound(id);
    return record;
  }

  private files(id: string): SandboxFiles {
    this.record(id);
    const env = this.environment(id);
    return new SandboxFiles(async () => {
      const release = env.hold();
      try {
        return await env.agent();
      } finally {
        release();
      }
    });
  }

  private info(record: SandboxRecord): SandboxInfo {
    return { id: record.id, instance: recordInstance(record), status: "ready", network: record.network ?? "egress", createdAt: record.createdAt, expiresAt: record.expiresAt, labels: record.labels };
  }
}
