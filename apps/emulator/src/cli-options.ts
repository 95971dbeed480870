// The command-line options of the emulator, as reusable pieces: the flags (each backed by an HTC_EMULATOR_*
// variable), their translation into startEmulator() options, and the banner printed once it runs. Used by
// src/cli.ts and by the `htc emulator start` command of @htcemu/cli.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import type { RunningEmulator, StartOptions } from "./emulator.js";
import { invocationDir } from "./invocation.js";
import { emulatorOptionsSchema, executorKinds, optionEnvironment as env, type ResolvedOptions, registryModes, truthy } from "./options.js";
import { type OffPart, offPartsBanner } from "./parts.js";

/** The library's default of an option, shown in --help: the schema stays the one place defaults live. */
function defaultOf(key: keyof ResolvedOptions): string {
  return String(emulatorOptionsSchema.shape[key].parse(undefined));
}

/** Boolean flags whose variable is read here: commander turns a boolean flag on whenever its variable is set, even to "0". */
const booleanFlags = { inMemory: env.inMemory, strict: env.strict, logRequests: env.logRequests } as const;

/** A boolean flag's value: the flag when given, else its environment variable ("1", "true", "0", "false"…), else undefined. */
export function booleanFlag(flags: EmulatorFlags, key: keyof typeof booleanFlags): boolean | undefined {
  if (flags[key] !== undefined) return truthy(flags[key]);
  const fromEnv = process.env[booleanFlags[key]];
  return fromEnv === undefined || fromEnv === "" ? undefined : truthy(fromEnv);
}

/** The parsed flags of a command that received `addEmulatorOptions()`. */
export interface EmulatorFlags {
  port: string;
  host: string;
  dataDir: string;
  inMemory?: boolean | string;
  apiKey?: string;
  tokenLifetime: string;
  publicUrl?: string;
  strict?: boolean | string;
  executor: (typeof executorKinds)[number];
  capacityVcpus?: string;
  jobNetwork?: string;
  simulation?: string;
  workspaceVcpuLimit?: string;
  seed?: string;
  logRequests?: boolean | string;
  registry: (typeof registryModes)[number];
  registryBin: string;
  registryImage?: string;
  registryPort?: string;
  registryReadyDelay?: string;
  import?: string;
}

/** Fresh Option objects for every flag of the emulator (a commander Option belongs to one command). */
export function emulatorOptions(): Option[] {
  return [
    new Option("--port <port>", "TCP port (0 picks a free one)").env(env.port).default("8787"),
    new Option("--host <host>", "interface to listen on").env(env.host).default(defaultOf("host")),
    new Option("--data-dir <dir>", "folder for the emulator's state (relative to where the command was run)")
      .env(env.dataDir)
      .default(".htc-emulator"),
    new Option("--in-memory", `keep all state in memory, nothing is written (env: ${env.inMemory}=1)`),
    new Option("--api-key <key>", "API key of the default user (generated on first start)").env(env.apiKey),
    new Option("--token-lifetime <seconds>", "lifetime of bearer tokens")
      .env(env.tokenLifetimeSeconds)
      .default(defaultOf("tokenLifetimeSeconds")),
    new Option("--public-url <url>", "base URL clients reach the emulator at, when behind a proxy").env(env.publicUrl),
    new Option("--strict", `check every response against the contract (env: ${env.strict}=1)`),
    new Option("--executor <kind>", "how jobs run").choices(executorKinds).env(env.executor).default(defaultOf("executor")),
    new Option("--capacity-vcpus <n>", "vCPUs of jobs that run at once (Docker executor)").env(env.capacityVcpus),
    new Option("--job-network <mode>", "network of job containers: host or none").env(env.jobNetwork),
    new Option("--simulation <json>", "profile of the simulated executor, as JSON or @file").env(env.simulation),
    new Option("--workspace-vcpu-limit <n>", "vCPU limit of the default workspace").env(env.workspaceVcpuLimit),
    new Option("--seed <file>", "JSON file of extra workspaces and users to create").env(env.seed),
    new Option("--log-requests", `log every request to stderr (env: ${env.logRequests}=1)`),
    new Option("--registry <mode>", "project registries (auto: on when the binary or a Docker engine can run one; on: fail otherwise)")
      .choices(registryModes)
      .env(env.registry)
      .default(defaultOf("registry")),
    new Option("--registry-bin <path>", "the docker-registry binary (without it, the registry runs as a container)")
      .env(env.registryBin)
      .default(defaultOf("registryBin")),
    new Option("--registry-image <image>", "image of a registry run as a container (default: htcemu/registry:2, else registry:2)").env(
      env.registryImage,
    ),
    new Option("--registry-port <port>", "port of the registry on 127.0.0.1 (0: last one, or a free one)").env(env.registryPort),
    new Option("--registry-ready-delay <seconds>", "how long a pushed image stays PENDING").env(env.registryReadyDelaySeconds),
    new Option("--import <file>", "start from a snapshot file (replaces the data dir's state)").env(env.importSnapshot),
  ];
}

/** Adds every emulator flag to `command`. */
export function addEmulatorOptions<C extends Command>(command: C): C {
  for (const option of emulatorOptions()) command.addOption(option);
  return command;
}

/** The startEmulator() options the flags stand for (values are validated by startEmulator itself). */
export function startOptionsFromFlags(flags: EmulatorFlags): StartOptions {
  const inMemory = booleanFlag(flags, "inMemory") ?? false;
  const here = invocationDir();
  return {
    port: Number(flags.port),
    host: flags.host,
    inMemory,
    ...(inMemory ? {} : { dataDir: resolve(here, flags.dataDir) }),
    ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
    tokenLifetimeSeconds: Number(flags.tokenLifetime),
    ...(flags.publicUrl ? { publicUrl: flags.publicUrl } : {}),
    strict: booleanFlag(flags, "strict") ?? false,
    executor: flags.executor,
    ...(flags.capacityVcpus !== undefined ? { capacityVcpus: Number(flags.capacityVcpus) } : {}),
    ...(flags.jobNetwork ? { jobNetwork: flags.jobNetwork } : {}),
    ...(flags.simulation ? { simulation: jsonArgument(flags.simulation, here) } : {}),
    ...(flags.workspaceVcpuLimit !== undefined ? { workspaceVcpuLimit: Number(flags.workspaceVcpuLimit) } : {}),
    ...(flags.seed ? { seed: jsonArgument(`@${flags.seed}`, here) } : {}),
    logRequests: booleanFlag(flags, "logRequests") ?? false,
    registry: flags.registry,
    registryBin: flags.registryBin,
    ...(flags.registryImage ? { registryImage: flags.registryImage } : {}),
    ...(flags.registryPort !== undefined ? { registryPort: Number(flags.registryPort) } : {}),
    ...(flags.registryReadyDelay !== undefined ? { registryReadyDelaySeconds: Number(flags.registryReadyDelay) } : {}),
    ...(flags.import ? { importSnapshot: resolve(here, flags.import) } : {}),
    // A data dir outlives the process: leave its containers for the next start to re-attach. A throwaway
    // in-memory emulator has no next start, so it stops them.
    detachJobsOnStop: !inMemory,
  };
}

/**
 * The lines printed once the emulator runs: first every part that is off and the command that turns it on (`off`,
 * from offParts(), which also checks the job images), then where it is, the key, and how to point clients at it.
 */
export function runningBanner(emulator: RunningEmulator, flags: EmulatorFlags, off: readonly OffPart[] = emulator.off): string {
  return [
    `${offPartsBanner(off)}Rescale HTC emulator is running`,
    `  base URL   ${emulator.baseUrl}`,
    `  API key    ${emulator.apiKey}`,
    `  workspace  ${emulator.workspaceId}`,
    `  state      ${booleanFlag(flags, "inMemory") ? "in memory" : resolve(invocationDir(), flags.dataDir)}`,
    `  executor   ${emulator.executor}`,
    `  registry   ${emulator.registryHost ?? "off"}`,
    "",
    `  export HTC_BASE_URL=${emulator.baseUrl} RESCALE_API_KEY=${emulator.apiKey}`,
    "",
  ].join("\n");
}

/** A JSON value given inline or, with a leading @, as a file name. */
function jsonArgument(value: string, dir: string): never {
  // startEmulator() validates the value, so a wrong shape fails with the option's name.
  return JSON.parse(value.startsWith("@") ? readFileSync(resolve(dir, value.slice(1)), "utf8") : value) as never;
}

export { invocationDir, truthy };
