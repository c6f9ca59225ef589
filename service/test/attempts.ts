/**
 * Counted attempts for `npm run reliability`. A suite records how many times it actually tried an
 * attack or a check, and how many of those got through, as it runs; the reliability report reads
 * these files and never counts test titles.
 *
 * Each suite writes `.ci/artifacts/reliability/<suite>.json`:
 * `{ "suite": string, "figures": [{ "name", "attempts", "failures", "unit"? }] }`.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Figure {
  /** What was tried, in words a reader of the report understands ("swapper races against read"). */
  name: string;
  /** How many times it was really tried (a probe that did not run is not an attempt). */
  attempts: number;
  /** How many of those got through (an escape, a wedge, a 500, a leak). */
  failures: number;
  /** What one attempt is, when not obvious ("requests", "syscalls", "MiB"). */
  unit?: string;
}

export interface SuiteFigures {
  suite: string;
  figures: Figure[];
}

export const reliabilityDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", ".ci", "artifacts", "reliability");

/** Collects figures for one suite; `record` adds to a figure by name, `save` writes the file. */
export class Attempts {
  private readonly figures = new Map<string, Figure>();
  constructor(readonly suite: string) {}

  record(name: string, attempts: number, failures: number, unit?: string): void {
    const figure = this.figures.get(name) ?? { name, attempts: 0, failures: 0, ...(unit ? { unit } : {}) };
    figure.attempts += attempts;
    figure.failures += failures;
    this.figures.set(name, figure);
  }

  save(): void {
    mkdirSync(reliabilityDir, { recursive: true });
    const body: SuiteFigures = { suite: this.suite, figures: [...this.figures.values()] };
    writeFileSync(join(reliabilityDir, `${this.suite}.json`), `${JSON.stringify(body, null, 2)}\n`);
  }
}

/** Reads one suite's figures, or undefined when the suite did not run. */
export function readFigures(suite: string): SuiteFigures | undefined {
  const file = join(reliabilityDir, `${suite}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as SuiteFigures) : undefined;
}
