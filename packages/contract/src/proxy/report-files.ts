// The drift report on disk: the JSON report plus its readable summary, each replaced atomically (written to a
// temporary file, then renamed) so a reader never sees half a report.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, extname } from "node:path";
import type { DriftReport } from "./drift.js";
import { formatDriftSummary } from "./summary.js";

export class ReportFiles {
  readonly summary: string;

  /** `summary` defaults to `json` with its extension replaced by `.txt`. */
  constructor(
    readonly json: string,
    summary?: string,
  ) {
    this.summary = summary ?? replaceExtension(json, ".txt");
  }

  write(report: DriftReport): void {
    writeAtomically(this.json, `${JSON.stringify(report, null, 2)}\n`);
    writeAtomically(this.summary, formatDriftSummary(report));
  }
}

export function replaceExtension(file: string, extension: string): string {
  const current = extname(file);
  return current ? file.slice(0, -current.length) + extension : file + extension;
}

function writeAtomically(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}
