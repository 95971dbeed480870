// Which operations a suite exercised, so it can print "covered 57/57" and name what it missed. Vitest runs
// test files in separate workers, so a tracker can also be saved to and merged from a JSON-lines file.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type { Contract } from "./contract.js";

export interface CoverageOptions {
  /** Count only operations that answered with a 2xx status (default false: any response counts). */
  successOnly?: boolean;
}

export interface CoverageRecord {
  readonly operationId: string;
  readonly statuses: readonly number[];
}

export interface Coverage {
  /** Records a call; `status` is the response status when known. Unknown operationIds throw. */
  record(operationId: string, status?: number): void;
  /** Operations exercised, in contract order. */
  covered(options?: CoverageOptions): string[];
  /** Operations not exercised, in contract order. */
  missing(options?: CoverageOptions): string[];
  /** `covered 57/57`, or `covered 55/57 (missing: getJwks, getMetrics)`. */
  summary(options?: CoverageOptions): string;
  /** The statuses seen per exercised operation. */
  toJSON(): CoverageRecord[];
  /** Adds records saved by another tracker (another worker, another run). */
  merge(records: readonly CoverageRecord[]): void;
}

export function createCoverage(contract: Contract): Coverage {
  const seen = new Map<string, Set<number>>();
  const exercised = (id: string, options?: CoverageOptions) => {
    const statuses = seen.get(id);
    if (!statuses) return false;
    return !options?.successOnly || [...statuses].some((s) => s >= 200 && s < 300);
  };
  const coverage: Coverage = {
    record(operationId, status) {
      contract.getOperation(operationId);
      const statuses = seen.get(operationId) ?? new Set<number>();
      if (status !== undefined) statuses.add(status);
      seen.set(operationId, statuses);
    },
    covered: (options) => contract.operationIds.filter((id) => exercised(id, options)),
    missing: (options) => contract.operationIds.filter((id) => !exercised(id, options)),
    summary(options) {
      const missing = coverage.missing(options);
      const total = contract.operationIds.length;
      const line = `covered ${total - missing.length}/${total}`;
      return missing.length === 0 ? line : `${line} (missing: ${missing.join(", ")})`;
    },
    toJSON: () => [...seen].map(([operationId, statuses]) => ({ operationId, statuses: [...statuses].sort((a, b) => a - b) })),
    merge(records) {
      for (const { operationId, statuses } of records) {
        if (statuses.length === 0) coverage.record(operationId);
        for (const status of statuses) coverage.record(operationId, status);
      }
    },
  };
  return coverage;
}

/** Appends the tracker's records to a JSON-lines file (safe for several workers writing one file). */
export function saveCoverage(coverage: Coverage, file: string): void {
  const lines = coverage.toJSON().map((record) => `${JSON.stringify(record)}\n`);
  if (lines.length > 0) appendFileSync(file, lines.join(""));
}

/** Reads a file written by saveCoverage into a tracker (an absent file means nothing was covered). */
export function loadCoverage(contract: Contract, file: string): Coverage {
  const coverage = createCoverage(contract);
  if (!existsSync(file)) return coverage;
  const records = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as CoverageRecord);
  coverage.merge(records);
  return coverage;
}
