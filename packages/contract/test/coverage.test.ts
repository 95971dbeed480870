import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createCoverage, loadContract, loadCoverage, saveCoverage } from "../src/index.js";

const contract = loadContract();
const total = contract.operationIds.length;
const dir = mkdtempSync(join(tmpdir(), "htcemu-coverage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("coverage", () => {
  it("counts exercised operations", () => {
    const coverage = createCoverage(contract);
    expect(coverage.summary()).toMatch(new RegExp(`^covered 0/${total} \\(missing: `));
    coverage.record("getProject", 200);
    coverage.record("getJobs", 404);
    coverage.record("getJobs", 200);
    expect(coverage.covered()).toEqual(contract.operationIds.filter((id) => id === "getProject" || id === "getJobs"));
    expect(coverage.missing()).toHaveLength(total - 2);
    expect(coverage.toJSON()).toContainEqual({ operationId: "getJobs", statuses: [200, 404] });
  });

  it("can count only successful calls", () => {
    const coverage = createCoverage(contract);
    coverage.record("getProject", 404);
    coverage.record("getMetrics");
    expect(coverage.covered()).toHaveLength(2);
    expect(coverage.covered({ successOnly: true })).toEqual([]);
  });

  it("prints a full line when everything is covered", () => {
    const coverage = createCoverage(contract);
    for (const id of contract.operationIds) coverage.record(id, 200);
    expect(coverage.summary()).toBe(`covered ${total}/${total}`);
  });

  it("refuses unknown operations", () => {
    expect(() => createCoverage(contract).record("nope")).toThrow(/unknown operationId/);
  });

  it("merges records saved by several workers", () => {
    const file = join(dir, "coverage.jsonl");
    expect(loadCoverage(contract, file).covered()).toEqual([]);
    const first = createCoverage(contract);
    first.record("getProject", 200);
    const second = createCoverage(contract);
    second.record("getProject", 404);
    second.record("getMetrics");
    saveCoverage(first, file);
    saveCoverage(second, file);
    const merged = loadCoverage(contract, file);
    expect(merged.toJSON()).toEqual(
      expect.arrayContaining([
        { operationId: "getProject", statuses: [200, 404] },
        { operationId: "getMetrics", statuses: [] },
      ]),
    );
  });
});
