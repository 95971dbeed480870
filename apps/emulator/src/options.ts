// Every setting of the emulator, in one place: the library (`startEmulator`) and the command line read the same
// schema, so a flag, its environment variable and its option can never disagree.
import { z } from "zod";
import { simulationProfileSchema } from "./jobs/simulated-executor.js";

export const executorKinds = ["auto", "docker", "simulated"] as const;
export const registryModes = ["auto", "on", "off"] as const;

/** Identities to create on start (skipped when a user with the same API key exists already). */
export const seedSchema = z.object({
  workspaces: z.array(
    z.object({
      name: z.string().min(1),
      organizationCode: z.string().nullable().optional(),
      vCPUs: z.number().int().min(0).max(999999).nullable().optional(),
      users: z
        .array(
          z.object({
            email: z.string().min(1),
            fullName: z.string().min(1),
            apiKey: z.string().min(8),
            workspaceAdmin: z.boolean().optional(),
          }),
        )
        .default([]),
    }),
  ),
});

export type Seed = z.input<typeof seedSchema>;

export const emulatorOptionsSchema = z.object({
  /** TCP port of the HTTP server; 0 picks a free one. */
  port: z.coerce.number().int().min(0).max(65535).default(0),
  /** Interface to listen on. Loopback by default: the emulator is a development tool. */
  host: z.string().min(1).default("127.0.0.1"),
  /** Folder for the SQLite file (and later, storage and registry data). Ignored with `inMemory`. */
  dataDir: z.string().min(1).optional(),
  /** Keep all state in memory; nothing is written to disk. */
  inMemory: z.boolean().default(false),
  /** The API key of the default user. Generated (and printed) on first start when not given. */
  apiKey: z.string().min(8).optional(),
  /** Lifetime of the bearer tokens `GET /auth/token` issues. */
  tokenLifetimeSeconds: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(21600),
  /** Base URL the emulator advertises (in `next` links, storage endpoints, job environments) when it sits behind a proxy. */
  publicUrl: z.string().url().optional(),
  /** Validate every response against the contract and answer 500 on drift (the test suites run with it on). */
  strict: z.boolean().default(false),
  /** Which executor runs jobs. `auto` uses Docker when an engine answers, the simulated executor otherwise. */
  executor: z.enum(executorKinds).default("auto"),
  /** How many vCPUs of jobs run at once in containers (default: twice the machine's CPUs). */
  capacityVcpus: z.coerce.number().int().min(1).optional(),
  /** Network mode of job containers: `host` (default; jobs reach the emulator on 127.0.0.1) or `none`. */
  jobNetwork: z.string().min(1).optional(),
  /** Outcomes and timing of the simulated executor. */
  simulation: simulationProfileSchema.optional(),
  /** Workspace-wide vCPU limit of the default workspace; unset means unlimited. */
  workspaceVcpuLimit: z.coerce.number().int().min(0).max(999999).optional(),
  /** More workspaces and users, e.g. to test isolation. */
  seed: seedSchema.optional(),
  /** Log requests to stderr. */
  logRequests: z.boolean().default(false),
  /**
   * The project registries on 127.0.0.1: Debian's docker-registry as a child process, or (without it, or with an
   * engine in a VM) a container on the local Docker engine. `auto`: on whenever one of them can run; `on`: an
   * error when neither can.
   */
  registry: z.enum(registryModes).default("auto"),
  /** The registry binary: Debian's docker-registry (distribution 2.x). */
  registryBin: z.string().min(1).default("/usr/bin/docker-registry"),
  /** Image of the registry when it runs as a container (default: htcemu/registry:2, else registry:2, pulled if need be). */
  registryImage: z.string().min(1).optional(),
  /** Port of the registry on 127.0.0.1; 0 reuses the last one of this data dir, or picks a free one. */
  registryPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** How long a pushed image stays PENDING before it is READY (seconds of the emulator's clock). */
  registryReadyDelaySeconds: z.coerce
    .number()
    .min(0)
    .max(7 * 24 * 3600)
    .default(0),
  /** A snapshot file (admin API GET /_emulator/v1/snapshot) whose state replaces the data dir's on start. */
  importSnapshot: z.string().min(1).optional(),
});

export type EmulatorOptions = z.input<typeof emulatorOptionsSchema>;
export type ResolvedOptions = z.output<typeof emulatorOptionsSchema>;

/** The environment variable that backs each option on the command line. */
export const optionEnvironment: Record<keyof ResolvedOptions, string> = {
  port: "HTC_EMULATOR_PORT",
  host: "HTC_EMULATOR_HOST",
  dataDir: "HTC_EMULATOR_DATA_DIR",
  inMemory: "HTC_EMULATOR_IN_MEMORY",
  apiKey: "HTC_EMULATOR_API_KEY",
  tokenLifetimeSeconds: "HTC_EMULATOR_TOKEN_LIFETIME",
  publicUrl: "HTC_EMULATOR_PUBLIC_URL",
  strict: "HTC_EMULATOR_STRICT",
  executor: "HTC_EMULATOR_EXECUTOR",
  capacityVcpus: "HTC_EMULATOR_CAPACITY_VCPUS",
  jobNetwork: "HTC_EMULATOR_JOB_NETWORK",
  simulation: "HTC_EMULATOR_SIMULATION",
  workspaceVcpuLimit: "HTC_EMULATOR_WORKSPACE_VCPU_LIMIT",
  seed: "HTC_EMULATOR_SEED",
  logRequests: "HTC_EMULATOR_LOG_REQUESTS",
  registry: "HTC_EMULATOR_REGISTRY",
  registryBin: "HTC_EMULATOR_REGISTRY_BIN",
  registryImage: "HTC_EMULATOR_REGISTRY_IMAGE",
  registryPort: "HTC_EMULATOR_REGISTRY_PORT",
  registryReadyDelaySeconds: "HTC_EMULATOR_REGISTRY_READY_DELAY",
  importSnapshot: "HTC_EMULATOR_IMPORT",
};

export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const parsed = emulatorOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid emulator option ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Options given as environment variables or flags arrive as strings ("1", "true", "0", "false"…). */
export function truthy(value: unknown): boolean {
  if (typeof value === "string") return !["", "0", "false", "no", "off"].includes(value.toLowerCase());
  return Boolean(value);
}
