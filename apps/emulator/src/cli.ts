// The command line: flags (each backed by an HTC_EMULATOR_* variable) → startEmulator(). Nothing is configured
// here that the library does not also accept.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { startEmulator } from "./emulator.js";
import { executorKinds, optionEnvironment as env } from "./options.js";

const program = new Command("htc-emulator")
  .description("A local emulator of the Rescale HTC API")
  .addOption(new Option("--port <port>", "TCP port (0 picks a free one)").env(env.port).default("8787"))
  .addOption(new Option("--host <host>", "interface to listen on").env(env.host).default("127.0.0.1"))
  .addOption(new Option("--data-dir <dir>", "folder for the emulator's state").env(env.dataDir).default(".htc-emulator"))
  .addOption(new Option("--in-memory", "keep all state in memory (nothing is written)").env(env.inMemory))
  .addOption(new Option("--api-key <key>", "API key of the default user (generated on first start)").env(env.apiKey))
  .addOption(new Option("--token-lifetime <seconds>", "lifetime of bearer tokens").env(env.tokenLifetimeSeconds).default("21600"))
  .addOption(new Option("--public-url <url>", "base URL clients reach the emulator at, when behind a proxy").env(env.publicUrl))
  .addOption(new Option("--strict", "check every response against the contract").env(env.strict))
  .addOption(new Option("--executor <kind>", "how jobs run").choices(executorKinds).env(env.executor).default("auto"))
  .addOption(new Option("--capacity-vcpus <n>", "vCPUs of jobs that run at once (Docker executor)").env(env.capacityVcpus))
  .addOption(new Option("--job-network <mode>", "network of job containers: host or none").env(env.jobNetwork))
  .addOption(new Option("--simulation <json>", "profile of the simulated executor, as JSON or @file").env(env.simulation))
  .addOption(new Option("--workspace-vcpu-limit <n>", "vCPU limit of the default workspace").env(env.workspaceVcpuLimit))
  .addOption(new Option("--seed <file>", "JSON file of extra workspaces and users to create").env(env.seed))
  .addOption(new Option("--log-requests", "log every request to stderr").env(env.logRequests))
  .action(async (flags) => {
    const emulator = await startEmulator({
      port: Number(flags.port),
      host: flags.host,
      inMemory: truthy(flags.inMemory),
      ...(truthy(flags.inMemory) ? {} : { dataDir: resolve(flags.dataDir) }),
      ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
      tokenLifetimeSeconds: Number(flags.tokenLifetime),
      ...(flags.publicUrl ? { publicUrl: flags.publicUrl } : {}),
      strict: truthy(flags.strict),
      executor: flags.executor,
      ...(flags.capacityVcpus !== undefined ? { capacityVcpus: Number(flags.capacityVcpus) } : {}),
      ...(flags.jobNetwork ? { jobNetwork: flags.jobNetwork } : {}),
      ...(flags.simulation ? { simulation: jsonArgument(flags.simulation) } : {}),
      ...(flags.workspaceVcpuLimit !== undefined ? { workspaceVcpuLimit: Number(flags.workspaceVcpuLimit) } : {}),
      ...(flags.seed ? { seed: jsonArgument(`@${flags.seed}`) } : {}),
      logRequests: truthy(flags.logRequests),
      log: (line) => process.stderr.write(`${line}\n`),
      detachJobsOnStop: true,
    });
    process.stdout.write(
      [
        "Rescale HTC emulator is running",
        `  base URL   ${emulator.baseUrl}`,
        `  API key    ${emulator.apiKey}`,
        `  workspace  ${emulator.workspaceId}`,
        `  state      ${truthy(flags.inMemory) ? "in memory" : resolve(flags.dataDir)}`,
        `  executor   ${emulator.services.executorName()}`,
        "",
        `  export HTC_BASE_URL=${emulator.baseUrl} RESCALE_API_KEY=${emulator.apiKey}`,
        "",
      ].join("\n"),
    );
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`received ${signal}, stopping\n`);
      emulator.stop().then(
        () => process.exit(0),
        (error) => {
          process.stderr.write(`error while stopping: ${error}\n`);
          process.exit(1);
        },
      );
    };
    process.on("SIGINT", () => shutdown("SIGINT"));
    process.on("SIGTERM", () => shutdown("SIGTERM"));
  });

/** A JSON value given inline or, with a leading @, as a file name. */
function jsonArgument(value: string): never {
  // startEmulator() validates the value, so a wrong shape fails with the option's name.
  return JSON.parse(value.startsWith("@") ? readFileSync(value.slice(1), "utf8") : value) as never;
}

/** Flags backed by environment variables arrive as strings ("1", "true", "false"). */
function truthy(value: unknown): boolean {
  if (typeof value === "string") return !["", "0", "false", "no", "off"].includes(value.toLowerCase());
  return Boolean(value);
}

program.parseAsync(process.argv).catch((error) => {
  process.stderr.write(`htc-emulator: ${error instanceof Error ? error.message : error}\n`);
  process.exit(1);
});
