// The command line: the flags of cli-options.ts (each backed by an HTC_EMULATOR_* variable) → startEmulator().
// `htc emulator start` of @htcemu/cli uses the same pieces, so nothing is configured in two places.
import { Command, CommanderError } from "commander";
import { addEmulatorOptions, type EmulatorFlags, runningBanner, startOptionsFromFlags } from "./cli-options.js";
import { type RunningEmulator, type StartOptions, startEmulator } from "./emulator.js";
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
  const options = optionsFromFlags(flags);
  const stop = stopOnSignals();
  const emulator = await startEmulator({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  stop.attach(emulator);
  process.stdout.write(runningBanner(emulator, flags, await offParts(emulator)));
});

/**
 * SIGTERM (`docker stop`, the emulator as a container's PID 1, where an unhandled SIGTERM is ignored) and SIGINT
 * stop the emulator cleanly and exit 0: SQLite is closed, running job containers are left to the next start on
 * the same data dir (or stopped when the state is in memory). A signal during start-up stops the emulator once it
 * is up; a second signal exits at once.
 */
function stopOnSignals(): { attach(emulator: RunningEmulator): void } {
  let emulator: RunningEmulator | undefined;
  let received: NodeJS.Signals | undefined;
  const stop = () => {
    const started = performance.now();
    emulator!.stop().then(
      () => {
        process.stderr.write(`htc-emulator: stopped in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
        process.exit(0);
      },
      (error) => {
        process.stderr.write(`htc-emulator: error while stopping: ${error instanceof Error ? error.message : error}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`htc-emulator: received ${signal} again, exiting at once\n`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    received = signal;
    process.stderr.write(`htc-emulator: received ${signal}, stopping\n`);
    if (emulator) stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    attach(running) {
      emulator = running;
      if (received) stop();
    },
  };
}

// `pnpm emulator -- --help` hands a literal "--" through; it is not an argument.
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();
program.parseAsync(argv, { from: "user" }).catch((error) => {
  // Commander printed its own message (and exits 0 after --help or --version).
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.stderr.write(`htc-emulator: ${error instanceof Error ? error.message : error}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
