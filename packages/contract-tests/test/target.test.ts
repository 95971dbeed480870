// Which target the suite picks from the environment, without starting anything: the variable names are the ones
// the README documents, and a half-configured remote target is refused instead of falling back to the emulator.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV, resolveTarget, writesRefused } from "../src/target.js";

describe("resolveTarget", () => {
  it("reads only variables the README documents", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    for (const name of Object.values(ENV)) expect(readme, name).toContain(name);
  });

  it("targets a deployment read-only unless HTC_CONTRACT_ALLOW_WRITES=1", async () => {
    const env = { HTC_CONTRACT_BASE_URL: "https://htc.example.com/api/v1/", HTC_CONTRACT_API_KEY: " key ", HTC_CONTRACT_PROJECT_ID: "p1" };
    const readOnly = await resolveTarget({}, env);
    expect(readOnly).toMatchObject({
      kind: "remote",
      baseUrl: "https://htc.example.com/api/v1",
      rootUrl: "https://htc.example.com",
      apiKey: "key",
      allowWrites: false,
    });
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
