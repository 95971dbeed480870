// The command line: the flags of cli-options.ts (each backed by an HTC_EMULATOR_* variable) → startEmulator().
// `htc emulator start` of @htcemu/cli uses the same pieces, so nothing is configured in two places.
import { Command, CommanderError } from "commander";
import { addEmulatorOptions, type EmulatorFlags, runningBanner, startOptionsFromFlags } from "./cli-options.js";
import { type StartOptions, startEmulator } from "./emulator.js";
import { resolveOptions } from "./options.js";
import { offParts } from "./parts.js";

/** A flag's value is wrong: exit code 2, like commander's own parse errors. */
class UsageError extends Error {}

/** The options the flags stand for, checked before anything starts (a bad value is a usage error, not a crash). */
function optionsFromFlags(flags: EmulatorFlags): StartOptions {
  try {
    const options = startOptionsFromFlags(flags);
    resolveOptions(options);
    return options;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

const program = addEmulatorOptions(
  new Command("htc-emulator")
    .description("A local emulator of the Rescale HTC API")
    // Parse errors (unknown flags, values outside a flag's choices) are one line and exit code 2.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`htc-emulator: ${text.replace(/^error: /, "")}`) }),
).action(async (flags: EmulatorFlags) => {
  const emulator = await startEmulator({
    ...optionsFromFlags(flags),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(runningBanner(emulator, flags, await offParts(emulator)));
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

// `pnpm emulator -- --help` hands a literal "--" through; it is not an argument.
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();
program.parseAsync(argv, { from: "user" }).catch((error) => {
  // Commander printed its own message (and exits 0 after --help or --version).
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.stderr.write(`htc-emulator: ${error instanceof Error ? error.message : error}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
