import { randomBytes } from "node:crypto";
import { chmod, chown, lstat, open, readFile, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Identity } from "../isolation.ts";

/**
 * The swap of a restore. The agent extracts the snapshot into a staging directory inside /workspace
 * (named by the host); the host notes the restore in the sandbox's directory (`restore.json`, written
 * atomically: from then on the restore is committed) and stops the environment. Before the next
 * start, with nothing of the sandbox running and its disk mounted, `completeRestore` moves the
 * staging directory out to a sibling of the workspace directory (a parent the sandbox cannot write),
 * checks it is a real directory, and swaps it in with two renames. A running command sees the old
 * tree until its environment ends; every later one sees the new tree: never a mix.
 *
 * Each step is redone from what is on disk, so a host killed at any point finishes the restore on
 * its next start (the note is removed last); one killed before the note was written leaves a staging
 * directory no note names, which the next start removes (the workspace stays the old tree).
 */
const NOTE = "restore.json";
const STAGE = /^\.sandgate-upload-restore-[0-9a-f]{16}$/;

export function newStageName(): string {
  return `.sandgate-upload-restore-${randomBytes(8).toString("hex")}`;
}

export async function noteRestore(sandboxDir: string, stage: string): Promise<void> {
  const temp = join(sandboxDir, `${NOTE}.${randomBytes(4).toString("hex")}`);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(JSON.stringify({ stage }));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(sandboxDir, NOTE));
  await syncDir(sandboxDir);
}

export async function dropRestoreNote(sandboxDir: string): Promise<void> {
  await rm(join(sandboxDir, NOTE), { force: true });
}

export async function restorePending(sandboxDir: string): Promise<boolean> {
  return lstat(join(sandboxDir, NOTE)).then(
    () => true,
    () => false,
  );
}

/** What became of a noted restore: none was noted, it was swapped in, or it was abandoned (the workspace stays). */
export type RestoreOutcome = "none" | "swapped" | "abandoned";

/**
 * Finishes a noted restore on `workspace` (the real directory, not a mount of it). Old trees are
 * removed in the background.
 */
export async function completeRestore(sandboxDir: string, workspace: string, identity: Identity | undefined, log: (message: string) => void): Promise<RestoreOutcome> {
  const parent = dirname(workspace);
  const incoming = join(parent, ".workspace-new");
  const outgoing = join(parent, ".workspace-old");
  // Old trees of earlier restores (a host stopped while removing them).
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (name.startsWith(".workspace-trash-")) void rm(join(parent, name), { recursive: true, force: true });
  }
  const note = await readFile(join(sandboxDir, NOTE), "utf8").then(
    (text) => JSON.parse(text) as { stage?: unknown },
    () => undefined,
  );
  const stage = note && typeof note.stage === "string" && STAGE.test(note.stage) ? note.stage : undefined;
  await removeStaleStages(workspace, stage);
  if (!note) return "none";
  let outcome: RestoreOutcome = "abandoned";
  if (stage && !(await present(incoming))) {
    // The entry is the sandbox's to change until this rename; whatever it is now moves out whole.
    await rename(join(workspace, stage), incoming).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
  if (await present(incoming)) {
    const stats = await lstat(incoming);
    if (!stats.isDirectory()) {
      // Swapped for a link or a file while the environment still ran: no restore.
      await rm(incoming, { force: true });
      log(`the restore of '${workspace}' was abandoned: its staging directory was replaced`);
    } else {
      if (identity) await chown(incoming, identity.uid, identity.gid);
      await chmod(incoming, 0o700);
      if (await present(workspace)) {
        await rm(outgoing, { recursive: true, force: true });
        await rename(workspace, outgoing);
      }
      await rename(incoming, workspace);
      await syncDir(parent);
      outcome = "swapped";
    }
  }
  await rm(join(sandboxDir, NOTE), { force: true });
  if (await present(outgoing)) {
    const trash = join(parent, `.workspace-trash-${randomBytes(6).toString("hex")}`);
    await rename(outgoing, trash);
    void rm(trash, { recursive: true, force: true });
  }
  return outcome;
}

/**
 * Staging directories in the workspace that no note names: a restore the host was killed in (or that
 * failed) before its note was written. Nothing of the sandbox runs here, and rm does not follow links.
 */
async function removeStaleStages(workspace: string, keep: string | undefined): Promise<void> {
  for (const name of await readdir(workspace).catch(() => [] as string[])) {
    if (name !== keep && STAGE.test(name)) await rm(join(workspace, name), { recursive: true, force: true });
  }
}

async function present(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
