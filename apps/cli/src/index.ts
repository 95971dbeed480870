// `htc`: the command line of @htcemu — the command groups of Rescale's official `htc` CLI, built on
// @htcemu/client, against production or the local emulator. Run with `pnpm htc …` or the `htc` binary.
import { pathToFileURL } from "node:url";
import { invocationDir } from "@htcemu/emulator/invocation";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { registerAuthCommands } from "./commands/auth.js";
import { registerConfigCommands } from "./commands/config.js";
import { type EmulatorCli, loadEmulatorCli, registerEmulatorCommands } from "./commands/emulator.js";
import { registerImageCommands } from "./commands/image.js";
import { registerJobCommands } from "./commands/job.js";
import { registerMetricsCommands } from "./commands/metrics.js";
import { registerProjectCommands } from "./commands/project.js";
import { registerRegionCommands } from "./commands/region.js";
import { registerStorageCommands } from "./commands/storage.js";
import { registerTaskCommands } from "./commands/task.js";
import { registerVersionCommand } from "./commands/version.js";
import { registerWorkspaceCommands } from "./commands/workspace.js";
import { aliasOf } from "./commands/common.js";
import {
  activeSessions,
  CLI_VERSION,
  ConfigStore,
  configFilePath,
  type GlobalOptions,
  outputFormatOf,
  signalForwarding,
} from "./context.js";
import { commanderExitCode, describeError, ExitCode, ExitSignal } from "./errors.js";
import { formatData, OUTPUT_FORMATS, type OutputFormat } from "./output.js";

/** Programs whose parse error commander has printed already. */
const reported = new WeakSet<Command>();

export function createProgram(options: { emulatorCli?: EmulatorCli } = {}): Command {
  const program = new Command("htc")
    .description(
      "Command line for the Rescale HTC API and its local emulator.\n" +
        "Targets are contexts of the config file (htc config …); flags and environment variables override them.",
    )
    .version(CLI_VERSION, "-V, --version")
    .addOption(
      new Option(
        "-o, --output <format>",
        "output format: text (tables), json (the API's JSON) or yaml (the same as YAML); default: the config file's output_format, else text",
      ).argParser(outputFormat),
    )
    .addOption(aliasOf(new Option("--json", "same as -o json").preset("json"), "output"))
    .option("--context <name>", "use this context of the config file (env HTC_CONTEXT)")
    .option("--url <url>", "API base URL, e.g. http://127.0.0.1:8787/api/v1 (env HTC_BASE_URL)")
    .option("--key <apiKey>", "Rescale API key (env RESCALE_API_KEY)")
    .option("--config <file>", "config file (env HTC_CONFIG; default $XDG_CONFIG_HOME/htcemu/config.json)")
    .option("--project-id <id>", "project to work on (env HTC_PROJECT_ID; default: the context's)")
    .option("--task-id <id>", "task to work on (env HTC_TASK_ID; default: the context's)")
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText(
      "after",
      [
        "",
        "Exit codes: 0 ok, 1 API error, 2 usage or configuration error, 3 jobs failed,",
        "            4 network error or timeout, 5 local tool or transfer failed, 130 interrupted;",
        "            `emulator exec` exits with its command's code (126/127: it could not be run/found).",
        "",
        "Examples (the official htc's command lines work as they are):",
        "  htc emulator start --in-memory --executor simulated --write-context",
        "  htc emulator exec --executor simulated -- npm test",
        "  htc config set api_url https://htc.rescale.com/api/v1      (the key: RESCALE_API_KEY, or htc auth login)",
        "  htc config set prod --url https://htc.rescale.com/api/v1 --key $RESCALE_API_KEY",
        "  htc config context use emulator",
        "  htc project create project.json -o json",
        "  htc project create --name demo --use && htc task create sweep --use",
        "  htc job submit jobs.json --group g1 -e MODE=fast,SEED=7",
        "  htc job submit --image app:v1 --command 'run --index $AWS_BATCH_JOB_ARRAY_INDEX' --count 2500 --group g1",
        "  htc job get --group g1 -L 10 -o yaml",
        "  htc job watch --group g1",
      ].join("\n"),
    );

  registerAuthCommands(program);
  registerConfigCommands(program);
  registerProjectCommands(program);
  registerTaskCommands(program);
  registerJobCommands(program);
  registerImageCommands(program);
  registerStorageCommands(program);
  registerRegionCommands(program);
  registerMetricsCommands(program);
  registerWorkspaceCommands(program);
  registerVersionCommand(program);
  registerEmulatorCommands(program, options.emulatorCli);
  reportParseErrorsOnOneLine(program);
  return program;
}

/** Parses `-o/--output`: text, json or yaml (any case). */
function outputFormat(value: string): OutputFormat {
  const format = value.toLowerCase() as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) throw new InvalidArgumentError(`must be one of ${OUTPUT_FORMATS.join(", ")}`);
  return format;
}

/**
 * Commander's parse errors (unknown command or option, missing or extra argument, bad value) as one line naming
 * the command's help, like every other usage error of htc.
 */
function reportParseErrorsOnOneLine(program: Command): void {
  const visit = (command: Command, path: string) => {
    command.configureOutput({
      outputError: (text, write) => {
        reported.add(program);
        const message = text
          .replace(/^error: /, "")
          .replace(/\s*\n\s*/g, " ")
          .trim();
        write(`htc: ${message} (see \`${path} --help\`)\n`);
      },
    });
    for (const sub of command.commands) visit(sub, `${path} ${sub.name()}`);
  };
  visit(program, "htc");
}

/** Runs the command line and resolves with the exit code (never calls process.exit). */
export async function main(argv: string[] = process.argv): Promise<number> {
  // `pnpm htc -- …` (and the root script `pnpm --filter @htcemu/cli run htc --`) hand over a leading `--`.
  if (argv[2] === "--") argv = [...argv.slice(0, 2), ...argv.slice(3)];
  const program = createProgram(needsEmulatorCli(argv.slice(2)) ? { emulatorCli: await loadEmulatorCli() } : {});
  let interrupted = 0;
  const onSigint = () => {
    if (signalForwarding.active) return;
    interrupted++;
    if (interrupted > 1) process.exit(ExitCode.INTERRUPTED);
    for (const session of activeSessions) session.controller.abort(Object.assign(new Error("interrupted"), { name: "AbortError" }));
  };
  process.on("SIGINT", onSigint);
  try {
    await program.parseAsync(argv);
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      const code = commanderExitCode(error);
      // Commander prints its own parse errors; one raised inside a command (a bad value) is printed here.
      if (code !== ExitCode.OK && !reported.has(program)) process.stderr.write(`htc: ${error.message.replace(/^error: /, "")}\n`);
      return code;
    }
    if (error instanceof ExitSignal) return error.exitCode;
    const described = describeError(interrupted > 0 ? Object.assign(new Error("interrupted"), { name: "AbortError" }) : error);
    const globals = program.opts() as GlobalOptions;
    const format = outputFormatOf(globals, new ConfigStore(configFilePath(globals.config, process.env)));
    if (format !== "text") {
      // Machine-readable like the results: one line of JSON, or a YAML document.
      const body = { error: { ...described.json, exitCode: described.exitCode } };
      process.stderr.write(format === "json" ? `${JSON.stringify(body)}\n` : formatData("yaml", body));
    } else {
      process.stderr.write(`htc: ${described.message}\n`);
      if (described.hint) process.stderr.write(`  hint: ${described.hint}\n`);
    }
    if (process.env["HTC_DEBUG"] && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return described.exitCode;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** `emulator start` and `emulator exec` declare the emulator's flags: only they load its option module. */
function needsEmulatorCli(args: string[]): boolean {
  const emulator = args.indexOf("emulator");
  if (emulator < 0) return false;
  const rest = args.slice(emulator + 1);
  const end = rest.indexOf("--");
  const own = end < 0 ? rest : rest.slice(0, end);
  return own.includes("start") || own.includes("exec");
}

/** Runs `htc` as a process: sets the exit code and makes sure nothing idle keeps the process alive afterwards. */
export async function run(argv: string[] = process.argv): Promise<void> {
  // `pnpm htc …` runs inside apps/cli: the files a user names (job definitions, uploads, reports) are relative to
  // the folder they typed the command in.
  const here = invocationDir();
  if (here !== process.cwd()) process.chdir(here);
  // `htc job get | head`: a reader that stops early ends the command quietly, as with other Unix tools.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const code = await main(argv);
  process.exitCode = code;
  // Idle keep-alive sockets must not hold a finished command open.
  setTimeout(() => process.exit(code), 200).unref();
}

// `tsx src/index.ts …` (the `htc` script of package.json) runs the program; bin/htc.js calls run() itself.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
