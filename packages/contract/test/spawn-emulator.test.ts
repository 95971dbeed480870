// Starts the real emulator (apps/emulator/src/cli.ts) as a separate process.
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadContract } from "../src/index.js";
import { type SpawnedEmulator, spawnEmulator, type ViolationReport, validatingFetch } from "../src/testing.js";

describe("spawnEmulator", () => {
  let emulator: SpawnedEmulator;
  beforeAll(async () => {
    // A working directory outside the workspace: tsx must still be found (it is resolved from the emulator).
    emulator = await spawnEmulator({ args: ["--strict", "--executor", "simulated"], cwd: tmpdir() });
  }, 90_000);
  afterAll(async () => {
    await emulator?.stop();
  });

  it("parses the ready lines", () => {
    expect(emulator.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    expect(emulator.rootUrl).toBe(emulator.baseUrl.replace("/api/v1", ""));
    expect(emulator.apiKey).toMatch(/^\S{8,}$/);
  });

  it("serves the API, checked against the contract", async () => {
    const reports: ViolationReport[] = [];
    const fetch = validatingFetch(loadContract(), { onViolation: (report) => reports.push(report) });
    const response = await fetch(`${emulator.baseUrl}/auth/token`, { headers: { authorization: `Token ${emulator.apiKey}` } });
    expect(response.status).toBe(200);
    const unauthorized = await fetch(`${emulator.baseUrl}/auth/whoami`);
    expect(unauthorized.status).toBe(401);
    expect(reports).toEqual([]);
  });

  it("stops with SIGTERM", async () => {
    const exit = await emulator.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await emulator.stop()).toEqual(exit);
  });
});

describe("spawnEmulator failures", () => {
  it("rejects with the process's stderr when it cannot start", async () => {
    await expect(spawnEmulator({ args: ["--executor", "nonsense"] })).rejects.toThrow(/exited with code 2[\s\S]*stderr[\s\S]*nonsense/);
  }, 90_000);

  it("gives up after the timeout", async () => {
    await expect(spawnEmulator({ timeoutMs: 1 })).rejects.toThrow(/no ready lines after 1 ms/);
  });
});
