// Which target the suite picks from the environment, without starting anything: the variable names are the ones
// the README documents, and a half-configured remote target is refused instead of falling back to the emulator.
import { describe, expect, it } from "vitest";
import { ENV, resolveTarget, writesRefused } from "../src/target.js";

describe("resolveTarget", () => {
  it("reads the documented variables", () => {
    expect(ENV).toEqual({
      baseUrl: "HTC_CONTRACT_BASE_URL",
      apiKey: "HTC_CONTRACT_API_KEY",
      allowWrites: "HTC_CONTRACT_ALLOW_WRITES",
      projectId: "HTC_CONTRACT_PROJECT_ID",
      image: "HTC_CONTRACT_IMAGE",
      seed: "HTC_CONTRACT_SEED",
      budgetMs: "HTC_CONTRACT_BAD_INPUT_BUDGET_MS",
      runs: "HTC_CONTRACT_BAD_INPUT_RUNS",
    });
  });

  it("targets a deployment read-only unless HTC_CONTRACT_ALLOW_WRITES=1", async () => {
    const env = { HTC_CONTRACT_BASE_URL: "https://htc.example.com/api/v1/", HTC_CONTRACT_API_KEY: " key ", HTC_CONTRACT_PROJECT_ID: "p1" };
    const readOnly = await resolveTarget({}, env);
    expect(readOnly).toMatchObject({ kind: "remote", baseUrl: "https://htc.example.com/api/v1", rootUrl: "https://htc.example.com", apiKey: "key", allowWrites: false });
    expect(readOnly.options).toEqual({ projectId: "p1" });
    expect(writesRefused(readOnly)).toContain("HTC_CONTRACT_ALLOW_WRITES=1");
    // Only "1" opens writes: anything else stays read-only (the safe side).
    expect((await resolveTarget({}, { ...env, HTC_CONTRACT_ALLOW_WRITES: "true" })).allowWrites).toBe(false);
    const writable = await resolveTarget({}, { ...env, HTC_CONTRACT_ALLOW_WRITES: "1" });
    expect(writable.allowWrites).toBe(true);
    expect(writesRefused(writable)).toBeUndefined();
  });

  it("refuses a base URL without a key, and a key without a base URL", async () => {
    await expect(resolveTarget({}, { HTC_CONTRACT_BASE_URL: "https://htc.example.com/api/v1" })).rejects.toThrow(/HTC_CONTRACT_API_KEY/);
    await expect(resolveTarget({}, { HTC_CONTRACT_API_KEY: "key" })).rejects.toThrow(/HTC_CONTRACT_BASE_URL/);
  });
});
