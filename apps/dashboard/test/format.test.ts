// How the dashboard shows sizes, durations and counts, and the JavaScript budget of its build.
import { describe, expect, it } from "vitest";
import { between, bytes, count, duration, sum, unfinished } from "../src/lib/format.js";
// @ts-expect-error: a plain .mjs script without types
import { BUDGET_BYTES, shippedJs } from "../scripts/check-size.mjs";

describe("format", () => {
  it("shows sizes, counts and durations as people read them", () => {
    expect(bytes(512)).toBe("512 B");
    expect(bytes(2048)).toBe("2.0 KiB");
    expect(bytes(5 * 1024 * 1024 * 1024)).toBe("5.0 GiB");
    expect(count(1000000)).toBe("1,000,000");
    expect(duration(0.25)).toBe("0.25 ms");
    expect(duration(42)).toBe("42 ms");
    expect(duration(1500)).toBe("1.5 s");
    expect(duration(125_000)).toBe("2 min 5 s");
    expect(between("2024-01-01T00:00:00Z", "2024-01-01T00:00:02Z")).toBe("2.0 s");
    expect(between(null, null)).toBe("—");
  });

  it("adds up status counts", () => {
    const counts = { SUBMITTED_TO_RESCALE: 1, RUNNING: 2, SUCCEEDED: 3, FAILED: 4 };
    expect(sum(counts)).toBe(10);
    expect(unfinished(counts)).toBe(3);
  });
});

describe("the build", () => {
  it("ships less than 250 kB of gzipped JavaScript", () => {
    const { files, gzipped } = shippedJs() as { files: number; gzipped: number };
    expect(files).toBeGreaterThan(0);
    expect(gzipped).toBeLessThan(BUDGET_BYTES);
  });
});
