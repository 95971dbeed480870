// Test-suite helpers: one emulator per suite, started before its tests and stopped after them.
//
//   import { useEmulator } from "@htcemu/emulator/vitest";
//   const htc = useEmulator({ executor: "simulated" });
//   it("creates a project", async () => {
//     const { data } = await htc.client.api.POST("/htc/projects", { body: { projectName: "p", projectDescription: "" } });
//   });
import { afterAll, beforeAll } from "vitest";
import { type RunningEmulator, type StartOptions, startEmulator } from "../emulator.js";

export interface EmulatorHandle {
  /** The running emulator; throws when read outside a test (before beforeAll ran). */
  readonly emulator: RunningEmulator;
  readonly client: RunningEmulator["client"];
  readonly baseUrl: string;
  readonly apiKey: string;
}

/**
 * Starts an emulator (in memory, on a free port, unless `options` say otherwise) in `beforeAll` and stops it in
 * `afterAll`. With `exportEnvironment`, also sets HTC_BASE_URL and RESCALE_API_KEY for code under test that
 * configures itself from the environment, and restores them afterwards.
 */
export function useEmulator(options: StartOptions & { exportEnvironment?: boolean } = {}): EmulatorHandle {
  const { exportEnvironment = false, ...start } = options;
  let running: RunningEmulator | undefined;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    running = await startEmulator({ inMemory: !start.dataDir, port: 0, ...start });
    if (exportEnvironment) {
      for (const [name, value] of [
        ["HTC_BASE_URL", running.baseUrl],
        ["RESCALE_API_KEY", running.apiKey],
      ] as const) {
        saved[name] = process.env[name];
        process.env[name] = value;
      }
    }
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await running?.stop();
    running = undefined;
  });
  const current = (): RunningEmulator => {
    if (!running) throw new Error("the emulator runs only while the suite's tests run (after beforeAll)");
    return running;
  };
  return {
    get emulator() {
      return current();
    },
    get client() {
      return current().client;
    },
    get baseUrl() {
      return current().baseUrl;
    },
    get apiKey() {
      return current().apiKey;
    },
  };
}
