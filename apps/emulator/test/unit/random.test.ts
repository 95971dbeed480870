// The seeded generator that fault rules and the simulated executor share: the same key draws the same values
// on every run, so recorded outcomes stay reproducible.
import { describe, expect, it } from "vitest";
import { jobDraw } from "../../src/faults/rules.js";
import { hash32, mulberry32, seededRandom } from "../../src/random.js";

describe("seeded random", () => {
  it("draws the same sequence for the same seed, uniformly in [0, 1)", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const draws = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(draws);
    expect(draws.every((d) => d >= 0 && d < 1)).toBe(true);
    const mean = draws.reduce((x, y) => x + y, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(mulberry32(43)()).not.toBe(draws[0]);
  });

  it("keeps its values: recorded fault draws and simulated outcomes stay the same across versions", () => {
    expect(hash32("")).toBe(0x811c9dc5);
    expect(hash32("1|abc:0|1")).toBe(hash32("1|abc:0|1"));
    expect(mulberry32(0)()).toBeCloseTo(0.26642920868471265, 15);
    expect(seededRandom("7|job:3|1")()).toBe(mulberry32(hash32("7|job:3|1"))());
    expect(jobDraw(5, { before: 2, index: 1, attempt: 1 })).toBe(seededRandom("5|3|1")());
  });
});
