// Where the tutorial runs: production (HTC_BASE_URL and RESCALE_API_KEY set), or an emulator started in this
// process with the Docker executor and the project registries. Everything after this point uses the same typed
// client either way; only the emulator has a clock that can run faster (for the 60-second timeouts of step 11).
import { createWriteStream, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { createHtcClient, type HtcClient } from "@htcemu/client";
import { type AdminClient, createAdminClient } from "@htcemu/client/admin";
import { type OffPart, offParts, startEmulator } from "@htcemu/emulator";

/** How the tutorial runs its emulator: jobs in Docker, project registries wherever they can run. */
export const TUTORIAL_EMULATOR = { executor: "docker", registry: "auto" } as const;

export interface Target {
  kind: "emulator" | "production";
  baseUrl: string;
  apiKey: string;
  htc: HtcClient;
  /** The emulator's admin API (test controls); absent against production. */
  admin?: AdminClient;
  /** Whether project registries exist (always in production; with the emulator, wherever Docker runs). */
  registry: boolean;
  /** What is off in the emulator, with the command that turns each part on (nothing against production). */
  off: readonly OffPart[];
  /** How often to poll job statuses: production refreshes them about every 30 s. */
  pollMs: number;
  describe: string;
  stop(): Promise<void>;
}

export async function openTarget(outDir: string, options: { requireRegistry?: boolean; emulatorOnly?: boolean } = {}): Promise<Target> {
  const baseUrl = options.emulatorOnly ? undefined : process.env["HTC_BASE_URL"];
  const apiKey = options.emulatorOnly ? undefined : process.env["RESCALE_API_KEY"];
  if (baseUrl && apiKey) {
    const pollMs = Number(process.env["HTC_TUTORIAL_POLL_SECONDS"] ?? 30) * 1000;
    return {
      kind: "production",
      baseUrl,
      apiKey,
      htc: createHtcClient({ baseUrl, apiKey }),
      registry: true,
      off: [],
      pollMs,
      describe: `${baseUrl} (polling every ${pollMs / 1000} s)`,
      stop: async () => {},
    };
  }
  if (baseUrl || apiKey)
    throw new Error("set both HTC_BASE_URL and RESCALE_API_KEY to run against another deployment, or neither for the emulator");

  mkdirSync(outDir, { recursive: true });
  const log = createWriteStream(join(outDir, "emulator.log"));
  const emulator = await startEmulator({
    inMemory: true,
    ...TUTORIAL_EMULATOR,
    ...(process.env["HTC_TUTORIAL_CAPACITY"] ? { capacityVcpus: Number(process.env["HTC_TUTORIAL_CAPACITY"]) } : {}),
    // Debian's docker-registry, or a registry container on the engine; where neither can run, jobs use the
    // engine's images and the push is skipped, unless it is required.
    ...(options.requireRegistry ? { registry: "on" as const } : {}),
    // The test run (--emulator) checks every answer against the contract; otherwise HTC_EMULATOR_STRICT decides.
    ...(options.emulatorOnly ? { strict: true } : {}),
    log: (line) => log.write(`${new Date().toISOString()} ${line}\n`),
  });
  const executor = emulator.executor;
  if (executor !== "docker") throw new Error(`the emulator runs jobs with the ${executor} executor: the tutorial needs Docker`);
  return {
    kind: "emulator",
    baseUrl: emulator.baseUrl,
    apiKey: emulator.apiKey,
    htc: emulator.client,
    admin: createAdminClient(emulator.rootUrl),
    registry: emulator.registryHost !== undefined,
    off: await offParts(emulator),
    pollMs: 500,
    describe: `an emulator at ${emulator.baseUrl} (Docker executor${emulator.registryHost !== undefined ? ", project registry" : ""}; its log: ${relative(process.cwd(), join(outDir, "emulator.log"))})`,
    stop: async () => {
      await emulator.stop();
      log.end();
    },
  };
}
