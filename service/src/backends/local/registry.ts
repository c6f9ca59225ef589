import { chmod, mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { SandboxRecord } from "../../core/backend.ts";

const RECORD_FILE = "sandbox.json";

/**
 * The sandboxes of a data directory. Each sandbox is `sandboxes/<id>/` holding its record,
 * `workspace/` and `tmp/`; the directory is claimed with a plain mkdir (atomic), the record is
 * written with a rename (atomic), and deletion first renames the directory into `trash/`, so a crash
 * at any point leaves either a whole sandbox or something the next start removes.
 */
export class Registry {
  readonly records = new Map<string, SandboxRecord>();
  readonly sandboxesDir: string;
  private readonly trashDir: string;

  constructor(dataDir: string) {
    this.sandboxesDir = join(dataDir, "sandboxes");
    this.trashDir = join(dataDir, "trash");
  }

  dirOf(id: string): string {
    return join(this.sandboxesDir, id);
  }

  /** Loads every complete sandbox and removes what a crash left half-made or half-deleted. */
  async load(): Promise<{ loaded: number; removed: string[] }> {
    // Other host users may not list the sandboxes (their ids name their files).
    await mkdir(this.sandboxesDir, { recursive: true, mode: 0o711 });
    await chmod(this.sandboxesDir, 0o711);
    await rm(this.trashDir, { recursive: true, force: true });
    const removed: string[] = [];
    for (const id of await readdir(this.sandboxesDir)) {
      const record = await readFile(join(this.dirOf(id), RECORD_FILE), "utf8").then(
        (text) => JSON.parse(text) as SandboxRecord,
        () => undefined,
      );
      if (record && record.id === id) this.records.set(id, record);
      else {
        await rm(this.dirOf(id), { recursive: true, force: true });
        removed.push(id);
      }
    }
    return { loaded: this.records.size, removed };
  }

  /** Claims the id's directory; throws EEXIST when another sandbox (or a racing create) has it. */
  async claim(id: string): Promise<string> {
    const dir = this.dirOf(id);
    await mkdir(dir);
    return dir;
  }

  async save(record: SandboxRecord): Promise<void> {
    const dir = this.dirOf(record.id);
    const temp = join(dir, `.${RECORD_FILE}.${randomBytes(4).toString("hex")}`);
    // The record holds the sandbox's env: the host's alone.
    await writeFile(temp, JSON.stringify(record, null, 2), { mode: 0o600 });
    await rename(temp, join(dir, RECORD_FILE));
    this.records.set(record.id, record);
  }

  /** Forgets the sandbox at once and removes its files; a crash midway leaves only trash. */
  async remove(id: string): Promise<void> {
    this.records.delete(id);
    // Not listable by other host users either (its entries name sandboxes); made anew after each open.
    await mkdir(this.trashDir, { recursive: true, mode: 0o700 });
    const trash = join(this.trashDir, `${id}-${randomBytes(4).toString("hex")}`);
    try {
      await rename(this.dirOf(id), trash);
    } catch {
      return; // never fully created
    }
    await rm(trash, { recursive: true, force: true });
  }
}
