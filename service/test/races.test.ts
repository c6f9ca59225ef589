/**
 * Issue 13's "race-free file operations" and issue 14's "a sandbox is hostile while its snapshot or
 * restore runs", attacked through the public REST API of a real host: a swapper inside sandbox A
 * (test/fixtures/swapper.c) exchanges a real directory with a symlink in a tight loop
 * (renameat2 RENAME_EXCHANGE) while A's own API calls go through that directory. The symlink points
 * at sandbox B's workspace on the host, at a host directory this test made (world-readable, a marker
 * file in it), or at '/' (then the calls' paths continue to that host directory).
 *
 * Judged from the host: the host directory and B's workspace are unchanged (listed and hashed before
 * and after), nothing is planted outside, and no answer holds anything of B or the host. Controls:
 * every call succeeds on A's own files without the swapper, the swapper reports its swaps and runs
 * for the whole round, and the restore swapper reports that it caught the staging directory.
 * Every attempt is counted for `npm run reliability` (test/attempts.ts).
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Attempts } from "./attempts.ts";
import { type TestHost, eventually, startHost, tempDir, workspaceOnHost } from "./host.ts";

const TOKEN = "race-test-token";
const figures = new Attempts("races");
const A = "race-a";
const B = "race-b";
/** Attempts per operation per round (three rounds: B's workspace, the host directory, '/'). */
const PER_ROUND = 15;
/** Snapshots are slower: one every this many attempts of the others. */
const SNAPSHOT_EVERY = 1;
/**
 * Snapshots refuse a symlink that leads out of /workspace (400), so the link's name is left out: the
 * swapped name itself, a directory or such a link by turns, is what each snapshot races against.
 */
const SNAPSHOT_EXCLUDES = ["swap-link", ".race-stage-link-*"];
/** Restores per round, each against a fresh stage swapper (the restore ends it). */
const RESTORES_PER_ROUND = 10;

const secret = (who: string) => `${who}-SECRET-${randomBytes(8).toString("hex")}`;
const HOST_SECRET = secret("HOST");
const B_SECRET = secret("B");
const ONLY_HOST = `only-host-${randomBytes(4).toString("hex")}`;
const ONLY_B = `only-b-${randomBytes(4).toString("hex")}`;
const A_CONTENT = "A-CONTENT";
const PLANT = `PLANT-${randomBytes(4).toString("hex")}`;
/** What must never appear in an answer to A (or in A's snapshots). */
const FORBIDDEN = [HOST_SECRET, B_SECRET, ONLY_HOST, ONLY_B];

let host: TestHost;
let hostDir: string;
let bWorkspace: string;

interface Round {
  tag: string;
  /** Where swap-link points. */
  target: string;
  /** Below /workspace/swap, the path that leads (through the target) to the victim directory. */
  prefix: string;
  /** A name only the victim directory holds. */
  only: string;
}

let rounds: Round[] = [];
const dirOf = (round: Round) => `/workspace/swap${round.prefix ? `/${round.prefix}` : ""}`;

/** What one call answered, and whether it is what A's own files give (`ok`) or shows something of B or the host (`bad`). */
interface Outcome {
  /** The HTTP status of the (first) call. */
  status: number;
  ok: boolean;
  text: string;
  bad?: string;
}

interface Op {
  /** Tag in the names it makes (attributes a planted or changed path to it). */
  tag: string;
  label: string;
  every?: number;
  run(round: Round, i: string): Promise<Outcome>;
}

async function answer(res: Response): Promise<{ status: number; text: string }> {
  return { status: res.status, text: await res.text() };
}

const api = (method: string, path: string, body?: unknown) => host.call(method, `/v1/sandboxes/${A}${path}`, body).then(answer);
const q = (path: string) => encodeURIComponent(path);

async function exec(id: string, command: string, env: Record<string, string> = {}, cwd = "/workspace") {
  const res = await host.json("POST", `/v1/sandboxes/${id}/exec`, { command, env, cwd, timeoutMs: 60_000 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const body = res.body as { exitCode: number; stdout: string; stderr: string };
  expect(body.exitCode, body.stderr).toBe(0);
  return body;
}

/** Every operation of issue 13's list, each aimed through the swapped directory. */
const ops: Op[] = [
  {
    tag: "read-raw",
    label: "read (raw)",
    async run(round) {
      const r = await api("GET", `/files/content?path=${q(`${dirOf(round)}/data.txt`)}`);
      return { status: r.status, ok: r.status === 200 && r.text === A_CONTENT, text: r.text, ...(r.status === 200 && r.text !== A_CONTENT ? { bad: `read ${r.text}` } : {}) };
    },
  },
  {
    tag: "read-json",
    label: "read (JSON)",
    async run(round) {
      const r = await api("POST", "/files/read", { path: `${dirOf(round)}/data.txt` });
      const content = r.status === 200 ? (JSON.parse(r.text) as { content: string }).content : undefined;
      return { status: r.status, ok: content === A_CONTENT, text: r.text, ...(content !== undefined && content !== A_CONTENT ? { bad: `read ${content}` } : {}) };
    },
  },
  {
    tag: "write-raw",
    label: "write (raw)",
    async run(round, i) {
      const name = Number(i) % 2 === 1 ? "over-write-raw.txt" : `planted-write-raw-${round.tag}-${i}`;
      const r = await api("PUT", `/files/content?path=${q(`${dirOf(round)}/${name}`)}`, new TextEncoder().encode(PLANT));
      return { status: r.status, ok: r.status === 200, text: r.text };
    },
  },
  {
    tag: "write-json",
    label: "write (JSON)",
    async run(round, i) {
      const name = Number(i) % 2 === 1 ? "over-write-json.txt" : `planted-write-json-${round.tag}-${i}`;
      const r = await api("POST", "/files/write", { path: `${dirOf(round)}/${name}`, content: PLANT });
      return { status: r.status, ok: r.status === 200, text: r.text };
    },
  },
  {
    tag: "list",
    label: "list",
    async run(round, i) {
      const r = await api("GET", `/files?path=${q(dirOf(round))}${Number(i) % 2 === 1 ? "&recursive=true" : ""}`);
      return { status: r.status, ok: r.status === 200 && r.text.includes("only-a"), text: r.text };
    },
  },
  {
    tag: "stat",
    label: "stat",
    async run(round, i) {
      // Alternately A's file (its size, not the victim's) and a name only the victim holds (never found).
      if (Number(i) % 2 === 1) {
        const asked = `${dirOf(round)}/${round.only}`;
        const r = await api("GET", `/files/stat?path=${q(asked)}`);
        // The refusal names the path asked for; anything else of the victim's would be a leak.
        return { status: r.status, ok: r.status === 404, text: r.text.replaceAll(asked, "<asked>"), ...(r.status === 200 ? { bad: `stat found ${round.only}` } : {}) };
      }
      const r = await api("GET", `/files/stat?path=${q(`${dirOf(round)}/data.txt`)}`);
      const size = r.status === 200 ? (JSON.parse(r.text) as { size: number }).size : undefined;
      return { status: r.status, ok: size === A_CONTENT.length, text: r.text, ...(size !== undefined && size !== A_CONTENT.length ? { bad: `stat size ${size}` } : {}) };
    },
  },
  {
    tag: "mkdir",
    label: "mkdir",
    async run(round, i) {
      const r = await api("POST", "/files/mkdir", { path: `${dirOf(round)}/planted-mkdir-${round.tag}-${i}/sub`, recursive: true });
      return { status: r.status, ok: r.status === 201, text: r.text };
    },
  },
  {
    tag: "move",
    label: "move",
    async run(round, i) {
      // Even: out of the swapped directory into A's own (a victim's file would be exfiltrated);
      // odd (and the control): from A's own into it (a file would be planted).
      const out = Number(i) % 2 === 0;
      const from = out ? `${dirOf(round)}/mv-${round.tag}-${i}` : `/workspace/stash/mv-${round.tag}-${i}`;
      const to = out ? `/workspace/loot/mv-${round.tag}-${i}` : `${dirOf(round)}/planted-move-${round.tag}-${i}`;
      const r = await api("POST", "/files/move", { from, to });
      return { status: r.status, ok: r.status === 200, text: r.text };
    },
  },
  {
    tag: "delete",
    label: "delete",
    async run(round, i) {
      const r = await api("DELETE", `/files?path=${q(`${dirOf(round)}/del-${round.tag}-${i}`)}`);
      return { status: r.status, ok: r.status === 204, text: r.text };
    },
  },
  {
    tag: "compat-upload",
    label: "compat upload",
    async run(round, i) {
      const name = Number(i) % 2 === 1 ? "over-compat-upload.txt" : `planted-compat-upload-${round.tag}-${i}`;
      const r = await answer(await host.call("POST", `/sandbox/${A}/upload`, { file_path: `${dirOf(round)}/${name}`, content: PLANT }));
      return { status: r.status, ok: r.status === 200, text: r.text };
    },
  },
  {
    tag: "compat-download",
    label: "compat download",
    async run(round) {
      const r = await answer(await host.call("POST", `/sandbox/${A}/download`, { file_path: `${dirOf(round)}/data.txt` }));
      const content = r.status === 200 ? (JSON.parse(r.text) as { content: string }).content : undefined;
      return { status: r.status, ok: content === A_CONTENT, text: r.text, ...(content !== undefined && content !== A_CONTENT ? { bad: `download ${content}` } : {}) };
    },
  },
  {
    tag: "git",
    label: "git checkout (dir)",
    async run(round, i) {
      const r = await api("POST", "/git/checkout", { url: "file:///workspace/repo", dir: `${dirOf(round)}/planted-git-${round.tag}-${i}` });
      return { status: r.status, ok: r.status === 201, text: r.text };
    },
  },
  {
    tag: "exec",
    label: "exec cwd",
    async run(round, i) {
      const r = await api("POST", "/exec", { command: commandIn(round, "exec", i), cwd: dirOf(round), timeoutMs: 30_000 });
      return { status: r.status, ok: r.status === 200 && r.text.includes(`${A_CONTENT}only-a`), text: r.text };
    },
  },
  {
    tag: "process",
    label: "process cwd",
    async run(round, i) {
      const started = await api("POST", "/processes", { command: commandIn(round, "process", i), cwd: dirOf(round) });
      if (started.status !== 201) return { status: started.status, ok: false, text: started.text };
      const pid = (JSON.parse(started.text) as { id: string }).id;
      let info = "";
      await eventually(async () => {
        info = (await api("GET", `/processes/${pid}`)).text;
        return (JSON.parse(info) as { status: string }).status !== "running";
      }, 30_000);
      const logs = await api("GET", `/processes/${pid}/logs`);
      return { status: started.status, ok: logs.status === 200 && logs.text.includes(`${A_CONTENT}only-a`), text: `${started.text}${info}${logs.text}` };
    },
  },
  {
    tag: "snapshot",
    label: "snapshot create",
    every: SNAPSHOT_EVERY,
    async run() {
      const made = await api("POST", "/snapshots", { excludes: SNAPSHOT_EXCLUDES });
      if (made.status !== 201) return { status: made.status, ok: false, text: made.text };
      const id = (JSON.parse(made.text) as { id: string }).id;
      const archive = await host.call("GET", `/v1/snapshots/${id}/archive`);
      const bytes = Buffer.from(await archive.arrayBuffer());
      expect((await host.call("DELETE", `/v1/snapshots/${id}`)).status).toBe(204);
      // The archive as text: member names and contents, searched for the victims' markers.
      return { status: made.status, ok: archive.status === 200 && bytes.toString("latin1").includes(A_CONTENT), text: `${made.text}${bytes.toString("latin1")}` };
    },
  },
];

/** A command run with its cwd in the swapped directory: reads there, lists, and plants a file. */
function commandIn(round: Round, tag: string, i: string): string {
  // The victim's own name is never in the command: the process API answers with its argv.
  return `cat data.txt; ls -a | grep -x only-a; cat only-* 2>/dev/null; ls -a; echo ${PLANT} > planted-${tag}-${round.tag}-${i}`;
}

/** The markers of B or the host found in an answer. */
const leaks = (text: string) => FORBIDDEN.filter((marker) => text.includes(marker));

/** A directory as the host sees it: every path with its type, mode, owner and content hash (or link target). */
function tree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    const abs = rel ? join(root, rel) : root;
    const st = lstatSync(abs);
    let desc = `${st.mode.toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) desc += ` -> ${readlinkSync(abs)}`;
    else if (st.isFile()) desc += ` ${createHash("sha256").update(readFileSync(abs)).digest("hex")}`;
    else if (st.isDirectory()) for (const name of readdirSync(abs)) walk(rel ? `${rel}/${name}` : name);
    out.set(rel || ".", desc);
  };
  walk("");
  return out;
}

/** Paths added, removed or changed between two trees. */
function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p) !== after.get(p)).sort();
}

/** Names our calls make or move: found at the top of the host's / or /tmp, they were planted there. */
const PLANTED_NAME = /^(planted-[a-z-]+-(b|host|root)-|over-[a-z-]+\.txt$|(mv|del)-(b|host|root)-(\d+|ctl)$|only-a$|restore-marker$|\.race-stage-link-|\.sandgate-upload-)/;
const plantedOnHost = () => ["/", "/tmp"].flatMap((dir) => readdirSync(dir).filter((name) => PLANTED_NAME.test(name)).map((name) => join(dir, name)));

/** The victim's files: the same names A's swapped directory holds, with the victim's content. */
function victimScript(content: string, only: string): string {
  const names = rounds.flatMap((r) => [...Array.from({ length: PER_ROUND }, (_, i) => String(i)), "ctl"].flatMap((i) => [`del-${r.tag}-${i}`, `mv-${r.tag}-${i}`]));
  const overs = ops.map((op) => `over-${op.tag}.txt`);
  return [`printf %s '${content}' > data.txt`, `printf %s '${content}' > ${only}`, ...[...names, ...overs].map((n) => `printf %s '${content}' > ${n}`)].join("\n");
}

/** A's workspace for a round: the real directory (A's own files, named as the victim's) and the link. */
async function setUpA(round: Round): Promise<void> {
  const indices = [...Array.from({ length: PER_ROUND }, (_, i) => String(i)), "ctl"].join(" ");
  const overs = ops.map((op) => `over-${op.tag}.txt`).join(" ");
  await exec(
    A,
    [
      "set -e",
      "rm -rf swap swap-link loot stash",
      'mkdir -p "swap/$P" loot stash',
      'cd "swap/$P"',
      `printf %s ${A_CONTENT} > data.txt`,
      ": > only-a",
      `for f in ${overs}; do printf A-OVER > $f; done`,
      `for i in ${indices}; do : > del-$R-$i; printf A-MV > mv-$R-$i; printf A-STASH > /workspace/stash/mv-$R-$i; done`,
      'ln -s "$T" /workspace/swap-link',
    ].join("\n"),
    { P: round.prefix || ".", R: round.tag, T: round.target },
  );
}

let trees: { hostDir: Map<string, string>; b: Map<string, string>; root: string };
const swaps: Record<string, number> = {};

beforeAll(async () => {
  host = await startHost({ token: TOKEN });
  for (const id of [A, B]) expect((await host.json("POST", "/v1/sandboxes", { id })).status).toBe(201);
  // B stays busy (its environment, and with it its disk, stays up) for the whole file.
  expect((await host.json("POST", `/v1/sandboxes/${B}/processes`, { command: "sleep 3600" })).status).toBe(201);
  bWorkspace = workspaceOnHost(host.dataDir, B);
  hostDir = tempDir("sandgate-race-host-");
  chmodSync(hostDir, 0o755); // readable by anyone on the host: only the sandbox boundary protects it
  rounds = [
    { tag: "b", target: bWorkspace, prefix: "", only: ONLY_B },
    { tag: "host", target: hostDir, prefix: "", only: ONLY_HOST },
    { tag: "root", target: "/", prefix: hostDir.slice(1), only: ONLY_HOST },
  ];
  execFileSync("/bin/sh", ["-c", victimScript(HOST_SECRET, ONLY_HOST)], { cwd: hostDir });
  await exec(B, victimScript(B_SECRET, ONLY_B));

  // The swapper, built here and uploaded into A; a git repository in A for the checkouts.
  const binary = join(tempDir("sandgate-race-bin-"), "swapper");
  execFileSync("cc", ["-O2", "-o", binary, join(dirname(fileURLToPath(import.meta.url)), "fixtures", "swapper.c")]);
  const up = await host.call("PUT", `/v1/sandboxes/${A}/files/content?path=/workspace/bin/swapper`, readFileSync(binary));
  expect(up.status).toBe(200);
  await exec(A, "chmod 755 bin/swapper && git init -q repo && git -C repo -c user.email=r@r -c user.name=r commit -q --allow-empty -m init");
  trees = { hostDir: tree(hostDir), b: tree(bWorkspace), root: rootOf() };
  expect(trees.hostDir.get("data.txt")).toBeDefined(); // control: the victims hold what the calls aim at
  expect(trees.b.get(ONLY_B)).toBeDefined();
}, 120_000);

afterAll(async () => {
  figures.save();
  await host?.stop();
});

/** Files of A's workspace (seen from the host) that hold, or are named after, something of a victim's. */
function victimInA(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      if (leaks(entry.name).length) found.push(abs);
      if (entry.isDirectory()) walk(abs);
      else if (entry.isFile() && leaks(readFileSync(abs, "latin1")).length) found.push(abs);
    }
  };
  walk(workspaceOnHost(host.dataDir, A));
  return found;
}

/** The host's / itself (its owner and mode: a chown or chmod that followed a link would show). */
const rootOf = () => {
  const st = lstatSync("/");
  return `${st.mode.toString(8)} ${st.uid}:${st.gid}`;
};

/**
 * Paths changed in the victims since the start, and files planted at the top of / or /tmp; checked
 * after every round, and counted as a figure of its own (one check a round).
 */
function victimChanges(): string[] {
  const changes = [
    ...changed(trees.hostDir, tree(hostDir)).map((p) => `host:${p}`),
    ...changed(trees.b, tree(bWorkspace)).map((p) => `b:${p}`),
    ...(rootOf() === trees.root ? [] : [`/: ${trees.root} -> ${rootOf()}`]),
    ...plantedOnHost().map((p) => `planted:${p}`),
  ];
  figures.record("victims (host directory, B's workspace, /) unchanged after a round", 1, changes.length > 0 ? 1 : 0, "rounds");
  return changes;
}

describe("file operations against a swapper in the sandbox", () => {
  const tally = new Map<string, { attempts: number; escapes: string[]; succeeded: number; statuses: Record<number, number> }>();
  for (const op of ops) tally.set(op.tag, { attempts: 0, escapes: [], succeeded: 0, statuses: {} });

  it("gets nothing of B or the host through any file operation, git, exec or process cwd, or a snapshot", async () => {
    try {
      await fileRounds();
    } finally {
      for (const op of ops) figures.record(`swapper vs ${op.label}`, tally.get(op.tag)!.attempts, tally.get(op.tag)!.escapes.length, "calls");
    }
    const rows = ops.map((op) => ({ op: op.label, ...tally.get(op.tag)!, escapes: tally.get(op.tag)!.escapes.length }));
    console.log(
      `races: swaps per round ${JSON.stringify(swaps)}\n${rows.map((r) => `  ${r.op}: ${r.attempts} attempts, ${r.succeeded} answered with A's files, statuses ${JSON.stringify(r.statuses)}, ${r.escapes} escapes`).join("\n")}`,
    );
    for (const op of ops) expect(tally.get(op.tag)!.escapes, op.label).toEqual([]);
  });

  async function fileRounds(): Promise<void> {
    for (const round of rounds) {
      await setUpA(round);
      // Controls: without the swapper every call works on A's own files.
      for (const op of ops) {
        const control = await op.run(round, "ctl");
        expect(control.ok, `${op.label} (${round.tag}) control: ${control.text.slice(0, 300)}`).toBe(true);
        expect(leaks(control.text)).toEqual([]);
      }

      const started = await host.json("POST", `/v1/sandboxes/${A}/processes`, { argv: ["/workspace/bin/swapper", "dir", "swap", "swap-link"], cwd: "/workspace" });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      const pid = (started.body as { id: string }).id;
      const logs = async () => (await host.json("GET", `/v1/sandboxes/${A}/processes/${pid}/logs`)).body as { stdout: string; stderr: string };
      await eventually(async () => (await logs()).stdout.includes("started"), 10_000);

      await Promise.all(
        ops.map(async (op) => {
          const t = tally.get(op.tag)!;
          for (let i = 0; i < PER_ROUND; i++) {
            if (op.every && i % op.every !== 0) continue;
            const outcome = await op.run(round, String(i));
            t.attempts++;
            if (outcome.ok) t.succeeded++;
            t.statuses[outcome.status] = (t.statuses[outcome.status] ?? 0) + 1;
            // A race is no excuse for a 500: the call is refused or works. (Other 5xx are counted in
            // the statuses: git reports what it could not write in words that vary with the moment.)
            if (outcome.status === 500) t.escapes.push(`${round.tag}/${i}: ${outcome.status} ${outcome.text.slice(0, 200)}`);
            const found = [...leaks(outcome.text), ...(outcome.bad ? [outcome.bad] : [])];
            if (found.length) t.escapes.push(`${round.tag}/${i}: ${found.join(", ")}`);
          }
        }),
      );

      // Control: the swapper ran all along, and swapped.
      expect(((await host.json("GET", `/v1/sandboxes/${A}/processes/${pid}`)).body as { status: string }).status).toBe("running");
      expect((await host.call("DELETE", `/v1/sandboxes/${A}/processes/${pid}?signal=TERM`)).status).toBe(200);
      await eventually(async () => /swaps=\d+/.test((await logs()).stdout), 10_000);
      swaps[round.tag] = Number(/swaps=(\d+)/.exec((await logs()).stdout)![1]);
      expect(swaps[round.tag]).toBeGreaterThan(0);
      figures.record("control: swaps the swapper made while the calls ran", swaps[round.tag]!, 0, "swaps");

      // From the host: the victims are as they were, nothing landed at the top of / or /tmp, and
      // what A moved out of the swapped directory is A's own.
      const changes = victimChanges();
      for (const op of ops) {
        const mine = changes.filter((p) => p.includes(op.tag === "move" ? "mv-" : op.tag === "delete" ? "del-" : op.tag));
        tally.get(op.tag)!.escapes.push(...mine.map((p) => `${round.tag}: changed ${p}`));
      }
      expect(changes).toEqual([]);
      const loot = join(workspaceOnHost(host.dataDir, A), "loot");
      for (const name of readdirSync(loot)) expect(readFileSync(join(loot, name), "utf8"), name).toBe("A-MV");
      expect(victimInA()).toEqual([]);
    }
  }

  it("never snapshots into, or restores out of, the host through a hostile staging directory", async () => {
    // The snapshot to restore: A's workspace with a marker, taken and restored once without the swapper (control).
    const wsA = () => workspaceOnHost(host.dataDir, A);
    const marker = `RESTORED-${randomBytes(4).toString("hex")}`;
    await exec(A, `printf %s ${marker} > restore-marker`);
    const snap = await host.json("POST", `/v1/sandboxes/${A}/snapshots`, { name: "race-restore", excludes: SNAPSHOT_EXCLUDES });
    expect(snap.status, JSON.stringify(snap.body)).toBe(201);
    const snapshotId = (snap.body as { id: string }).id;
    await exec(A, "rm restore-marker");
    const control = await host.json("POST", `/v1/sandboxes/${A}/restore`, { snapshotId });
    expect(control.status, JSON.stringify(control.body)).toBe(200);
    expect(readFileSync(join(wsA(), "restore-marker"), "utf8")).toBe(marker);

    let attempts = 0;
    let swappedIn = 0;
    const statuses: Record<number, number> = {};
    const escapes: string[] = [];
    try {
      await restoreRounds();
    } finally {
      figures.record("swapper vs restore (staging directory swapped for a symlink)", attempts, escapes.length, "restores");
    }
    // Control: the stage swapper caught the staging directory (it appears in every restore).
    const caught = (await exec(A, "cat /tmp/race-stage.log")).stdout.split("\n").filter((l) => l.startsWith("caught ")).length;
    const abandoned = host.logs().split("\n").filter((l) => l.includes("was abandoned: its staging directory was replaced")).length;
    console.log(
      `races: ${attempts} restores against a stage swapper, ${caught} staging directories caught, statuses ${JSON.stringify(statuses)}, ${swappedIn} swapped in, ${abandoned} abandoned by the host (staging directory replaced)`,
    );
    expect(caught).toBeGreaterThan(0);
    figures.record("control: staging directories the restore swapper caught", caught, 0, "restores");

    async function restoreRounds(): Promise<void> {
      for (const round of rounds) {
        for (let i = 0; i < RESTORES_PER_ROUND; i++) {
          // The stage swapper watches /workspace; the exec returns once it does.
          await exec(A, 'rm -f /tmp/race-ready; bin/swapper stage "$T" "$L" /tmp/race-stage.log /tmp/race-ready >/dev/null 2>/tmp/race-stage.err & pid=$!; while [ ! -e /tmp/race-ready ]; do kill -0 $pid || { ls -la . bin >&2; cat /tmp/race-stage.err >&2; exit 3; }; sleep 0.01; done', {
            T: round.target,
            L: `.race-stage-link-${round.tag}-${i}`,
          });
          await exec(A, "rm -f restore-marker");
          const res = await host.call("POST", `/v1/sandboxes/${A}/restore`, { snapshotId, killProcesses: true });
          const text = await res.text();
          attempts++;
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status === 500) escapes.push(`${round.tag}/${i}: 500 ${text.slice(0, 200)}`);
          if (leaks(text).length) escapes.push(`${round.tag}/${i}: answer ${leaks(text).join(", ")}`);
          // A's workspace is still a directory of A's (never swapped for the victim): the snapshot's
          // tree (the marker is back) or, when the host found its staging directory replaced, the old one.
          const ws = wsA();
          if (!lstatSync(ws).isDirectory() || existsSync(join(ws, ONLY_B)) || existsSync(join(ws, ONLY_HOST))) escapes.push(`${round.tag}/${i}: workspace replaced`);
          const restored = existsSync(join(ws, "restore-marker"));
          if (restored) swappedIn++;
          // The answer tells the truth: 200 when the tree was swapped in, a 4xx when it was not (409 when
          // the host abandoned it, 403 when the agent met the link while writing the stage).
          if ((res.status === 200) !== restored || (!restored && (res.status < 400 || res.status >= 500))) escapes.push(`${round.tag}/${i}: answered ${res.status} but the snapshot was ${restored ? "" : "not "}restored`);
          expect(escapes).toEqual([]); // at once: a replaced workspace would fail the next step less clearly
        }
        const found = victimInA();
        escapes.push(...found.map((p) => `${round.tag}: in A ${p}`));
        expect(found).toEqual([]);
        const changes = victimChanges();
        escapes.push(...changes.map((p) => `${round.tag}: changed ${p}`));
        expect(changes).toEqual([]);
      }
    }
  });
});
