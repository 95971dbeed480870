// What the suite runs against: an emulator it starts itself (the default), or any deployment named by the
// environment (production included). Writes against anything but the emulator need an explicit opt-in.
import { type SpawnedEmulator, spawnEmulator } from "@htcemu/contract/testing";

export type TargetKind = "emulator" | "remote";

export interface Target {
  readonly kind: TargetKind;
  /** The API base URL, `…/api/v1`. */
  readonly baseUrl: string;
  /** The origin and any path before `/api/v1`. */
  readonly rootUrl: string;
  readonly apiKey: string;
  /** Whether steps that create, change or delete anything may run (always true for the emulator). */
  readonly allowWrites: boolean;
  /** A human-readable name for messages: `emulator (pid 123)` or the base URL. */
  readonly label: string;
  /** Settings that only make sense remotely (an existing project to use, an image to run). */
  readonly options: RemoteOptions;
  /** The emulator process, when the suite started one. */
  readonly emulator?: SpawnedEmulator;
  stop(): Promise<void>;
}

export interface RemoteOptions {
  /** HTC_CONTRACT_PROJECT_ID: a project to work in instead of creating one (projects cannot be deleted). */
  readonly projectId?: string;
  /** HTC_CONTRACT_IMAGE: an image of that project's registry for the one job the suite runs (`repo:tag`). */
  readonly image?: string;
}

/** The environment variables the suite reads, in one place for the README and error messages. */
export const ENV = {
  baseUrl: "HTC_CONTRACT_BASE_URL",
  apiKey: "HTC_CONTRACT_API_KEY",
  allowWrites: "HTC_CONTRACT_ALLOW_WRITES",
  projectId: "HTC_CONTRACT_PROJECT_ID",
  image: "HTC_CONTRACT_IMAGE",
  seed: "HTC_CONTRACT_SEED",
  budgetMs: "HTC_CONTRACT_BAD_INPUT_BUDGET_MS",
  runs: "HTC_CONTRACT_BAD_INPUT_RUNS",
} as const;

export interface EmulatorTargetOptions {
  /** Extra emulator flags (after `--strict --executor simulated`). */
  args?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The target named by HTC_CONTRACT_BASE_URL and HTC_CONTRACT_API_KEY, or else a fresh emulator
 * (`--strict --executor simulated`, in memory, on a free port) that `stop()` ends.
 */
export async function resolveTarget(options: EmulatorTargetOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const baseUrl = env[ENV.baseUrl]?.trim();
  const remoteOptions: RemoteOptions = {
    ...(env[ENV.projectId]?.trim() ? { projectId: env[ENV.projectId]!.trim() } : {}),
    ...(env[ENV.image]?.trim() ? { image: env[ENV.image]!.trim() } : {}),
  };
  if (baseUrl) {
    const apiKey = env[ENV.apiKey]?.trim();
    if (!apiKey) throw new Error(`${ENV.baseUrl} is set but ${ENV.apiKey} is not: the suite needs an API key for ${baseUrl}`);
    const base = baseUrl.replace(/\/+$/, "");
    return {
      kind: "remote",
      baseUrl: base,
      rootUrl: base.replace(/\/api\/v1$/, ""),
      apiKey,
      allowWrites: env[ENV.allowWrites] === "1",
      label: base,
      options: remoteOptions,
      stop: async () => {},
    };
  }
  // A key alone would quietly test the emulator while the caller believes production was checked.
  if (env[ENV.apiKey]?.trim())
    throw new Error(`${ENV.apiKey} is set but ${ENV.baseUrl} is not: set both to test a deployment, or neither for the emulator`);
  const emulator = await spawnEmulator({
    args: ["--strict", "--executor", "simulated", ...(options.args ?? [])],
    ...(options.env ? { env: options.env } : {}),
    timeoutMs: 60_000,
  });
  return {
    kind: "emulator",
    baseUrl: emulator.baseUrl,
    rootUrl: emulator.rootUrl,
    apiKey: emulator.apiKey,
    allowWrites: true,
    label: `emulator at ${emulator.baseUrl} (pid ${emulator.process.pid})`,
    options: {},
    emulator,
    stop: async () => {
      await emulator.stop();
    },
  };
}

/** Why a write step does not run against this target, or undefined when it may. */
export function writesRefused(target: Target): string | undefined {
  if (target.allowWrites) return undefined;
  return `destructive step skipped: ${target.label} is not the emulator; set ${ENV.allowWrites}=1 to allow writes (the suite cleans up after itself)`;
}
